package app

import (
	"errors"

	"github.com/loganom/loganom/cmd/internal/cli"
)

// usageError is a bad flag or configuration value, found before any input
// is read: the command exits with cli.ExitUsage (2), not cli.ExitError (1).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// ExitCode is cli.ExitUsage.
func (e usageError) ExitCode() int { return cli.ExitUsage }

// exitCode is the exit code for an error that stops a command before its
// run: the error's own (a usageError's is cli.ExitUsage), or cli.ExitError.
func exitCode(err error) int {
	var c interface{ ExitCode() int }
	if errors.As(err, &c) {
		return c.ExitCode()
	}
	return cli.ExitError
}
