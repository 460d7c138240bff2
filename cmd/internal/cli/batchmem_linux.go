package cli

import (
	"bytes"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"unsafe"
)

// hugeHeap asks for transparent huge pages on the heap's next n bytes,
// when the kernel gives them on request only: it allocates n bytes at the
// heap's end, fresh from the kernel (so neither zeroed nor touched: they
// cost no memory), marks them with madvise(MADV_HUGEPAGE), and lets the
// collector free them, for the allocations to come. An error changes
// nothing but the speed.
func hugeHeap(n int) {
	mode, _ := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	overcommit, _ := os.ReadFile("/proc/sys/vm/overcommit_memory")
	if !wantHugeHeap(mode, overcommit) {
		return
	}
	size := uintptr(2 << 20)
	if b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size"); err == nil {
		if v, err := strconv.ParseUint(string(bytes.TrimSpace(b)), 10, 64); err == nil && v > 0 && v&(v-1) == 0 {
			size = uintptr(v)
		}
	}
	if uintptr(n) < 2*size {
		return
	}
	region := make([]byte, n)
	p := uintptr(unsafe.Pointer(unsafe.SliceData(region)))
	beg := (p + size - 1) &^ (size - 1)
	end := (p + uintptr(n)) &^ (size - 1)
	if beg < end {
		_ = syscall.Madvise(region[beg-p:end-p], syscall.MADV_HUGEPAGE)
	}
	region = nil
	runtime.GC()
}

// wantHugeHeap says, from the contents of
// /sys/kernel/mm/transparent_hugepage/enabled and
// /proc/sys/vm/overcommit_memory, whether hugeHeap should ask: only when
// huge pages are given on request ("always": nothing to ask; "never", or
// no THP: nothing to get), and not under strict overcommit (2), where the
// n bytes, though never touched, count against the commit limit, and a
// heap the kernel refuses is fatal to a Go program.
func wantHugeHeap(thp, overcommit []byte) bool {
	return bytes.Contains(thp, []byte("[madvise]")) && string(bytes.TrimSpace(overcommit)) != "2"
}
