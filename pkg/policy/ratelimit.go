package policy

import (
	"sync"
	"time"
)

// rateLimit lets a log line through burst times (at least once) per
// period every, and counts the ones it held back, which the next line
// that goes through reports: a client that sends garbage in a loop, or a
// database down for an hour, cannot flood the log.
type rateLimit struct {
	every time.Duration
	burst int
	now   func() time.Time

	mu         sync.Mutex
	start      time.Time
	n          int
	suppressed int
}

// allow tells whether to log now, and how many lines were held back since
// the last one logged.
func (l *rateLimit) allow() (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if l.start.IsZero() || now.Sub(l.start) >= l.every || now.Before(l.start) {
		l.start, l.n = now, 0
	}
	if l.n >= max(l.burst, 1) {
		l.suppressed++
		return false, 0
	}
	l.n++
	n := l.suppressed
	l.suppressed = 0
	return true, n
}
