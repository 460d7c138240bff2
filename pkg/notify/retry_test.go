package notify

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/retry"
)

// waits records the waits between tries, instead of waiting; it may be
// shared by channels sending at once.
type waits struct {
	mu sync.Mutex
	d  []time.Duration
}

func (w *waits) sleep(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	w.d = append(w.d, d)
	w.mu.Unlock()
	return ctx.Err()
}

// The [NOTIFY] defaults: 4 tries, a first wait of 2 s doubled each time
// (with jitter: each wait between half of that and all of it), 30 s per
// try.
func TestRetryDefaults(t *testing.T) {
	p := Retry{}.Policy()
	if p.Attempts != 4 || p.Backoff != 2*time.Second || p.Timeout != 30*time.Second || p.Jitter != 0.5 {
		t.Errorf("%+v", p)
	}
	p = Retry{Attempts: 2, Backoff: time.Minute, Timeout: time.Second}.Policy()
	if p.Attempts != 2 || p.Backoff != time.Minute || p.Timeout != time.Second {
		t.Errorf("%+v", p)
	}

	srv, bodies, _ := hookServer(t, 503, 429, 500)
	var w waits
	res := SendAll(context.Background(), []Channel{&Webhook{URL: srv.URL}}, message(), Retry{sleep: w.sleep})
	if res[0].Err != nil || res[0].Attempts != 4 || len(*bodies) != 4 {
		t.Fatalf("%+v, %d requests", res[0], len(*bodies))
	}
	if len(w.d) != 3 {
		t.Fatalf("waits %v", w.d)
	}
	for i, d := range w.d {
		hi := 2 * time.Second << i
		if d < hi/2 || d > hi {
			t.Errorf("wait %d: %v, want %v to %v", i+1, d, hi/2, hi)
		}
	}
}

// A permanent failure (a 404) is not waited on nor tried again; nor is
// the script, which SendAll never retries.
func TestRetryPermanentAndOnce(t *testing.T) {
	srv, bodies, _ := hookServer(t, 404)
	var w waits
	r := Retry{Attempts: 5, sleep: w.sleep}
	res := SendAll(context.Background(), []Channel{&Webhook{URL: srv.URL}, &Exec{Path: script(t, "exit 3")}}, accounts("a@example.test"), r)
	var p Permanent
	if !errors.As(res[0].Err, &p) || res[0].Attempts != 1 || len(*bodies) != 1 {
		t.Errorf("webhook: %+v, %d requests", res[0], len(*bodies))
	}
	if res[1].Err == nil || res[1].Attempts != 0 {
		t.Errorf("exec: %+v", res[1])
	}
	if len(w.d) != 0 {
		t.Errorf("waited %v", w.d)
	}
}

// The end of the context stops a channel's waiting: the result says so,
// with the tries made.
func TestRetryCanceled(t *testing.T) {
	srv, bodies, _ := hookServer(t, 503, 503, 503)
	ctx, cancel := context.WithCancel(context.Background())
	r := Retry{Backoff: time.Hour, sleep: func(ctx context.Context, d time.Duration) error {
		cancel() // the run is stopped while the channel waits its hour
		return retry.Sleep(ctx, d)
	}}
	res := SendAll(ctx, []Channel{&Webhook{URL: srv.URL}}, message(), r)
	if !errors.Is(res[0].Err, context.Canceled) || res[0].Attempts != 1 || len(*bodies) != 1 {
		t.Errorf("%+v, %d requests", res[0], len(*bodies))
	}
}

// A server that throttles says how long with Retry-After (seconds, or a
// date): the next try waits at least that, at most maxRetryAfter; a
// header that does not parse leaves the backoff alone. Each of Teams,
// Mattermost and the webhook (one postJSON).
func TestRetryAfterHonoured(t *testing.T) {
	var mu sync.Mutex
	var afters []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		defer mu.Unlock()
		if len(afters) > 0 {
			w.Header().Set("Retry-After", afters[0])
			afters = afters[1:]
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(200)
	}))
	t.Cleanup(srv.Close)
	in9s := time.Now().Add(9 * time.Second).UTC().Format(http.TimeFormat)
	for _, ch := range []Channel{&Webhook{URL: srv.URL}, &Teams{URL: srv.URL}, &Mattermost{URL: srv.URL}} {
		mu.Lock()
		afters = []string{"7", in9s, "86400", "soon"}
		mu.Unlock()
		var w waits
		res := SendAll(context.Background(), []Channel{ch}, message(), Retry{Attempts: 5, sleep: w.sleep})
		if res[0].Err != nil || res[0].Attempts != 5 || len(w.d) != 4 {
			t.Fatalf("%s: %+v, waits %v", ch.Name(), res[0], w.d)
		}
		if d := w.d[0]; d != 7*time.Second {
			t.Errorf("%s: Retry-After 7: waited %v", ch.Name(), d)
		}
		if d := w.d[1]; d < 5*time.Second || d > 9*time.Second {
			t.Errorf("%s: Retry-After in 9 s (a date): waited %v", ch.Name(), d)
		}
		if d := w.d[2]; d != maxRetryAfter {
			t.Errorf("%s: Retry-After a day: waited %v, want %v", ch.Name(), d, maxRetryAfter)
		}
		if d := w.d[3]; d > 16*time.Second {
			t.Errorf("%s: Retry-After that does not parse: waited %v, want the backoff (at most 16 s)", ch.Name(), d)
		}
	}
}
