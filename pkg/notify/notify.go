// Package notify sends the report where the postmaster is: by mail
// (SMTP), to Mattermost, to Microsoft Teams, to any webhook, and to a
// script of theirs. One failing channel never stops the others; transient
// failures are retried with backoff; secrets never appear in messages.
package notify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/loganom/loganom/pkg/report"
)

// Message is what is sent: the accounts that look compromised.
type Message struct {
	Host     string // the mail server, for subjects and titles
	Accounts []*report.Account
	Seen     int // accounts with logins after the whitelist
}

// Channel is one way of sending.
type Channel interface {
	Name() string
	// Preview returns what Send would send, for --dry-run.
	Preview(m *Message) (string, error)
	Send(ctx context.Context, m *Message) error
}

// Permanent marks an error that another try will not mend (a refused
// recipient, a 404); everything else is retried.
type Permanent struct{ Err error }

func (p Permanent) Error() string { return p.Err.Error() }
func (p Permanent) Unwrap() error { return p.Err }

// Retry is how often and how long to try.
type Retry struct {
	Attempts int           // default 4
	Backoff  time.Duration // first wait, doubled each time; default 2 s
	Timeout  time.Duration // per attempt; default 30 s
}

// Result is what came of one channel.
type Result struct {
	Channel  string
	Attempts int
	Err      error
}

// SendAll sends m on every channel, each on its own, with retries, and
// returns one result per channel, in order.
func SendAll(ctx context.Context, chans []Channel, m *Message, r Retry) []Result {
	if r.Attempts <= 0 {
		r.Attempts = 4
	}
	if r.Backoff <= 0 {
		r.Backoff = 2 * time.Second
	}
	if r.Timeout <= 0 {
		r.Timeout = 30 * time.Second
	}
	out := make([]Result, len(chans))
	done := make(chan struct{})
	for i, ch := range chans {
		go func() {
			defer func() { done <- struct{}{} }()
			res := Result{Channel: ch.Name()}
			wait := r.Backoff
			for res.Attempts < r.Attempts {
				if res.Attempts > 0 {
					select {
					case <-time.After(wait):
					case <-ctx.Done():
						res.Err = ctx.Err()
						out[i] = res
						return
					}
					wait *= 2
				}
				res.Attempts++
				actx, cancel := context.WithTimeout(ctx, r.Timeout)
				res.Err = ch.Send(actx, m)
				cancel()
				var p Permanent
				if res.Err == nil || errors.As(res.Err, &p) {
					break
				}
			}
			out[i] = res
		}()
	}
	for range chans {
		<-done
	}
	return out
}

// Error describes a failed result in one line.
func (r Result) Error() string {
	return fmt.Sprintf("%s: %v (after %d %s)", r.Channel, r.Err, r.Attempts, map[bool]string{true: "try", false: "tries"}[r.Attempts == 1])
}
