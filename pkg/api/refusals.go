package api

import (
	"slices"
	"strings"
	"sync"
	"time"
)

// RefusalEvery is how often, at most, the refusals of one token for want
// of its right (403) are logged.
const RefusalEvery = time.Minute

// BadTokenEvery is how often, at most, the requests with a wrong token
// (401) are logged: one line a second, whatever the tokens tried.
const BadTokenEvery = time.Second

// refusalLog limits the log of the requests refused for want of a right,
// per token (Server.refused), or of those with a wrong token, under one
// key, "" (Server.badLog, every BadTokenEvery): a token's first refusal is logged at once, with its request;
// those that follow within RefusalEvery of that line are counted, not
// logged, and one line says how many were refused since: the next
// refusal once RefusalEvery has passed (its request's line, with the
// count), or, if the token makes none, Serve's next tick, or its stop. So
// a read token that tries PUT in a loop writes a line a minute at most,
// and no refusal goes unsaid. Tokens are the token file's, so the map is
// as small as the file; a token quiet for RefusalEvery is forgotten.
type refusalLog struct {
	every  time.Duration // zero: RefusalEvery
	mu     sync.Mutex
	tokens map[string]*refusals
}

func (l *refusalLog) period() time.Duration {
	if l.every > 0 {
		return l.every
	}
	return RefusalEvery
}

// refusals is where one token's refusals stand.
type refusals struct {
	logged time.Time // when its last line was written
	n      int       // refused since then, not logged
	// the latest refusal not logged
	right, need  Right
	method, path string
	remote       string
}

// refusalCount is a line to write: n refusals of token since since (the
// last line), the latest of them described.
type refusalCount struct {
	token       string
	n           int
	since       time.Time
	right, need Right
	method      string
	path        string
	remote      string
}

// refuse records a refusal of token at now. It tells whether to log this
// request's line, and, when it is, how many were refused, unlogged, since
// the token's last line (at since).
func (l *refusalLog) refuse(token string, right, need Right, method, path, remote string, now time.Time) (log bool, n int, since time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.tokens == nil {
		l.tokens = map[string]*refusals{}
	}
	r := l.tokens[token]
	// a first refusal, one period after the last line, or a clock
	// stepped back: logged
	if r == nil || !now.Before(r.logged.Add(l.period())) || now.Before(r.logged) {
		if r == nil {
			r = &refusals{}
			l.tokens[token] = r
		}
		n, since = r.n, r.logged
		*r = refusals{logged: now}
		return true, n, since
	}
	r.n++
	r.right, r.need, r.method, r.path, r.remote = right, need, method, path, remote
	return false, 0, time.Time{}
}

// due returns the lines to write at now: the counts of the tokens with
// refusals not logged whose last line is a period (RefusalEvery) old
// (all: every count, at the stop), by token name; it forgets the tokens
// without refusals for a period.
func (l *refusalLog) due(now time.Time, all bool) []refusalCount {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []refusalCount
	for tok, r := range l.tokens {
		old := !now.Before(r.logged.Add(l.period())) || now.Before(r.logged)
		switch {
		case r.n > 0 && (all || old):
			out = append(out, refusalCount{token: tok, n: r.n, since: r.logged, right: r.right, need: r.need, method: r.method, path: r.path, remote: r.remote})
			*r = refusals{logged: now}
		case r.n == 0 && old:
			delete(l.tokens, tok)
		}
	}
	slices.SortFunc(out, func(a, b refusalCount) int { return strings.Compare(a.token, b.token) })
	return out
}

// logRefusals writes the counts due at now (all: every one), of the 403s
// and of the 401s.
func (s *Server) logRefusals(now time.Time, all bool) {
	for _, c := range s.refused.due(now, all) {
		s.log.Warn("api: more requests refused: their token has not the right", "token", c.token, "right", c.right.String(), "needs", c.need.String(),
			"more_refused", c.n, "since", c.since, "latest_method", c.method, "latest_path", c.path, "latest_remote", c.remote)
	}
	for _, c := range s.badLog.due(now, all) {
		s.log.Warn("api: more requests with a wrong token refused", "more_unlogged", c.n, "since", c.since,
			"latest_method", c.method, "latest_path", c.path, "latest_remote", c.remote)
	}
}

// refusalTick is how often Serve writes the counts due (each at most
// RefusalEvery, or BadTokenEvery, after its last line, plus this).
const refusalTick = 10 * time.Second

// tickRefusals writes the counts due at each tick until stop is closed,
// then every count left. ticks nil: a ticker of refusalTick.
func (s *Server) tickRefusals(ticks <-chan time.Time, stop <-chan struct{}) {
	if ticks == nil {
		t := time.NewTicker(refusalTick)
		defer t.Stop()
		ticks = t.C
	}
	for {
		select {
		case <-ticks:
			s.logRefusals(s.now(), false)
		case <-stop:
			s.logRefusals(s.now(), true)
			return
		}
	}
}
