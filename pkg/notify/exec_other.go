//go:build !unix

package notify

import (
	"io/fs"
	"os/exec"
)

// ownGroup: without process groups, the end of the context kills the
// script alone (os/exec's default).
func ownGroup(cmd *exec.Cmd) {}

// owner is not known here.
func owner(fi fs.FileInfo) (int, bool) { return 0, false }
