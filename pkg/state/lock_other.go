//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package state

import "context"

// lockFile does nothing where flock(2) is missing (Windows, Solaris, AIX,
// Plan 9...): loganom's deliveries run from cron or a systemd timer on a
// Unix mail server; elsewhere two runs at once may both send a pending
// alert.
func lockFile(ctx context.Context, path string, exclusive bool) (func(), error) {
	return func() {}, nil
}
