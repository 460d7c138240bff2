package api

import (
	"strings"
	"testing"
	"time"
)

// TestBadTokenLogServer: requests with a wrong token (401) are logged a
// line a second at most by the server's clock (Config.Now, not the wall
// clock): a second apart, each has its line; at the same second, the
// first has one and the others are counted, said by Serve's tick a second
// after (no other request needed), and at the stop the count left.
func TestBadTokenLogServer(t *testing.T) {
	f, clock, log, tick, stop := tickedServer(t)
	const wrong = "wrongwrongwrongwrongwrong"
	bad := func(n int, path string) {
		t.Helper()
		for range n {
			if a := f.do("GET", path, wrong, ""); a.status != 401 {
				t.Fatalf("GET %s: %d %s", path, a.status, a.body)
			}
		}
	}
	const first = `level=WARN msg="api: a request with a wrong token refused" remote=127.0.0.1:`
	const more = `level=WARN msg="api: more requests with a wrong token refused" `
	count := func(s string) int { return strings.Count(log.String(), s) }

	// a second apart by the server's clock: each logged
	for i := range 3 {
		clock.set(time.Duration(2*i) * time.Second)
		bad(1, "/v1/blocks")
	}
	if count(first) != 3 || count("more_unlogged") != 0 {
		t.Fatalf("3 requests 2 s apart (the server's clock), want 3 lines:\n%s", log)
	}
	// at one second: the first logged, 20 counted, the latest's path
	// kept inert
	clock.set(10 * time.Second)
	bad(20, "/v1/blocks")
	bad(1, "/v1/accounts/evil%0Aname%22%20level=ERROR")
	tick()
	if count(first) != 4 || count(more) != 0 {
		t.Fatalf("within the second, want the first's line only:\n%s", log)
	}
	clock.set(11 * time.Second)
	tick()
	want := more + `more_unlogged=20 since=2026-11-28T14:00:10.000Z latest_method=GET latest_path="/v1/accounts/evil\nname\" level=ERROR" latest_remote=127.0.0.1:`
	if count(want) != 1 || count(more) != 1 {
		t.Fatalf("at the tick a second after, want one line:\n%s\nlog:\n%s", want, log)
	}
	if count("level=ERROR msg") != 0 {
		t.Errorf("the path was not kept inert:\n%s", log)
	}
	// a second after that line, a request is logged with the count since
	clock.set(11*time.Second + 500*time.Millisecond)
	bad(2, "/v1/blocks")
	clock.set(12 * time.Second)
	bad(1, "/v1/blocks")
	if !containsLine(log.String(), first, " more_unlogged=2 since=2026-11-28T14:00:11.000Z") {
		t.Fatalf("want a line %s... more_unlogged=2 since=2026-11-28T14:00:11.000Z:\n%s", first, log)
	}
	// 5 more, said at the stop
	bad(5, "/v1/blocks")
	stop()
	if want := more + "more_unlogged=5 since=2026-11-28T14:00:12.000Z latest_method=GET"; count(want) != 1 || count(more) != 2 {
		t.Fatalf("at the stop, want one line:\n%s\nlog:\n%s", want, log)
	}
	// 3+21+3+5 = 32 requests, each said once: 5 lines of a request, 20,
	// 2 and 5 counted
	if n := count(first); n != 5 {
		t.Errorf("%d request lines, want 5:\n%s", n, log)
	}
}
