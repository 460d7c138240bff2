package retry

import (
	"context"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"
)

var (
	errBusy = errors.New("busy")
	errGone = errors.New("gone")
)

// recorder is a Sleep that waits for nothing and records the waits.
type recorder struct{ waits []time.Duration }

func (r *recorder) sleep(ctx context.Context, d time.Duration) error {
	r.waits = append(r.waits, d)
	return ctx.Err()
}

// fixed returns the random numbers given, in turn, then the last again.
func fixed(fs ...float64) func() float64 {
	return func() float64 {
		f := fs[0]
		if len(fs) > 1 {
			fs = fs[1:]
		}
		return f
	}
}

func TestDo(t *testing.T) {
	const s = time.Second
	for _, c := range []struct {
		name     string
		p        Policy
		errs     []error // what op returns, try by try; nil after the end
		wantErr  error
		wantN    int
		wantWait []time.Duration
	}{
		{"first try succeeds", Policy{Attempts: 4, Backoff: s}, nil, nil, 1, nil},
		{"zero policy tries once", Policy{}, []error{errBusy, errBusy}, errBusy, 1, nil},
		{"waits double", Policy{Attempts: 4, Backoff: s}, []error{errBusy, errBusy, errBusy, errBusy}, errBusy, 4, []time.Duration{s, 2 * s, 4 * s}},
		{"success after retries", Policy{Attempts: 4, Backoff: s}, []error{errBusy, errBusy}, nil, 3, []time.Duration{s, 2 * s}},
		{"waits capped", Policy{Attempts: 6, Backoff: s, Max: 5 * s}, []error{errBusy, errBusy, errBusy, errBusy, errBusy, errBusy}, errBusy, 6, []time.Duration{s, 2 * s, 4 * s, 5 * s, 5 * s}},
		{"permanent stops at once", Policy{Attempts: 4, Backoff: s}, []error{errBusy, Permanent(errGone)}, errGone, 2, []time.Duration{s}},
		{"permanent wrapped stops too", Policy{Attempts: 4, Backoff: s}, []error{fmt.Errorf("x: %w", Permanent(errGone))}, fmt.Errorf("x: %w", errGone), 1, nil},
		{"retry-after longer than backoff", Policy{Attempts: 3, Backoff: s}, []error{After(30*s, errBusy), errBusy, errBusy}, errBusy, 3, []time.Duration{30 * s, 2 * s}},
		{"retry-after shorter than backoff", Policy{Attempts: 2, Backoff: 4 * s}, []error{After(s, errBusy), errBusy}, errBusy, 2, []time.Duration{4 * s}},
		{"retry-after capped by max", Policy{Attempts: 2, Backoff: s, Max: time.Minute}, []error{After(time.Hour, errBusy), errBusy}, errBusy, 2, []time.Duration{time.Minute}},
		{"retry-after on the last try", Policy{Attempts: 1, Backoff: s}, []error{After(s, errBusy)}, errBusy, 1, nil},
		{"no backoff", Policy{Attempts: 3}, []error{errBusy, errBusy, errBusy}, errBusy, 3, []time.Duration{0, 0}},
		{"equal jitter, low draw", Policy{Attempts: 3, Backoff: s, Jitter: 0.5, Rand: fixed(0)}, []error{errBusy, errBusy, errBusy}, errBusy, 3, []time.Duration{s, 2 * s}},
		{"equal jitter, high draw", Policy{Attempts: 3, Backoff: s, Jitter: 0.5, Rand: fixed(0.999)}, []error{errBusy, errBusy, errBusy}, errBusy, 3, []time.Duration{500500 * time.Microsecond, 1001 * time.Millisecond}},
		{"full jitter", Policy{Attempts: 3, Backoff: s, Jitter: 1, Rand: fixed(0.25, 0.75)}, []error{errBusy, errBusy, errBusy}, errBusy, 3, []time.Duration{750 * time.Millisecond, 500 * time.Millisecond}},
		{"jitter below retry-after", Policy{Attempts: 2, Backoff: 10 * s, Jitter: 1, Rand: fixed(0.9)}, []error{After(3*s, errBusy), errBusy}, errBusy, 2, []time.Duration{3 * s}},
		{"jitter over 1 is 1", Policy{Attempts: 2, Backoff: s, Jitter: 7, Rand: fixed(0.5)}, []error{errBusy, errBusy}, errBusy, 2, []time.Duration{500 * time.Millisecond}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var rec recorder
			c.p.Sleep = rec.sleep
			n := 0
			err := c.p.Do(context.Background(), func(ctx context.Context, attempt int) error {
				n++
				if attempt != n {
					t.Errorf("attempt %d on try %d", attempt, n)
				}
				if n <= len(c.errs) {
					return c.errs[n-1]
				}
				return nil
			})
			// the caller's own error, with no mark outermost
			root := c.wantErr
			if u := errors.Unwrap(root); u != nil {
				root = u
			}
			if _, marked := err.(*permanent); marked || fmt.Sprint(err) != fmt.Sprint(c.wantErr) || !errors.Is(err, root) {
				t.Errorf("err %#v, want %v", err, c.wantErr)
			}
			if _, marked := err.(*afterError); marked {
				t.Errorf("err %#v still marked", err)
			}
			if n != c.wantN {
				t.Errorf("%d tries, want %d", n, c.wantN)
			}
			if fmt.Sprint(rec.waits) != fmt.Sprint(c.wantWait) {
				t.Errorf("waits %v, want %v", rec.waits, c.wantWait)
			}
		})
	}
}

// With the default random source, each wait stays in its bounds, and the
// waits are not all the same (they would be, were there no jitter).
func TestJitterBounds(t *testing.T) {
	for _, j := range []float64{0, 0.3, 0.5, 1} {
		t.Run(fmt.Sprint(j), func(t *testing.T) {
			p := Policy{Attempts: 6, Backoff: 100 * time.Millisecond, Max: time.Second, Jitter: j}
			seen := map[time.Duration]bool{}
			for range 50 {
				var rec recorder
				p.Sleep = rec.sleep
				p.Do(context.Background(), func(context.Context, int) error { return errBusy })
				if len(rec.waits) != 5 {
					t.Fatalf("%d waits", len(rec.waits))
				}
				for i, w := range rec.waits {
					hi := min(100*time.Millisecond<<i, time.Second)
					lo := hi - time.Duration(j*float64(hi))
					if w < lo || w > hi {
						t.Errorf("wait %d: %v, want %v to %v", i+1, w, lo, hi)
					}
				}
				seen[rec.waits[0]] = true
			}
			if j > 0 && len(seen) < 2 || j == 0 && len(seen) != 1 {
				t.Errorf("jitter %v: %d different first waits in 50 runs", j, len(seen))
			}
		})
	}
}

// Waits that would overflow stay at the limit, or at the longest
// duration when there is none.
func TestWaitOverflow(t *testing.T) {
	for _, c := range []struct {
		p    Policy
		n    int
		want time.Duration
	}{
		{Policy{Backoff: time.Hour}, 200, math.MaxInt64},
		{Policy{Backoff: time.Hour, Max: 2 * time.Hour}, 200, 2 * time.Hour},
		{Policy{Backoff: math.MaxInt64, Jitter: 1, Rand: fixed(1)}, 3, 0},
		{Policy{Backoff: time.Second}, 1, time.Second},
		{Policy{Backoff: -time.Second}, 3, 0},
	} {
		if got := c.p.wait(c.n, 0); got != c.want {
			t.Errorf("%+v after try %d: %v, want %v", c.p, c.n, got, c.want)
		}
	}
}

// The context's end stops a wait at once, with the default Sleep: an hour's
// backoff does not hold Do back.
func TestCancelStopsWait(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	p := Policy{Attempts: 3, Backoff: time.Hour}
	done := make(chan error, 1)
	tried := make(chan struct{}, 3)
	go func() {
		done <- p.Do(ctx, func(context.Context, int) error {
			tried <- struct{}{}
			return errBusy
		})
	}()
	<-tried // the first try failed: Do goes to wait an hour
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) || len(tried) != 0 {
			t.Errorf("%v after %d more tries", err, len(tried))
		}
	case <-time.After(time.Minute):
		t.Fatal("Do still waiting a minute after the cancel")
	}
}

// A context already ended is not waited on, whatever Sleep does; and a
// Sleep that stops early for its own reason ends Do with that reason.
func TestStopBeforeAndDuringWait(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var rec recorder
	p := Policy{Attempts: 3, Backoff: time.Second, Sleep: rec.sleep}
	err := p.Do(ctx, func(context.Context, int) error { cancel(); return errBusy })
	if !errors.Is(err, context.Canceled) || len(rec.waits) != 0 {
		t.Errorf("%v, waits %v", err, rec.waits)
	}

	errDown := errors.New("server given up on")
	p.Sleep = func(context.Context, time.Duration) error { return errDown }
	tries := 0
	err = p.Do(context.Background(), func(context.Context, int) error { tries++; return errBusy })
	if err != errDown || tries != 1 {
		t.Errorf("%v after %d tries", err, tries)
	}
}

// Each try gets its own Timeout; the caller's context is not touched.
func TestTimeoutPerTry(t *testing.T) {
	var rec recorder
	p := Policy{Attempts: 2, Timeout: time.Millisecond, Sleep: rec.sleep}
	ctx := context.Background()
	tries := 0
	err := p.Do(ctx, func(ctx context.Context, _ int) error {
		tries++
		if _, ok := ctx.Deadline(); !ok {
			t.Error("no deadline on the try")
		}
		<-ctx.Done() // the timeout ends it; nothing else does
		return ctx.Err()
	})
	if !errors.Is(err, context.DeadlineExceeded) || tries != 2 || ctx.Err() != nil {
		t.Errorf("%v after %d tries", err, tries)
	}
	p.Timeout = 0
	p.Do(ctx, func(ctx context.Context, _ int) error {
		if _, ok := ctx.Deadline(); ok {
			t.Error("a deadline with no Timeout")
		}
		return nil
	})
}

func TestMarks(t *testing.T) {
	if Permanent(nil) != nil || After(time.Second, nil) != nil {
		t.Error("a mark on nil is not nil")
	}
	for _, err := range []error{Permanent(errGone), After(time.Second, errGone), Permanent(After(time.Second, errGone))} {
		if err.Error() != "gone" || !errors.Is(err, errGone) || unmark(err) != errGone {
			t.Errorf("%#v", err)
		}
	}
}
