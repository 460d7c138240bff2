//go:build linux

package input

import (
	"os/exec"
	"runtime"
	"syscall"
)

// dieWithParent has journalctl killed (SIGTERM) when the process that
// started it dies, whatever kills it: SIGPIPE once a reader such as head
// is gone, SIGKILL, a crash. Else journalctl --follow lives on, orphaned,
// until it next writes, which on a quiet journal may be hours. The signal
// is tied to the thread that starts the child (it comes when that thread
// ends), so the caller keeps its goroutine on that thread while the child
// runs: it calls the function returned once the child is waited for.
func dieWithParent(cmd *exec.Cmd) (done func()) {
	runtime.LockOSThread()
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	return runtime.UnlockOSThread
}
