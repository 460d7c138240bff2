//go:build unix

package notify

import (
	"io/fs"
	"os/exec"
	"syscall"
)

// ownGroup runs the script in a process group of its own, and makes the
// end of its context kill that whole group: the script and whatever it
// started.
func ownGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}

// owner is the file's owner.
func owner(fi fs.FileInfo) (int, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}
