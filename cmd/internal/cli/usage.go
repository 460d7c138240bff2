package cli

import (
	"errors"
	"fmt"
)

// ExitAnomalies is the exit code of --exit-code when an account looks
// compromised (or a sender is over quota).
const ExitAnomalies = 3

// UsageError is a bad flag or configuration value, found before any input
// is read: the command exits with ExitUsage (2), not ExitError (1).
// Hint, when set, is printed after it (Logger.Errorf).
type UsageError struct {
	Err  error
	Hint string
}

func (e UsageError) Error() string { return e.Err.Error() }
func (e UsageError) Unwrap() error { return e.Err }

// ExitCode is ExitUsage.
func (e UsageError) ExitCode() int { return ExitUsage }

// Usagef is a UsageError with a formatted message (%w wraps).
func Usagef(format string, args ...any) error {
	return UsageError{Err: fmt.Errorf(format, args...)}
}

// ExitCodeOf is the exit code for an error that stops a command before its
// run: the error's own (a UsageError's is ExitUsage), or ExitError.
func ExitCodeOf(err error) int {
	var c interface{ ExitCode() int }
	if errors.As(err, &c) {
		return c.ExitCode()
	}
	return ExitError
}
