package reportcmd

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/input"
	"github.com/loganom/loganom/pkg/report"
	"github.com/loganom/loganom/pkg/state"
)

// Two daemons following the same log into the same state (the unit, and
// the same command started by hand with --resume): the one that started
// second finds, at each commit, the position moved by the other
// (state.ErrConflict), for as long as both run. It said the error and its
// hint at every commit, two lines a second or more (tens of thousands an
// hour in the journal), where a state that does not answer is said once
// a minute. Now the conflict is said once, then once a minute with how
// many commits it refused.
func TestLiveConflictSaidOnce(t *testing.T) {
	db := filepath.Join(t.TempDir(), "state.db")
	st, stderr, log := openPG(t, db, "[GENERAL]\n")
	clock := time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	logPath := filepath.Join(t.TempDir(), "mail.log")
	none := map[string]state.Position{} // both started before either recorded

	first, _ := startLiveDown(t, st, stderr, log, report.NewLive(report.Rule{}), now)
	defer first.Close()
	first.Marks = func() map[string]input.Mark { return map[string]input.Mark{logPath: {Offset: 100, Size: 100}} }
	first.Expect = none
	second, _ := startLiveDown(t, st, stderr, log, report.NewLive(report.Rule{}), now)
	var off int64 = 100
	second.Marks = func() map[string]input.Mark {
		off += 10
		return map[string]input.Mark{logPath: {Offset: off, Size: off}}
	}
	second.Expect = map[string]state.Position{}

	t0 := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	login := func(lv *Live, user string, i int) {
		t.Helper()
		if err := (&Stage{Live: lv}).Process(rlogin(user, "200.158.1.34", "BR", 27699, -23.55, -46.63, t0.Add(time.Duration(i)*time.Second)), nil); err != nil {
			t.Fatal(err)
		}
	}
	login(first, "alice@x.test", 0)
	clock = clock.Add(time.Second)
	first.Idle(true)
	if s := stderr.String(); strings.Contains(s, "loganom: error: ") {
		t.Fatalf("the first daemon's commit:\n%s", s)
	}

	for i := 1; i <= 20; i++ { // 20 commits over 10 s, each refused
		login(second, "bob@x.test", i)
		clock = clock.Add(500 * time.Millisecond)
		second.Idle(true)
	}
	said := stderr.String()
	if n := strings.Count(said, "another loganom run read the same log meanwhile"); n != 1 {
		t.Errorf("20 refused commits in 10 s said the conflict %d times, want 1:\n%s", n, said)
	}
	if n := strings.Count(said, "hint: another loganom reads the same log"); n != 1 {
		t.Errorf("20 refused commits in 10 s gave the hint %d times, want 1:\n%s", n, said)
	}
	// the other may be a batch run, over by now: this daemon's positions
	// stay refused until it is restarted, which the hint must say
	if !strings.Contains(said, "restart this one") {
		t.Errorf("the hint does not say to restart this daemon:\n%s", said)
	}
	clock = clock.Add(time.Minute)
	login(second, "bob@x.test", 21)
	second.Idle(true)
	clock = clock.Add(500 * time.Millisecond)
	login(second, "bob@x.test", 22)
	second.Idle(true)
	if again := strings.TrimPrefix(stderr.String(), said); strings.Count(again, "loganom: error: ") != 1 || !strings.Contains(again, "21 commits refused") {
		t.Errorf("a minute on, want the conflict said again once, with its count (21):\n%s", again)
	}
	// the stop's last commit, refused too: said with the count since
	// the first, not as if the conflict began at the stop
	before := stderr.String()
	clock = clock.Add(time.Second)
	login(second, "bob@x.test", 23)
	second.Close()
	if last := strings.TrimPrefix(stderr.String(), before); !strings.Contains(last, "23 commits refused since "+time.Date(2026, 11, 30, 1, 0, 1, 0, time.UTC).Format(time.DateTime)) {
		t.Errorf("the stop, refused, said:\n%s", last)
	}
}
