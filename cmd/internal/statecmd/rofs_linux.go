package statecmd

import "syscall"

// readOnlyFS tells whether path is on a file system mounted read-only (a
// bind mount with ro included): statfs(2)'s ST_RDONLY. access(2) says
// EROFS of it only to a user the modes let write; to the others, EACCES.
func readOnlyFS(path string) bool {
	const stRdonly = 0x1 // ST_RDONLY, <sys/statvfs.h>
	var fs syscall.Statfs_t
	return syscall.Statfs(path, &fs) == nil && fs.Flags&stRdonly != 0
}
