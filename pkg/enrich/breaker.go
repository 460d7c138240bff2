package enrich

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// GiveUpAfter is how many requests to one server (DNS queries, ipinfo
// requests) may fail in a row — time out, be refused, get a server error —
// with no answer from that server in between, before the server is not
// asked again for the rest of the run.
//
// A failure counts only when the request was sent after the server's last
// answer came: with hundreds of queries in flight, a busy resolver that drops
// some (dnsmasq drops what exceeds its limit) still answers others, and the
// queries it dropped were sent before those answers came, so they do not
// count. Only a server that answers nothing at all for a whole timeout while
// 20 requests wait is given up on. A dead server thus costs about
// GiveUpAfter plus the workers in flight requests, a few timeouts' time,
// however many addresses are left.
const GiveUpAfter = 20

// GaveUpError is the error of a lookup that was not made because its
// server stopped answering earlier in the run.
type GaveUpError struct {
	Server string // "DNS server 127.0.0.1:53", "ipinfo.io"
	Asked  string // what was sent to it: "queries", "requests"
	Failed int    // how many of them failed in a row
	Last   string // how the last of them failed: "timeout", "connection refused"
}

func (e *GaveUpError) Error() string { return "skipped: " + e.Server + " not answering" }

// Warning says it once for a person.
func (e *GaveUpError) Warning() string {
	return fmt.Sprintf("%s not answering: %d %s in a row failed (the last: %s); not asked again in this run, and the records say so in enrich_errors",
		e.Server, e.Failed, e.Asked, e.Last)
}

// breaker counts the failures of one server in a row and gives up on it.
type breaker struct {
	mu     sync.Mutex
	lastOK time.Time // when the last answer came
	fails  int       // failures in a row of requests sent after lastOK
	gaveUp atomic.Pointer[GaveUpError]
	down   chan struct{} // closed when given up on
	once   sync.Once
}

// done is closed when the server has been given up on.
func (b *breaker) done() <-chan struct{} {
	b.once.Do(func() { b.down = make(chan struct{}) })
	return b.down
}

// err is the reason not to ask the server, or nil.
func (b *breaker) err() error {
	if e := b.gaveUp.Load(); e != nil {
		return e
	}
	return nil
}

// ok notes an answer.
func (b *breaker) ok() {
	b.mu.Lock()
	b.lastOK, b.fails = time.Now(), 0
	b.mu.Unlock()
}

// failed notes a request sent at sent that failed with err, and gives up on
// server after GiveUpAfter of them in a row. asked names the requests.
func (b *breaker) failed(sent time.Time, server, asked string, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.gaveUp.Load() != nil || sent.Before(b.lastOK) {
		return
	}
	b.fails++
	if b.fails >= GiveUpAfter {
		b.gaveUp.Store(&GaveUpError{Server: server, Asked: asked, Failed: b.fails, Last: shortErr(err)})
		b.done()
		close(b.down)
	}
}

// shortErr names a failure in a few words: "timeout", "connection
// refused", "HTTP 502".
func shortErr(err error) string {
	if isTimeout(err) {
		return "timeout"
	}
	if errors.Is(err, context.Canceled) {
		return "canceled"
	}
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		s = s[i+2:]
	}
	return s
}
