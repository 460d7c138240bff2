package enrich

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// Many queries at once acquire and release places, some given up on
// while they wait (their context canceled, at times just as a place is
// granted), some answered, some lost or SERVFAIL: nobody is stuck, and
// at the end nothing is in flight nor waiting, the bound at least its
// floor and at most its max.
func TestReviewLimiterStress(t *testing.T) {
	l := newLimiter(4, 64)
	var wg sync.WaitGroup
	for g := 0; g < 40; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 300; i++ {
				ctx, cancel := context.WithCancel(context.Background())
				prio := prioPTR
				if rand.IntN(3) == 0 {
					prio = prioForward
				}
				if rand.IntN(4) == 0 {
					go cancel()
				}
				err := l.acquire(ctx, prio)
				cancel()
				if err != nil {
					continue
				}
				switch rand.IntN(5) {
				case 0:
					l.release(false, 0, true, time.Now())
				case 1:
					l.lost(time.Now())
					l.release(false, 0, false, time.Now())
				default:
					l.release(true, time.Duration(1+rand.IntN(1000))*time.Microsecond, false, time.Now())
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		l.mu.Lock()
		t.Fatalf("stuck: %d in flight, %d+%d waiting, limit %.2f", l.inflight, len(l.waiting[0]), len(l.waiting[1]), l.limit)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.inflight != 0 || len(l.waiting[0]) != 0 || len(l.waiting[1]) != 0 || l.limit < l.floor || l.limit > l.max || l.peak > 64 {
		t.Errorf("%d in flight, %d+%d waiting, limit %.2f (floor %.0f), peak %d", l.inflight, len(l.waiting[0]), len(l.waiting[1]), l.limit, l.floor, l.peak)
	}
}
