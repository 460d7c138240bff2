package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// stepClock is a clock that moves d at each reading.
func stepClock(d time.Duration) func() time.Time {
	var n atomic.Int64
	return func() time.Time { return t0.Add(time.Duration(n.Add(1)) * d) }
}

// setClock is a clock that the test sets.
type setClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *setClock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *setClock) set(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t0.Add(d) }

// TestRefusalLog: a token's first refusal is logged at once; the next
// ones within a minute of its last line are counted, and said by its next
// line: the next refusal a minute after (with its count), or the count
// due at a tick a minute after, or, at the stop, every count left. Each
// token on its own; a clock stepped back logs at once.
func TestRefusalLog(t *testing.T) {
	type step struct {
		at    time.Duration
		token string // refuse; "" : due
		all   bool   // due at the stop
		want  string // refuse: "log" or "held"; due: the counts
	}
	s := time.Second
	steps := []step{
		{0, "siem", false, "log"},
		{1 * s, "siem", false, "held"},
		{30 * s, "siem", false, "held"},
		{40 * s, "dash", false, "log"}, // another token: its own
		{59*s + 999*time.Millisecond, "siem", false, "held"},
		{59*s + 999*time.Millisecond, "", false, ""}, // not a minute yet
		{60 * s, "siem", false, "log 3 since 0s"},
		{61 * s, "siem", false, "held"},
		{62 * s, "dash", false, "held"},
		{100 * s, "", false, "dash 1 since 40s"}, // dash's minute is up, not siem's
		{119 * s, "", false, ""},
		{120 * s, "", false, "siem 1 since 1m0s"},
		{121 * s, "siem", false, "held"},
		{125 * s, "", true, "siem 1 since 2m0s"}, // the stop: all
		{125 * s, "", true, ""},                  // nothing left
		{300 * s, "", false, ""},                 // quiet: forgotten
		{301 * s, "siem", false, "log"},          // so a first refusal again
		{302 * s, "siem", false, "held"},
		{200 * s, "siem", false, "log 1 since 5m1s"}, // the clock stepped back
	}
	var l refusalLog
	for i, st := range steps {
		now := t0.Add(st.at)
		var got string
		if st.token != "" {
			log, n, since := l.refuse(st.token, RightRead, RightBlock, "PUT", "/v1/blocks/x", "127.0.0.1:1", now)
			switch {
			case !log:
				got = "held"
			case n == 0:
				got = "log"
			default:
				got = fmt.Sprintf("log %d since %v", n, since.Sub(t0))
			}
		} else {
			var parts []string
			for _, c := range l.due(now, st.all) {
				parts = append(parts, fmt.Sprintf("%s %d since %v", c.token, c.n, c.since.Sub(t0)))
			}
			got = strings.Join(parts, "; ")
		}
		if got != st.want {
			t.Errorf("step %d (%v %q all=%v): %q, want %q", i, st.at, st.token, st.all, got, st.want)
		}
	}
	if n := len(l.tokens); n != 1 {
		t.Errorf("%d tokens remembered, want 1 (siem)", n)
	}
}

// TestRefusalLogServer: a read token hammering PUT and DELETE writes one
// line at once, then, at the tick a minute after, one line with the
// count refused since; at the stop, the count left. Nothing else is
// logged of them, and the account's name in the path stays inert.
func TestRefusalLogServer(t *testing.T) {
	f, clock, log, tick, stop := tickedServer(t)
	refuse := func(n int, path string) {
		t.Helper()
		for i := range n {
			method := "PUT"
			if i%2 == 1 {
				method = "DELETE"
			}
			if a := f.do(method, path, siemToken, ""); a.status != 403 {
				t.Fatalf("%s %s: %d %s", method, path, a.status, a.body)
			}
		}
	}
	const first = `level=WARN msg="api: a request refused: its token has not the right" token=siem right=read needs=block method=PUT path=/v1/blocks/bob@example.test remote=127.0.0.1:`
	const more = `level=WARN msg="api: more requests refused: their token has not the right" token=siem right=read needs=block `
	count := func(s string) int { return strings.Count(log.String(), s) }

	refuse(58, "/v1/blocks/bob@example.test")
	clock.set(30 * time.Second)
	refuse(1, "/v1/blocks/evil%0Aname%22%20level=ERROR")
	tick()
	if count(first) != 1 || count(`msg="api: a request refused`) != 1 || count(more) != 0 {
		t.Fatalf("within the minute, want the first refusal's line only:\n%s", log)
	}
	// a minute after the line: the count, with the latest request, its
	// name quoted (no line of its own)
	clock.set(time.Minute)
	tick()
	want := more + `more_refused=58 since=2026-11-28T14:00:00.000Z latest_method=PUT latest_path="/v1/blocks/evil\nname\" level=ERROR" latest_remote=127.0.0.1:`
	if count(want) != 1 || count(more) != 1 {
		t.Fatalf("a minute after, want one line:\n%s\nlog:\n%s", want, log)
	}
	if count("\nname") != 0 || count("level=ERROR msg") != 0 {
		t.Errorf("the name was not kept inert:\n%s", log)
	}
	// a minute after that line, a refusal is logged with the count since
	clock.set(90 * time.Second)
	refuse(2, "/v1/blocks/bob@example.test")
	clock.set(2 * time.Minute)
	refuse(1, "/v1/blocks/bob@example.test")
	if !containsLine(log.String(), first, " more_refused=2 since=2026-11-28T14:01:00.000Z") {
		t.Fatalf("want a line %s... more_refused=2 since=2026-11-28T14:01:00.000Z:\n%s", first, log)
	}
	// then 5 more, said at the stop
	refuse(5, "/v1/blocks/bob@example.test")
	tick()
	if count(more) != 1 {
		t.Fatalf("before the minute:\n%s", log)
	}
	stop()
	if want := more + "more_refused=5 since=2026-11-28T14:02:00.000Z latest_method=PUT"; count(want) != 1 || count(more) != 2 {
		t.Fatalf("at the stop, want one line:\n%s\nlog:\n%s", want, log)
	}
	// 58+1+2+1+5 = 67 refusals, each said once: 2 lines of a request (the
	// first, and the one at 2m), 58 and 2 and 5 counted
	if n := count(`msg="api: a request refused`); n != 2 {
		t.Errorf("%d request lines, want 2:\n%s", n, log)
	}
}

// containsLine tells whether a line of log holds prefix and ends with
// suffix.
func containsLine(log, prefix, suffix string) bool {
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, prefix) && strings.HasSuffix(l, suffix) {
			return true
		}
	}
	return false
}

// tickedServer serves the API with the token file of rightsFile, on the
// clock it returns (set to t0), logging to log, its counts of refusals
// written only at tick: tick makes Serve write those due, and waits until
// it has (the second tick is taken once the first is done, and finds
// nothing more at the same time). stop stops it, and fails t on Serve's
// error.
func tickedServer(t *testing.T) (f *fixture, clock *setClock, log *syncBuf, tick, stop func()) {
	t.Helper()
	clock = &setClock{t: t0}
	ticks := make(chan time.Time)
	log = &syncBuf{}
	srv, err := New(Config{Store: openState(t, filepath.Join(t.TempDir(), "state.db")), TokenFile: rightsFile(t), Listen: "127.0.0.1:0",
		Logger: slog.New(slog.NewTextHandler(log, nil)), Now: clock.now, refusalTicks: ticks})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := srv.Listen()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(stop)
	f = &fixture{t: t, base: "http://" + ln.Addr().String(), client: &http.Client{Timeout: 30 * time.Second}, log: log}
	tick = func() {
		for range 2 {
			select {
			case ticks <- time.Time{}:
			case <-time.After(20 * time.Second):
				t.Fatal("Serve takes no tick")
			}
		}
	}
	return f, clock, log, tick, stop
}
