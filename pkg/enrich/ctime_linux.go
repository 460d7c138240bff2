package enrich

import (
	"os"
	"syscall"
)

// ctimeIno returns a file's change time (ns) and inode.
func ctimeIno(fi os.FileInfo) (int64, uint64) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0
	}
	return int64(st.Ctim.Sec)*1e9 + int64(st.Ctim.Nsec), uint64(st.Ino) // int32 fields on 386
}
