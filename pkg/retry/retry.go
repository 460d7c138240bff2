// Package retry is loganom's one way of trying again: a number of tries,
// waits that double up to a limit, with a random share (jitter) so that
// many clients that failed together do not come back together, a
// server's Retry-After honoured, and the context's end obeyed at once,
// during a wait too.
//
// The operation says what to do with its error: nil is success, an error
// marked with Permanent is not tried again, an error marked with After
// is tried again no sooner than the server asked, any other error is
// tried again after the next wait.
//
// It imports only the standard library, so that every package can use it.
package retry

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"time"
)

// Policy is how often and how long to try. The zero Policy tries once.
type Policy struct {
	// Attempts is the number of tries in all, the first included; below
	// 1 it is 1.
	Attempts int
	// Backoff is the wait before the second try, doubled before each
	// next one (before the jitter).
	Backoff time.Duration
	// Max is the longest wait, a server's Retry-After included; 0 or
	// less: no limit.
	Max time.Duration
	// Jitter is the share of each wait that is random, from 0 to 1: the
	// wait is drawn from [w×(1−Jitter), w] where w is the doubled backoff.
	// 0: no jitter; 0.5: "equal jitter"; 1: "full jitter".
	Jitter float64
	// Timeout bounds each try; 0 or less: none but the context's.
	Timeout time.Duration

	// Rand returns a number in [0, 1); default math/rand/v2.Float64.
	// Tests set it.
	Rand func() float64
	// Sleep waits d, or less when ctx ends or something else calls the
	// waiting off, and returns why it stopped early (nil when it did
	// not). Default: a timer, stopped by ctx's end. Tests set it to
	// record the waits; a caller may set it to end the waiting on an
	// event of its own as well as ctx's end.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Do calls op until it succeeds, returns a Permanent error, or has been
// called p.Attempts times, waiting between tries. attempt is 1 for the
// first try. op gets ctx, bounded by p.Timeout when that is set.
//
// Do returns nil, or op's last error (without the Permanent or After
// mark when that is outermost), or, when ctx ends before a wait or
// during it, ctx.Err(), or the error Sleep returned.
func (p Policy) Do(ctx context.Context, op func(ctx context.Context, attempt int) error) error {
	attempts := max(p.Attempts, 1)
	sleep := p.Sleep
	if sleep == nil {
		sleep = Sleep
	}
	for attempt := 1; ; attempt++ {
		err := p.try(ctx, op, attempt)
		if err == nil {
			return nil
		}
		if pe := (*permanent)(nil); errors.As(err, &pe) {
			return unmark(err)
		}
		var after time.Duration
		if ae := (*afterError)(nil); errors.As(err, &ae) {
			after = ae.d
		}
		if attempt >= attempts {
			return unmark(err)
		}
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if serr := sleep(ctx, p.wait(attempt, after)); serr != nil {
			return serr
		}
	}
}

func (p Policy) try(ctx context.Context, op func(context.Context, int) error, attempt int) error {
	if p.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.Timeout)
		defer cancel()
	}
	return op(ctx, attempt)
}

// wait is the wait after try n (1 for the first) failed; after is the
// server's Retry-After, 0 when it gave none.
func (p Policy) wait(n int, after time.Duration) time.Duration {
	w := max(p.Backoff, 0)
	for i := 1; i < n && w > 0; i++ {
		if w > math.MaxInt64/2 {
			w = math.MaxInt64
			break
		}
		w *= 2
	}
	if p.Max > 0 {
		w = min(w, p.Max)
		after = min(after, p.Max)
	}
	if j := min(max(p.Jitter, 0), 1); j > 0 && w > 0 {
		r := rand.Float64
		if p.Rand != nil {
			r = p.Rand
		}
		cut := j * min(max(r(), 0), 1) * float64(w)
		if cut >= float64(w) {
			w = 0
		} else {
			w -= time.Duration(cut)
		}
	}
	return max(w, after)
}

// Sleep waits d or until ctx ends, and then returns ctx.Err().
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Permanent marks err as one that another try will not mend: Do returns
// it at once. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanent{err}
}

type permanent struct{ err error }

func (e *permanent) Error() string { return e.err.Error() }
func (e *permanent) Unwrap() error { return e.err }

// After marks err as one to try again no sooner than d (a server's
// Retry-After; Policy.Max still limits it). The wait is the longer of d
// and the policy's own. After(d, nil) is nil.
func After(d time.Duration, err error) error {
	if err == nil {
		return nil
	}
	return &afterError{d, err}
}

type afterError struct {
	d   time.Duration
	err error
}

func (e *afterError) Error() string { return e.err.Error() }
func (e *afterError) Unwrap() error { return e.err }

// unmark takes off the marks of Permanent and After when they are
// outermost, so that the caller gets its own error back.
func unmark(err error) error {
	for {
		switch e := err.(type) {
		case *permanent:
			err = e.err
		case *afterError:
			err = e.err
		default:
			return err
		}
	}
}
