package parse

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/input"
	"github.com/loganom/loganom/pkg/record"
)

// pollUntil polls cond until it holds, or fails the test after a
// deadline generous enough for a loaded machine.
func pollUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond) // polling to the deadline
	}
}

func appendFile(t testing.TB, path string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// runFollow runs s until stop is called; what it writes as NDJSON (or
// emits, when ndjson is false) is collected.
type followRun struct {
	mu    sync.Mutex
	out   bytes.Buffer
	recs  []*record.Record
	idle  atomic.Int64
	stop  func() error
	marks []map[string]input.Mark
}

func (r *followRun) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.recs) + bytes.Count(r.out.Bytes(), []byte{'\n'})
}

func runFollow(t *testing.T, s *FollowSource, ndjson bool) *followRun {
	t.Helper()
	r := &followRun{}
	ctx, cancel := context.WithCancel(context.Background())
	s.Context = ctx
	s.OnIdle = func() error {
		r.idle.Add(1)
		r.mu.Lock()
		r.marks = append(r.marks, s.Marks())
		r.mu.Unlock()
		return nil
	}
	done := make(chan error, 1)
	go func() {
		if ndjson {
			done <- s.RunNDJSON(func(b []byte) error {
				r.mu.Lock()
				defer r.mu.Unlock()
				r.out.Write(b)
				return nil
			})
			return
		}
		done <- s.Run(func(rec *record.Record) error {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.recs = append(r.recs, rec)
			return nil
		})
	}()
	stopped := false
	r.stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		return <-done
	}
	t.Cleanup(func() { r.stop() })
	return r
}

// Following a log written in parts gives the same NDJSON, byte for byte,
// as reading it whole: the same parser, the same line numbers, the same
// stats; and each part is out as soon as it is written.
func TestFollowSameAsBatch(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(logs, "postfix-3.7-real.log"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "mail.log")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	loc := time.UTC
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, loc)
	fs := &FollowSource{Files: []string{path}, FromStart: true, Poll: 5 * time.Millisecond,
		Opts: Options{Loc: loc, Now: func() time.Time { return now }}}
	r := runFollow(t, fs, true)
	lines := bytes.SplitAfter(data, []byte{'\n'})
	for i := 0; i < len(lines); i += 5 {
		part := bytes.Join(lines[i:min(i+5, len(lines))], nil)
		idle := r.idle.Load()
		appendFile(t, path, part)
		// The follower goes idle once it has read the part.
		pollUntil(t, "idle after a part", func() bool { return r.idle.Load() > idle })
	}
	want := Source{Names: []string{path}, Opts: Options{Loc: loc, Year: 2026}}
	followedAsWhole(t, r, &want)
	ws, fs2 := want.Stats, fs.Stats
	ws.Inputs, fs2.Inputs = 0, 0
	if fs2.Lines != ws.Lines || fs2.Logins != ws.Logins || fs2.AuthFailures != ws.AuthFailures || fs2.Rejects != ws.Rejects || fs2.Malformed != ws.Malformed {
		t.Errorf("stats %+v, read whole %+v", fs2, ws)
	}
	if m := fs.Marks()[path]; m.Offset != int64(len(data)) {
		t.Errorf("mark at %d, want %d", m.Offset, len(data))
	}
}

// loginLine is a login of user number i, in RFC 3339 (no year to guess).
func loginLine(i int) string {
	return fmt.Sprintf("2026-11-27T10:%02d:%02d.000000+00:00 mail postfix/submission/smtpd[%d]: %X: client=unknown[192.0.2.%d], sasl_method=PLAIN, sasl_username=user%d@example.test\n",
		i/60%60, i%60, 1000+i%9000, 0xCEED5BA1AA+int64(i), i%250, i)
}

// The marks handed out never run ahead of the records emitted: stopped
// at any moment, with rotations before and after, a follower started
// from the last marks emits every login exactly once, with OnlyLogins
// and OnFailure as the wrapper sets them.
func TestFollowMarksResume(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mail.log")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var failures atomic.Int64
	opts := func(resume map[string]*input.Mark) Options {
		return Options{OnlyLogins: true, OnFailure: func(string, time.Time) { failures.Add(1) }, Resume: resume}
	}
	n := 0
	write := func(k int) {
		var b strings.Builder
		for range k {
			b.WriteString(loginLine(n))
			if n%10 == 0 {
				fmt.Fprintf(&b, "2026-11-27T10:00:00.000000+00:00 mail postfix/smtpd[1]: warning: unknown[192.0.2.1]: SASL LOGIN authentication failed: UGFzc3dvcmQ6\n")
			}
			n++
		}
		appendFile(t, path, []byte(b.String()))
	}
	users := map[string]int{}
	collect := func(recs []*record.Record) {
		for _, r := range recs {
			if r.Type != record.TypeLogin {
				t.Errorf("with OnlyLogins: a %s record", r.Type)
			}
			users[r.User]++
		}
	}
	var marks map[string]input.Mark
	for round := range 4 {
		resume := map[string]*input.Mark{}
		if m, ok := marks[path]; ok {
			resume[path] = &m
		}
		fs := &FollowSource{Files: []string{path}, FromStart: true, Poll: 5 * time.Millisecond, Opts: opts(resume)}
		r := runFollow(t, fs, false)
		write(300)
		pollUntil(t, "some records", func() bool { return r.len() >= 100 })
		wrote := make(chan struct{})
		go func() { write(200); close(wrote) }() // stopped while written to
		if err := r.stop(); err != nil {
			t.Fatal(err)
		}
		<-wrote
		collect(r.recs)
		marks = fs.Marks()
		if fs.Stats.Logins < int64(len(r.recs)) {
			t.Errorf("round %d: %d logins counted, %d emitted", round, fs.Stats.Logins, len(r.recs))
		}
		// Rotated while stopped.
		if round%2 == 0 {
			if _, err := os.Stat(path + ".1"); err == nil {
				if err := os.Rename(path+".1", path+".2"); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Rename(path, path+".1"); err != nil {
				t.Fatal(err)
			}
		}
		write(50)
	}
	fs := &FollowSource{Files: []string{path}, FromStart: true, Poll: 5 * time.Millisecond, Opts: opts(map[string]*input.Mark{path: ptr(marks[path])})}
	r := runFollow(t, fs, false)
	pollUntil(t, "idle", func() bool { return r.idle.Load() > 0 })
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	collect(r.recs)
	for i := range n {
		if c := users[fmt.Sprintf("user%d@example.test", i)]; c != 1 {
			t.Errorf("user%d: %d logins, want 1", i, c)
		}
	}
	if failures.Load() == 0 {
		t.Error("OnFailure never told")
	}
}

func ptr[T any](v T) *T { return &v }

// The journal, through a journalctl that prints a recorded stream (a
// shell script: this machine has no journal), resumed from the cursor.
func TestFollowJournal(t *testing.T) {
	dir := t.TempDir()
	stream := filepath.Join(dir, "stream.json")
	var b strings.Builder
	for i := range 3 {
		fmt.Fprintf(&b, `{"__CURSOR":"s=1;i=%d","__REALTIME_TIMESTAMP":"%d","_HOSTNAME":"mail","SYSLOG_IDENTIFIER":"postfix/submission/smtpd","SYSLOG_PID":"8251","MESSAGE":"CEED5BA1A%d: client=h.example.com[187.45.12.9], sasl_method=PLAIN, sasl_username=user%d@example.test"}`+"\n", i, 1795775536000000+int64(i), i, i)
	}
	if err := os.WriteFile(stream, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "journalctl")
	// It prints its arguments on stderr, the stream, and waits.
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho \"$@\" >> \""+dir+"/args\"\ncat \""+stream+"\"\nexec sleep 1000\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	fs := &FollowSource{Journal: &JournalOptions{Command: script, Units: []string{"postfix*"}, Cursor: "s=1;i=0"}}
	r := runFollow(t, fs, true)
	pollUntil(t, "3 records", func() bool { return r.len() >= 3 })
	pollUntil(t, "idle", func() bool { return r.idle.Load() > 0 })
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(r.out.String(), `"src":"journal:`); got != 3 {
		t.Errorf("%d records from the journal:\n%s", got, r.out.String())
	}
	if c := fs.Cursor(); c != "s=1;i=2" {
		t.Errorf("cursor %q", c)
	}
	args, _ := os.ReadFile(filepath.Join(dir, "args"))
	if !strings.Contains(string(args), "--unit=postfix* --after-cursor=s=1;i=0") {
		t.Errorf("journalctl's arguments: %s", args)
	}
}

// BenchmarkFollow: lines appended to a log (in writes of 64 lines) while
// a FollowSource follows it and writes NDJSON: lines/s from the first
// write to the last record out.
func BenchmarkFollow(b *testing.B) {
	dir := b.TempDir()
	path := filepath.Join(dir, "mail.log")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		b.Fatal(err)
	}
	var out atomic.Int64
	fs := &FollowSource{Files: []string{path}, FromStart: true}
	ctx, cancel := context.WithCancel(context.Background())
	fs.Context = ctx
	done := make(chan error, 1)
	go func() {
		done <- fs.RunNDJSON(func(p []byte) error { out.Add(int64(bytes.Count(p, []byte{'\n'}))); return nil })
	}()
	var chunk strings.Builder
	for i := range 64 {
		chunk.WriteString(loginLine(i))
		chunk.WriteString("2026-11-27T10:00:00.000000+00:00 mail postfix/smtpd[1]: connect from unknown[192.0.2.1]\n")
	}
	data := []byte(chunk.String())
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	b.ResetTimer()
	start := time.Now()
	writes := b.N/128 + 1
	for range writes {
		if _, err := f.Write(data); err != nil {
			b.Fatal(err)
		}
	}
	want := int64(writes * 64)
	for out.Load() < want {
		time.Sleep(100 * time.Microsecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(writes*128)/elapsed.Seconds(), "lines/s")
}

// Once stopped (its Context done), Run drains what the followers sent and
// returns: it calls neither OnTick nor OnIdle again, the caller's last
// save or commit follows. The daemon's OnTick is a commit, which takes 30 s
// (statecmd.OpTimeout) on a frozen PostgreSQL: each tick picked between the
// messages left (select chooses at random between two ready cases) was
// another 30 s, and SIGTERM took five minutes, past systemd's
// TimeoutStopSec, before the daemon's last commit was even tried.
func TestFollowStopNoTickAfter(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mail.log")
	if err := os.WriteFile(path, []byte(loginLine(1)), 0o644); err != nil {
		t.Fatal(err)
	}
	for round := range 20 {
		ctx, cancel := context.WithCancel(context.Background())
		var stopped atomic.Bool
		var after atomic.Int32
		slow := func() error {
			if stopped.Load() {
				after.Add(1)
				return nil
			}
			// the commit under way when SIGTERM comes, on a state
			// that does not answer: the ticks and the followers'
			// messages pile up meanwhile
			stopped.Store(true)
			cancel()
			time.Sleep(30 * time.Millisecond)
			return nil
		}
		fs := &FollowSource{Files: []string{path}, FromStart: true, Poll: time.Millisecond, NoNotify: true,
			Context: ctx, Tick: time.Millisecond, Opts: Options{Loc: time.UTC, Year: 2026}}
		fs.OnTick, fs.OnIdle = slow, slow
		if err := fs.Run(func(*record.Record) error { return nil }); err != nil {
			t.Fatal(err)
		}
		cancel()
		if n := after.Load(); n != 0 {
			t.Fatalf("round %d: stopped, Run still called OnTick or OnIdle %d times", round, n)
		}
	}
}
