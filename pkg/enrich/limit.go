package enrich

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// limiter bounds the queries in flight to one DNS server and adapts the
// bound to the server's answers (AIMD): it grows by a quarter for each
// answer (a quarter more per round trip) up to max, and halves when a
// query goes unanswered for its retransmission timeout or for good (a
// resolver over its limit drops queries: dnsmasq's dns-forward-max,
// unbound's num-queries-per-thread; a SERVFAIL is no such sign: stub), once
// for all the queries sent before the last cut, never under floor.
// Forward confirmations waiting go before new PTR queries, so that an
// address's answer is complete before new ones start.
type limiter struct {
	mu         sync.Mutex
	limit      float64
	floor, max float64
	inflight   int
	waiting    [2][]chan struct{} // by priority
	lastCut    time.Time
	srtt, dev  time.Duration // smoothed latency of answers and its deviation
	samples    int
	cuts, peak int // for tests and the stats

	// since epoch: when the last query was sent, and when the latest
	// sent of the queries answered was (RACK's evidence of a loss: a
	// query sent later was answered)
	lastSend, answeredSent atomic.Int64
}

var epoch = time.Now()

func mono(t time.Time) int64 { return int64(t.Sub(epoch)) }

// noteSend notes a query sent at t.
func (l *limiter) noteSend(t time.Time) {
	m := mono(t)
	for old := l.lastSend.Load(); m > old && !l.lastSend.CompareAndSwap(old, m); old = l.lastSend.Load() {
	}
}

// lostLikely says whether a query sent at sent and unanswered for its
// retransmission timeout is likely lost rather than late: a query sent
// after it has been answered, or none was sent after it (nothing to tell
// by: taken for lost).
func (l *limiter) lostLikely(sent time.Time) bool {
	m := mono(sent)
	return l.answeredSent.Load() > m || l.lastSend.Load() <= m
}

const (
	prioForward = 0
	prioPTR     = 1
	growth      = 0.25
)

// newLimiter starts at start in flight, and never goes over max nor
// under min(start, 32).
func newLimiter(start, max int) *limiter {
	start = maxInt(start, 1)
	max = maxInt(max, start)
	return &limiter{limit: float64(start), floor: float64(min(start, 32)), max: float64(max)}
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}

// acquire waits for a place in flight, or for ctx.
func (l *limiter) acquire(ctx context.Context, prio int) error {
	l.mu.Lock()
	ahead := len(l.waiting[prioForward])
	if prio == prioPTR {
		ahead += len(l.waiting[prioPTR])
	}
	if ahead == 0 && float64(l.inflight) < l.limit {
		l.inflight++
		l.peak = max(l.peak, l.inflight)
		l.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	l.waiting[prio] = append(l.waiting[prio], ch)
	l.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		l.mu.Lock()
		defer l.mu.Unlock()
		select {
		case <-ch: // granted meanwhile: give it back
			l.inflight--
			l.grantLocked()
		default:
			q := l.waiting[prio]
			for i, c := range q {
				if c == ch {
					l.waiting[prio] = append(q[:i], q[i+1:]...)
					break
				}
			}
		}
		return ctx.Err()
	}
}

// release ends a query: answered (the bound grows) after rtt (0: not a
// sample, the query was sent more than once), and bad (unanswered for its
// timeout: the bound halves) sent at sent.
func (l *limiter) release(answered bool, rtt time.Duration, bad bool, sent time.Time) {
	if answered {
		m := mono(sent)
		for old := l.answeredSent.Load(); m > old && !l.answeredSent.CompareAndSwap(old, m); old = l.answeredSent.Load() {
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inflight--
	if bad {
		l.cutLocked(sent)
	} else if answered {
		l.limit = min(l.limit+growth, l.max)
	}
	if rtt > 0 {
		// as TCP does (RFC 6298), with gains 1/8 and 1/4
		if l.samples == 0 {
			l.srtt, l.dev = rtt, rtt/2
		} else {
			d := l.srtt - rtt
			if d < 0 {
				d = -d
			}
			l.dev += (d - l.dev) / 4
			l.srtt += (rtt - l.srtt) / 8
		}
		l.samples++
	}
	l.grantLocked()
}

// lost notes a query sent at sent that went unanswered for its
// retransmission timeout: the bound halves, once for all the queries sent
// before the last cut.
func (l *limiter) lost(sent time.Time) {
	l.mu.Lock()
	l.cutLocked(sent)
	l.mu.Unlock()
}

func (l *limiter) cutLocked(sent time.Time) {
	if !sent.After(l.lastCut) {
		return
	}
	l.limit = max(l.limit/2, l.floor)
	l.lastCut = time.Now()
	l.cuts++
}

// rto is how long to wait for an answer before sending the query again:
// the smoothed latency plus four deviations, at least minRTO, at most
// timeout; before any answer has come, initialRTO (as TCP's first RTO), at
// most timeout.
func (l *limiter) rto(timeout time.Duration) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.samples == 0 {
		return min(initialRTO, timeout)
	}
	return min(max(l.srtt+4*l.dev, minRTO), timeout)
}

// grantLocked lets waiters go while there is room, forward queries first.
func (l *limiter) grantLocked() {
	for float64(l.inflight) < l.limit {
		p := prioForward
		if len(l.waiting[p]) == 0 {
			p = prioPTR
		}
		if len(l.waiting[p]) == 0 {
			return
		}
		ch := l.waiting[p][0]
		l.waiting[p][0] = nil
		l.waiting[p] = l.waiting[p][1:]
		l.inflight++
		l.peak = max(l.peak, l.inflight)
		close(ch)
	}
}

// LimiterStats say how the bound on queries in flight went.
type LimiterStats struct {
	Peak  int     // most queries in flight at once
	Limit float64 // the bound at the end
	Cuts  int     // times it was halved
}

func (l *limiter) stats() LimiterStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return LimiterStats{Peak: l.peak, Limit: l.limit, Cuts: l.cuts}
}
