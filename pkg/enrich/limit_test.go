package enrich

import (
	"context"
	"testing"
	"time"
)

// The bound grows by a quarter with each answer up to max, halves on a
// loss or SERVFAIL once for the queries sent before the cut, and never
// goes under its floor.
func TestLimiter(t *testing.T) {
	t0 := time.Now()
	for _, c := range []struct {
		name       string
		start, max int
		run        func(l *limiter)
		want       float64
	}{
		{"grows with answers", 400, 1000, func(l *limiter) { answers(t, l, 400) }, 500},
		{"up to max", 400, 1000, func(l *limiter) { answers(t, l, 4000) }, 1000},
		{"a bound given is never exceeded", 16, 16, func(l *limiter) { answers(t, l, 100) }, 16},
		{"halves on a loss", 400, 1000, func(l *limiter) { l.lost(time.Now()) }, 200},
		{"halves on SERVFAIL", 400, 1000, func(l *limiter) {
			if err := l.acquire(context.Background(), prioPTR); err != nil {
				t.Fatal(err)
			}
			l.release(true, time.Millisecond, true, time.Now())
		}, 200},
		{"once for queries sent before the cut", 400, 1000, func(l *limiter) {
			sent := time.Now()
			for range 50 {
				l.lost(sent)
			}
		}, 200},
		{"not under the floor", 400, 1000, func(l *limiter) {
			for i := range 20 {
				l.lost(t0.Add(time.Duration(i+1) * time.Hour))
			}
		}, 32},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := newLimiter(c.start, c.max)
			c.run(l)
			if l.limit != c.want {
				t.Errorf("limit %.2f, want %.2f", l.limit, c.want)
			}
		})
	}
}

func answers(t *testing.T, l *limiter, n int) {
	for range n {
		if err := l.acquire(context.Background(), prioPTR); err != nil {
			t.Fatal(err)
		}
		l.release(true, time.Millisecond, false, time.Now())
	}
}

// A query unanswered for its RTO is taken for lost when a query sent
// after it has been answered, or when none was sent after it; when later
// ones were sent and none is answered, it is late (a stall), not lost.
func TestLostLikely(t *testing.T) {
	t0 := time.Now()
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	for _, c := range []struct {
		name     string
		sends    []int // ms
		answered []int // send times of the queries answered
		ours     int
		want     bool
	}{
		{"alone", []int{0}, nil, 0, true},
		{"a later one answered", []int{0, 10, 20}, []int{10}, 0, true},
		{"later ones, none answered", []int{0, 10, 20}, nil, 0, false},
		{"only earlier ones answered", []int{0, 10, 20}, []int{0}, 10, false},
	} {
		l := newLimiter(400, 1000)
		for _, ms := range c.sends {
			l.noteSend(at(ms))
		}
		for _, ms := range c.answered {
			if err := l.acquire(context.Background(), prioPTR); err != nil {
				t.Fatal(err)
			}
			l.release(true, time.Millisecond, false, at(ms))
		}
		if got := l.lostLikely(at(c.ours)); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
