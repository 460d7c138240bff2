//go:build !linux

package input

import "os/exec"

// dieWithParent: only Linux has a signal at the parent's death.
func dieWithParent(*exec.Cmd) (done func()) { return func() {} }
