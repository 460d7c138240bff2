package enrich

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Lookup's waits between tries: the backoff doubled with equal jitter, or
// a 429's Retry-After when longer, a minute at most; and a non-retryable
// answer ends the tries at once.
func TestIPinfoWaits(t *testing.T) {
	const s = time.Second
	type answer struct {
		status     int
		retryAfter string
	}
	for _, c := range []struct {
		name  string
		seq   []answer // then 200
		err   string   // "" when the lookup succeeds
		waits [][2]time.Duration
	}{
		{"backoff doubles", []answer{{503, ""}, {502, ""}, {500, ""}}, "",
			[][2]time.Duration{{s / 2, s}, {s, 2 * s}, {2 * s, 4 * s}}},
		{"retry-after honoured", []answer{{429, "7"}, {503, ""}}, "",
			[][2]time.Duration{{7 * s, 7 * s}, {s, 2 * s}}},
		{"retry-after shorter than backoff", []answer{{500, ""}, {429, "1"}}, "",
			[][2]time.Duration{{s / 2, s}, {s, 2 * s}}},
		{"retry-after a minute at most", []answer{{429, "3600"}}, "",
			[][2]time.Duration{{time.Minute, time.Minute}}},
		{"given up after 1+3 tries", []answer{{503, ""}, {503, ""}, {503, ""}, {503, ""}, {503, ""}}, "ipinfo: HTTP 503",
			[][2]time.Duration{{s / 2, s}, {s, 2 * s}, {2 * s, 4 * s}}},
		{"4xx not retried", []answer{{500, ""}, {404, ""}}, "ipinfo: HTTP 404",
			[][2]time.Duration{{s / 2, s}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var mu sync.Mutex
			n := 0
			srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				i := n
				n++
				mu.Unlock()
				if i < len(c.seq) {
					if c.seq[i].retryAfter != "" {
						w.Header().Set("Retry-After", c.seq[i].retryAfter)
					}
					w.WriteHeader(c.seq[i].status)
					return
				}
				w.Write([]byte(`{"country": "HU", "city": "Budapest"}`))
			}))
			t.Cleanup(srv.Close)
			var waits []time.Duration
			p := &IPinfo{Token: token, BaseURL: srv.URL, Client: srv.Client(), sleep: func(ctx context.Context, d time.Duration) error {
				waits = append(waits, d)
				return ctx.Err()
			}}
			g, err := p.Lookup(context.Background(), netip.MustParseAddr("192.0.2.1"))
			if got := fmt.Sprint(err); c.err == "" && (err != nil || g.City != "Budapest") || c.err != "" && got != c.err {
				t.Errorf("%+v %v, want error %q", g, err, c.err)
			}
			if len(waits) != len(c.waits) {
				t.Fatalf("waits %v, want %v", waits, c.waits)
			}
			for i, w := range waits {
				if w < c.waits[i][0] || w > c.waits[i][1] {
					t.Errorf("wait %d: %v, want %v to %v", i+1, w, c.waits[i][0], c.waits[i][1])
				}
			}
			if p.stopped.Load() != nil {
				t.Error("stopped")
			}
		})
	}
}

// The give-up breaker ends the lookups' waits at once: GiveUpAfter lookups
// each fail once and wait their hour, until the last failure gives up on
// the server; then each says why, and no more is asked.
func TestIPinfoGiveUpEndsWait(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusBadGateway)
	}))
	t.Cleanup(srv.Close)
	p := &IPinfo{Token: token, BaseURL: srv.URL, Client: srv.Client(), Backoff: time.Hour}
	done := make(chan error, GiveUpAfter)
	for range GiveUpAfter {
		go func() {
			_, err := p.Lookup(context.Background(), netip.MustParseAddr("192.0.2.1"))
			done <- err
		}()
	}
	timeout := time.After(time.Minute)
	for range GiveUpAfter {
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "ipinfo: skipped: ipinfo.io at ") {
				t.Errorf("%v", err)
			}
		case <-timeout:
			t.Fatalf("lookups still waiting a minute on; %d requests", calls.Load())
		}
	}
	if n := calls.Load(); n != GiveUpAfter {
		t.Errorf("%d requests, want %d", n, GiveUpAfter)
	}
	if _, err := p.Lookup(context.Background(), netip.MustParseAddr("192.0.2.1")); err == nil || calls.Load() != GiveUpAfter {
		t.Errorf("asked again after the give-up: %v", err)
	}
}
