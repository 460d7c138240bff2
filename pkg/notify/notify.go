// Package notify sends the report where the postmaster is: by mail
// (SMTP), to Mattermost, to Microsoft Teams, to any webhook, and to a
// script of theirs. One failing channel never stops the others; transient
// failures are retried with backoff; secrets never appear in messages.
package notify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/loganom/loganom/pkg/report"
	"github.com/loganom/loganom/pkg/retry"
)

// Message is what is sent: the accounts that look compromised.
type Message struct {
	Host     string // the mail server, for subjects and titles
	Accounts []*report.Account
	Seen     int // accounts with logins after the whitelist
	// Gaps is what the report could not see: the inputs not read in
	// full, the logins whose geo lookups failed. Each format says so
	// first (INCOMPLETE), as the report on stdout does.
	Gaps report.Gaps
	// Key, when set, names what is sent for good (the state's alert
	// numbers and the channel): sent again after a crash, the same
	// alerts carry the same key, so that the receiver can tell a
	// duplicate (the webhook's Idempotency-Key header and "key" field,
	// the mail's Message-ID).
	Key string
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

// Once is a channel that SendAll runs once, with neither retry nor
// timeout of its own, because it sends per account and keeps its own:
// Exec (a script may have side effects that a second run would repeat)
// and UserNotice (each notice with its own tries).
type Once interface {
	Channel
	Once()
}

// Retry is how often and how long to try: the [NOTIFY] settings.
type Retry struct {
	Attempts int           // default 4
	Backoff  time.Duration // first wait, doubled each time; default 2 s
	Timeout  time.Duration // per attempt; default 30 s

	// sleep replaces retry.Sleep in tests, to record the waits.
	sleep func(context.Context, time.Duration) error
}

// jitter is the random share of each wait between tries: "equal jitter",
// each wait between half the doubled backoff and all of it, so that
// channels (and notices) failing together do not all try again together.
const jitter = 0.5

// Policy is r as a retry.Policy, with the defaults filled in.
func (r Retry) Policy() retry.Policy {
	p := retry.Policy{Attempts: r.Attempts, Backoff: r.Backoff, Timeout: r.Timeout, Jitter: jitter, Sleep: r.sleep}
	if p.Attempts <= 0 {
		p.Attempts = 4
	}
	if p.Backoff <= 0 {
		p.Backoff = 2 * time.Second
	}
	if p.Timeout <= 0 {
		p.Timeout = 30 * time.Second
	}
	return p
}

// try calls send until it succeeds, fails for good (Permanent), or has
// been tried r.Attempts times, each try within r.Timeout; it returns the
// number of tries and the last error (or the context's, when it ended
// during a wait).
func (r Retry) try(ctx context.Context, send func(context.Context) error) (attempts int, err error) {
	err = r.Policy().Do(ctx, func(ctx context.Context, attempt int) error {
		attempts = attempt
		err := send(ctx)
		if p := (Permanent{}); errors.As(err, &p) || Sent(err) {
			return retry.Permanent(err) // or sent all the same: not again
		}
		return err
	})
	return attempts, err
}

// Result is what came of one channel.
type Result struct {
	Channel  string
	Attempts int // 0 for a Once channel
	Err      error
}

// AccountError is the failure of a channel that sends per account
// (Exec, UserNotice) for one account.
type AccountError struct {
	User     string
	Attempts int // 0 when not retried
	Err      error
}

// AccountErrors are a per-account channel's failures, in account order.
type AccountErrors []AccountError

func (e AccountErrors) Error() string {
	lines := make([]string, len(e))
	for i, a := range e {
		lines[i] = a.line()
	}
	return strings.Join(lines, "; ")
}

func (a AccountError) line() string {
	s := fmt.Sprintf("for %s: %v", report.Escape(a.User), a.Err)
	if a.Attempts > 0 {
		s += tries(a.Attempts)
	}
	return s
}

func tries(n int) string {
	if n == 1 {
		return " (after 1 try)"
	}
	return fmt.Sprintf(" (after %d tries)", n)
}

// SendAll sends m on every channel, each on its own, with retries, and
// returns one result per channel, in order.
func SendAll(ctx context.Context, chans []Channel, m *Message, r Retry) []Result {
	out := make([]Result, len(chans))
	var wg sync.WaitGroup
	for i, ch := range chans {
		wg.Go(func() {
			res := Result{Channel: ch.Name()}
			if _, ok := ch.(Once); ok {
				res.Err = ch.Send(ctx, m)
			} else {
				res.Attempts, res.Err = r.try(ctx, func(ctx context.Context) error { return ch.Send(ctx, m) })
			}
			out[i] = res
		})
	}
	wg.Wait()
	return out
}

// Error describes a failed result in one line.
func (r Result) Error() string { return strings.Join(r.Lines(), "; ") }

// Lines describe a failed result, one line per failure: one for most
// channels, one per account that failed for Exec and UserNotice.
func (r Result) Lines() []string {
	var ae AccountErrors
	if errors.As(r.Err, &ae) {
		lines := make([]string, len(ae))
		for i, a := range ae {
			lines[i] = r.Channel + " " + a.line()
		}
		return lines
	}
	s := fmt.Sprintf("%s: %v", r.Channel, r.Err)
	if r.Attempts > 0 {
		s += tries(r.Attempts)
	}
	return []string{s}
}
