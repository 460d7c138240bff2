package cli

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"sync"
)

// A batch run over a large log (the wrapper from cron, over last night's
// log) is short-lived, and most of the memory it takes is garbage by the
// end; on a virtual machine each page it touches for the first time costs
// 10 to 50 µs (a fault the host serves too). TuneBatch sets the Go runtime
// up for such a run:
//
//   - no collection until the heap reaches batchLimit (64 MiB): a run over
//     a few hundred MB of log then does none, where the default collects
//     7 or 8 times, and pays for each in the marking and in the faults of
//     a heap that grows to twice its live part. Once the heap that is
//     live after a collection exceeds half the limit (a site with more
//     accounts than that fits), the default (GOGC=100, no limit) is back:
//     the limit is never a ceiling the collector runs against.
//   - where the kernel gives transparent huge pages on request
//     (/sys/kernel/mm/transparent_hugepage/enabled is "madvise", as on
//     Debian and Ubuntu), the heap's first batchHuge bytes are asked for
//     in huge pages: a fault per 2 MB instead of per 4 KB.
//
// It does nothing when GOGC or GOMEMLIMIT is set (the user's choice), or
// below batchMin bytes of input: a small run is over before either pays.
// A daemon must not call it.
//
// scripts/bench-pipeline measures it: on the 300 MB log, the wrapper went
// from 2.04 to about 1.45 times loganom-parse alone.
func TuneBatch(inputBytes int64, getenv func(string) string) {
	if inputBytes < batchMin || getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		return
	}
	tuneOnce.Do(func() {
		hugeHeap(batchHuge)
		debug.SetGCPercent(-1)
		debug.SetMemoryLimit(batchLimit)
		watchLive()
	})
}

const (
	batchMin   = 32 << 20
	batchLimit = 64 << 20
	batchHuge  = 48 << 20
)

var tuneOnce sync.Once

// sentinel is garbage from the start: its cleanup runs after each
// collection that finds it, and makes the next one (a pointer, so that
// it is not a tiny object, whose cleanup may never run).
type sentinel struct{ _ *byte }

// watchLive gives the default back once the live heap exceeds half the
// limit, checked after each collection.
func watchLive() {
	runtime.AddCleanup(new(sentinel), func(struct{}) {
		s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		metrics.Read(s)
		if s[0].Value.Kind() == metrics.KindUint64 && s[0].Value.Uint64() > batchLimit/2 {
			debug.SetGCPercent(100)
			debug.SetMemoryLimit(math.MaxInt64)
			return
		}
		watchLive()
	}, struct{}{})
}

// InputBytes is the size of the logs named, as far as a stat tells: a
// compressed log counts five times its size (about what mail logs
// shrink to); standard input, and what cannot be read, count nothing.
func InputBytes(names []string) int64 {
	var n int64
	for _, name := range names {
		if name == "-" {
			continue
		}
		fi, err := os.Stat(name)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		size := fi.Size()
		for _, ext := range []string{".gz", ".bz2", ".xz", ".zst"} {
			if strings.HasSuffix(name, ext) {
				size *= 5
				break
			}
		}
		n += size
	}
	return n
}
