package reportcmd

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/config"
	"github.com/loganom/loganom/cmd/internal/statecmd"
	"github.com/loganom/loganom/pkg/detect"
	"github.com/loganom/loganom/pkg/input"
	"github.com/loganom/loganom/pkg/record"
	"github.com/loganom/loganom/pkg/report"
	"github.com/loganom/loganom/pkg/state"
)

type lockedBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func rlogin(user, ip, cc string, asn uint32, lat, lon float64, at time.Time) *record.Record {
	return &record.Record{Type: record.TypeLogin, User: user, IP: ip, Time: at, Country: cc, City: "c-" + cc, ASN: asn,
		HasLoc: true, Lat: lat, Lon: lon, AccuracyKM: 10}
}

// attack is a week at home, then a botnet: an alert (high) on its second login.
func attack(user string, t0 time.Time) []*record.Record {
	var recs []*record.Record
	for d := 0; d < 7; d++ {
		recs = append(recs, rlogin(user, "200.158.1.34", "BR", 27699, -23.55, -46.63, t0.Add(time.Duration(d)*24*time.Hour)))
	}
	at := t0.Add(7*24*time.Hour + 2*time.Hour)
	recs = append(recs, rlogin(user, "176.63.95.227", "HU", 6830, 47.5, 19.04, at))
	recs = append(recs, rlogin(user, "118.69.201.136", "VN", 18403, 10.82, 106.63, at.Add(5*time.Minute)))
	return recs
}

// TestReviewLiveNoStateRetryDuplicates: without a state, one channel
// failing (the webhook) must not make the others (Mattermost) send the
// same alert again at each retry.
func TestReviewLiveNoStateRetryDuplicates(t *testing.T) {
	var hookTries, mmPosts atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		hookTries.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer hook.Close()
	mm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mmPosts.Add(1)
	}))
	defer mm.Close()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.ini")
	ini := fmt.Sprintf("[WEBHOOK]\nenabled = true\nurl = %s\n\n[MATTERMOST]\nenabled = true\nurl = %s\napi_key = k\n\n[NOTIFY]\nattempts = 1\n", hook.URL, mm.URL)
	if err := os.WriteFile(cfgPath, []byte(ini), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.LoadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	n, err := (&NotifyFlags{}).Prepare(cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	stderr := &lockedBuf{}
	log := &cli.Logger{Prog: "loganom", W: stderr}
	rep := report.NewLive(report.Rule{})
	lv := &Live{Env: cli.Env{Stdout: io.Discard, Stderr: stderr}, Log: log, Rep: rep, Format: "json", Out: io.Discard, RetryEvery: 20 * time.Millisecond}
	lv.SetNotifier(n)
	lv.Start()
	for _, r := range attack("bob@x.test", time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)) {
		if err := (&Stage{Live: lv}).Process(r, nil); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, "the webhook tried 3 times", func() bool { return hookTries.Load() >= 3 })
	lv.Close()
	if got := mmPosts.Load(); got != 1 {
		t.Errorf("Mattermost got the one alert %d times (the webhook was tried %d times)", got, hookTries.Load())
	}
}

// openState opens a real SQLite state in a temporary directory.
func openState(t *testing.T) *statecmd.State {
	t.Helper()
	s, err := state.Open(context.Background(), filepath.Join(t.TempDir(), "state.db"), state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return &statecmd.State{Store: s, Instance: "mx1", Keep: statecmd.DefaultKeep, RealertAfter: statecmd.DefaultRealertAfter,
		GiveUpAfter: statecmd.DefaultGiveUpAfter, Window: statecmd.DefaultWindow}
}

// TestReviewLiveExpectAfterCommitWithoutMarks: the daemon saves its
// position when drained; a commit in between without positions (an
// alert's, or one every 1024 records) must not make the next position's
// save a conflict.
func TestReviewLiveExpectAfterCommitWithoutMarks(t *testing.T) {
	st := openState(t)
	stderr := &lockedBuf{}
	log := &cli.Logger{Prog: "loganom", W: stderr}
	rep := report.NewLive(report.Rule{})
	rep.History = func(user string) ([]detect.Known, error) { return st.Known(context.Background(), user) }
	logPath := filepath.Join(t.TempDir(), "mail.log")
	var offset int64
	clock := time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC)
	lv := &Live{Env: cli.Env{Stdout: io.Discard, Stderr: stderr}, Log: log, Rep: rep, St: st, Format: "json", Out: io.Discard,
		Marks: func() map[string]input.Mark {
			return map[string]input.Mark{logPath: {Dev: 1, Ino: 2, Offset: offset, Size: offset}}
		},
		Now: func() time.Time { return clock }}
	lv.Start()
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	step := func(drained bool, recs ...*record.Record) {
		t.Helper()
		for _, r := range recs {
			offset += 100
			if err := rep.Process(r, nil); err != nil {
				t.Fatal(err)
			}
		}
		clock = clock.Add(3 * time.Second)
		if err := lv.Idle(drained); err != nil {
			t.Fatal(err)
		}
	}
	step(true, rlogin("ana@x.test", "200.158.1.34", "BR", 27699, -23.55, -46.63, t0))
	step(false, rlogin("ana@x.test", "200.158.1.34", "BR", 27699, -23.55, -46.63, t0.Add(time.Hour)))
	step(true, rlogin("ana@x.test", "200.158.1.34", "BR", 27699, -23.55, -46.63, t0.Add(2*time.Hour)))
	lv.Close()
	if lv.Failed() {
		t.Errorf("a commit failed:\n%s", stderr)
	}
	pos, err := st.Store.Positions(context.Background(), st.Instance, []string{logPath})
	if err != nil {
		t.Fatal(err)
	}
	if pos[logPath].Offset != offset {
		t.Errorf("position saved %d, want %d", pos[logPath].Offset, offset)
	}
}

// TestReviewLiveComesBackWithState: an account idle for longer than the
// window is forgotten; when it comes back its history is read from the
// state: every login the daemon recorded is in it once, and the state's
// history counts every login once.
func TestReviewLiveComesBackWithState(t *testing.T) {
	st := openState(t)
	stderr := &lockedBuf{}
	log := &cli.Logger{Prog: "loganom", W: stderr}
	rep := report.NewLive(report.Rule{})
	var lastKnown []detect.Known
	rep.History = func(user string) ([]detect.Known, error) {
		k, err := st.Known(context.Background(), user)
		if user == "ana@x.test" {
			lastKnown = k
		}
		return k, err
	}
	clock := time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC)
	lv := &Live{Env: cli.Env{Stdout: io.Discard, Stderr: stderr}, Log: log, Rep: rep, St: st, Format: "json", Out: io.Discard,
		Now: func() time.Time { return clock }}
	lv.Start()
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	n := 0
	feed := func(r *record.Record) {
		t.Helper()
		if err := rep.Process(r, nil); err != nil {
			t.Fatal(err)
		}
		if r.User == "ana@x.test" {
			n++
		}
		clock = clock.Add(3 * time.Second)
		if err := lv.Idle(true); err != nil {
			t.Fatal(err)
		}
	}
	for d := 0; d < 3; d++ {
		for h := 0; h < 4; h++ {
			feed(rlogin("ana@x.test", "200.158.1.34", "BR", 27699, -23.55, -46.63, t0.Add(time.Duration(d)*24*time.Hour+time.Duration(h)*time.Hour)))
		}
	}
	feed(rlogin("bob@x.test", "187.32.0.10", "BR", 28573, -23.56, -46.65, t0.Add(5*24*time.Hour)))
	feed(rlogin("bob@x.test", "187.32.0.10", "BR", 28573, -23.56, -46.65, t0.Add(5*24*time.Hour+time.Minute)))
	if rep.Tracked() != 1 {
		t.Fatalf("%d accounts tracked, want ana forgotten", rep.Tracked())
	}
	before := n
	feed(rlogin("ana@x.test", "200.158.1.34", "BR", 27699, -23.55, -46.63, t0.Add(6*24*time.Hour)))
	var sum int64
	for _, k := range lastKnown {
		sum += k.Count
	}
	if sum != int64(before) {
		t.Errorf("history read back counts %d logins, want %d", sum, before)
	}
	lv.Close()
	h, err := st.Store.History(context.Background(), "ana@x.test")
	if err != nil {
		t.Fatal(err)
	}
	sum = 0
	for _, a := range h {
		sum += a.Count
	}
	if sum != int64(n) {
		t.Errorf("the state's history counts %d logins, want %d", sum, n)
	}
}

// TestReviewReportFollowQuietRecords: loganom-report --follow --db on a
// pipe: the logins read before the input goes quiet are recorded in the
// state's history while it is quiet (within a few CommitEvery), not only
// when more input comes or the input ends.
func TestReviewReportFollowQuietRecords(t *testing.T) {
	db := filepath.Join(t.TempDir(), "state.db")
	inR, inW := io.Pipe()
	stderr := &lockedBuf{}
	code := make(chan int, 1)
	go func() {
		code <- Main(cli.Env{Args: []string{"--follow", "--db", db}, Stdin: inR, Stdout: io.Discard, Stderr: stderr, Getenv: func(string) string { return "" }})
	}()
	rec := `{"type":"login","time":"2026-11-25T08:00:00-03:00","user":"dave@example.test","ip":"187.45.12.9","country":"BR","asn":26599}` + "\n"
	if _, err := io.WriteString(inW, rec); err != nil {
		t.Fatal(err)
	}
	count := func() int64 {
		s, err := state.Open(context.Background(), db, state.Options{})
		if err != nil {
			return -1
		}
		defer s.Close()
		h, err := s.History(context.Background(), "dave@example.test")
		if err != nil {
			return -1
		}
		var n int64
		for _, a := range h {
			n += a.Count
		}
		return n
	}
	deadline := time.Now().Add(8 * time.Second) // CommitEvery is 2 s
	for count() != 1 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := count(); n != 1 {
		t.Errorf("8 s after the login, with the input quiet, the history counts %d logins, want 1", n)
	}
	inW.Close()
	<-code
	if n := count(); n != 1 {
		t.Errorf("at the end the history counts %d logins, want 1\n%s", n, stderr)
	}
}
