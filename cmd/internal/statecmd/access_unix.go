//go:build unix

package statecmd

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// accessHint says why this process may not write the SQLite state at
// path, when it may not ("" when it may, or the file is not made yet): a
// postmaster running "loganom alerts" as himself, against the state of
// the user loganom (the units') or root. SQLite writes the state, and
// the -wal and -shm files beside it, even to read it, so a state that
// may be read but not written fails too.
func accessHint(path string) string {
	const wOK = 2 // W_OK
	for _, p := range []string{path, filepath.Dir(path)} {
		err := syscall.Access(p, wOK)
		switch {
		case err == nil:
			continue
		case errors.Is(err, syscall.EROFS),
			// a user the modes do not let write is told EACCES on a
			// read-only mount, not EROFS: root could not write it either
			(errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM)) && (readOnlyFS(p) || readOnlyFS(filepath.Dir(p))):
			return fmt.Sprintf("%s is on a read-only file system; loganom writes the state (and the -wal and -shm files beside it) even to read it", p)
		case !errors.Is(err, syscall.EACCES) && !errors.Is(err, syscall.EPERM):
			continue // not made yet: made by the open, whose error says what failed
		}
		// owner: the user's name, or "uid N" when it has none here (sudo
		// -u then takes "#N")
		owner, sudo, mode := "", "", os.FileMode(0)
		for _, q := range []string{p, filepath.Dir(p)} {
			if fi, err := os.Stat(q); err == nil {
				if st, ok := fi.Sys().(*syscall.Stat_t); ok {
					uid := strconv.FormatUint(uint64(st.Uid), 10)
					owner, sudo = "uid "+uid, "'#"+uid+"'"
					if u, err := user.LookupId(uid); err == nil {
						owner, sudo = u.Username, u.Username
					}
					p, mode = q, fi.Mode().Perm()
				}
				break
			}
		}
		if owner == "" {
			return fmt.Sprintf("this user may not write %s; loganom writes the state (and the -wal and -shm files beside it) even to read it: run as the user it belongs to, or as root", p)
		}
		as := "run as root"
		if owner != "root" {
			as = "run as " + owner + " (sudo -u " + sudo + " loganom …) or as root"
		}
		return fmt.Sprintf("%s belongs to %s (mode %04o), and this user may not write it; loganom writes the state (and the -wal and -shm files beside it) even to read it: %s", p, owner, mode, as)
	}
	return ""
}
