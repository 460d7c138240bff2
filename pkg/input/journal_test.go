package input

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestMain makes this test binary a recorded journalctl when
// LOGANOM_FAKE_JOURNALCTL names a directory (see fakeJournalctl).
func TestMain(m *testing.M) {
	if dir := os.Getenv("LOGANOM_FAKE_JOURNALCTL"); dir != "" {
		os.Exit(fakeJournalctl(dir, os.Args[1:]))
	}
	if dir := os.Getenv("LOGANOM_JOURNAL_PARENT"); dir != "" {
		os.Exit(journalParent(dir))
	}
	os.Exit(m.Run())
}

// fakeJournalctl plays `journalctl --follow --output=json` over a
// recorded stream: the lines of DIR/stream.json, which the test appends
// to. It notes its arguments in DIR/args; it starts after the entry of
// --after-cursor, at the end with --lines=0, or at the start; and, when
// DIR/die holds a number N, it prints N lines, removes the file and
// exits with status 3, as a journalctl that crashed; its pid is in
// DIR/pid. When DIR/fail
// exists, it writes it on stderr and exits with status 1 at once.
func fakeJournalctl(dir string, args []string) int {
	die := -1
	if b, err := os.ReadFile(filepath.Join(dir, "die")); err == nil {
		die, _ = strconv.Atoi(strings.TrimSpace(string(b)))
	}
	read := func() []string {
		b, _ := os.ReadFile(filepath.Join(dir, "stream.json"))
		s := string(b)
		if i := strings.LastIndexByte(s, '\n'); i >= 0 {
			s = s[:i+1]
		} else {
			s = ""
		}
		return strings.SplitAfter(s, "\n")[:strings.Count(s, "\n")]
	}
	// DIR/fail: said on stderr, and exit status 1 at once, as journalctl
	// does with a cursor it cannot seek to
	if b, err := os.ReadFile(filepath.Join(dir, "fail")); err == nil {
		os.Stderr.Write(b)
		return 1
	}
	// DIR/term: it dies of SIGTERM at once (noted in DIR/dying first), as
	// at a stop that signals every process of the service
	if _, err := os.Stat(filepath.Join(dir, "term")); err == nil {
		os.WriteFile(filepath.Join(dir, "dying"), nil, 0o644)
		if p, err := os.FindProcess(os.Getpid()); err == nil {
			p.Signal(syscall.SIGTERM)
		}
		time.Sleep(time.Minute)
	}
	// DIR/pid: its process id, for a test that looks at it
	if err := os.WriteFile(filepath.Join(dir, "pid.new"), []byte(strconv.Itoa(os.Getpid())), 0o644); err == nil {
		os.Rename(filepath.Join(dir, "pid.new"), filepath.Join(dir, "pid"))
	}
	next := 0
	for _, arg := range args {
		switch {
		case strings.HasPrefix(arg, "--after-cursor="):
			c := strings.TrimPrefix(arg, "--after-cursor=")
			found := false
			for i, l := range read() {
				if cursorOf([]byte(l)) == c {
					next, found = i+1, true
				}
			}
			// DIR/strict: a cursor not in the stream fails, as
			// journalctl's does when its entry was vacuumed
			if _, err := os.Stat(filepath.Join(dir, "strict")); err == nil && !found {
				fmt.Fprintln(os.Stderr, "Failed to seek to cursor: Invalid argument")
				return 1
			}
		case arg == "--lines=0":
			next = len(read())
		}
	}
	// noted once it knows where it starts: a test that appends once it
	// sees them started is read from there
	a, _ := json.Marshal(args)
	if f, err := os.OpenFile(filepath.Join(dir, "args"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644); err == nil {
		f.Write(append(a, '\n'))
		f.Close()
	}
	out := bufio.NewWriter(os.Stdout)
	printed := 0
	for {
		lines := read()
		for ; next < len(lines); next++ {
			out.WriteString(lines[next])
			printed++
			if printed == die {
				out.Flush()
				os.Remove(filepath.Join(dir, "die"))
				fmt.Fprintln(os.Stderr, "Failed to iterate through journal: Bad message")
				return 3
			}
		}
		out.Flush()
		time.Sleep(5 * time.Millisecond) // journalctl's own wait for more
	}
}

// journalLine is an entry as `journalctl -o json` (systemd 252) writes it.
func journalLine(i int) string {
	return fmt.Sprintf(`{"__CURSOR":"s=739ad463348b4ceca5a9e69c95a3c93f;i=%x;b=6f3b6c1d2e8a4c0f9d1e2a3b4c5d6e7f;m=%x;t=%x;x=%016x","__REALTIME_TIMESTAMP":"%d","__MONOTONIC_TIMESTAMP":"%d","_BOOT_ID":"6f3b6c1d2e8a4c0f9d1e2a3b4c5d6e7f","PRIORITY":"6","SYSLOG_FACILITY":"2","_UID":"0","_GID":"0","_COMM":"smtpd","_EXE":"/usr/lib/postfix/sbin/smtpd","_SYSTEMD_UNIT":"postfix@-.service","_HOSTNAME":"mail","SYSLOG_IDENTIFIER":"postfix/smtpd","SYSLOG_PID":"%d","_PID":"%d","MESSAGE":"%X: client=unknown[192.0.2.%d], sasl_method=PLAIN, sasl_username=user%d@example.test"}`+"\n",
		0x4ece7+i, 0x1a2b3c+i, 0x5f0e1a2b3c4d+int64(i), 0xabcdef+i, 1795775536000000+int64(i)*1000, 0x1a2b3c+i, 8000+i, 8000+i, 0xCEED5BA1AA+int64(i), i%250, i)
}

// The journal: journalctl started at the end of the journal, killed
// after some lines, started again after the last cursor delivered, and
// stopped with the context: every line written after the start once, in
// order, each delivery with its last entry's cursor.
func TestJournalRestartResume(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("LOGANOM_FAKE_JOURNALCTL", dir)
	self, err := os.Executable()
	must(t, err)
	stream := filepath.Join(dir, "stream.json")
	appendLines := func(from, to int) {
		var b strings.Builder
		for i := from; i < to; i++ {
			b.WriteString(journalLine(i))
		}
		f, err := os.OpenFile(stream, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		must(t, err)
		_, err = f.WriteString(b.String())
		must(t, err)
		must(t, f.Close())
	}
	appendLines(0, 5) // before the start: not read
	must(t, os.WriteFile(filepath.Join(dir, "die"), []byte("7\n"), 0o644))

	var mu sync.Mutex
	var got bytes.Buffer
	var cursors []string
	var warns []string
	idle := 0
	j := &Journal{Command: self, Units: []string{"postfix*"}, Identifiers: []string{"postfix/smtpd"},
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond,
		Warn: func(s string) { mu.Lock(); warns = append(warns, s); mu.Unlock() },
		OnLines: func(l Lines) error {
			mu.Lock()
			defer mu.Unlock()
			got.Write(l.Data)
			if len(l.Data) > 0 && cursorOf(l.Data[bytes.LastIndexByte(l.Data[:len(l.Data)-1], '\n')+1:]) != l.Cursor {
				t.Errorf("delivery's cursor %q is not its last line's", l.Cursor)
			}
			cursors = append(cursors, l.Cursor)
			return nil
		},
		OnIdle: func() error { mu.Lock(); idle++; mu.Unlock(); return nil },
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- j.Run(ctx) }()
	count := func() int { mu.Lock(); defer mu.Unlock(); return bytes.Count(got.Bytes(), []byte{'\n'}) }
	argLines := func() []string {
		b, _ := os.ReadFile(filepath.Join(dir, "args"))
		return strings.Split(strings.TrimSpace(string(b)), "\n")
	}
	waitFor(t, "journalctl started", func() bool { return len(argLines()) >= 1 && argLines()[0] != "" })
	appendLines(5, 30) // the 7th line kills it
	waitFor(t, "25 lines", func() bool { return count() >= 25 })
	appendLines(30, 40)
	waitFor(t, "35 lines", func() bool { return count() >= 35 })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	var want strings.Builder
	for i := 5; i < 40; i++ {
		want.WriteString(journalLine(i))
	}
	if got.String() != want.String() {
		t.Errorf("got %d lines:\n%s\nwant lines 5 to 39", count(), got.String())
	}
	args := argLines()
	if len(args) != 2 {
		t.Fatalf("journalctl started %d times, want 2: %q", len(args), args)
	}
	var first, second []string
	must(t, json.Unmarshal([]byte(args[0]), &first))
	must(t, json.Unmarshal([]byte(args[1]), &second))
	wantFirst := []string{"--follow", "--output=json", "--all", "--quiet", "--unit=postfix*", "--identifier=postfix/smtpd", "--lines=0"}
	if strings.Join(first, " ") != strings.Join(wantFirst, " ") {
		t.Errorf("first run: %q, want %q", first, wantFirst)
	}
	wantCursor := "--after-cursor=" + cursorOf([]byte(journalLine(11)))
	if second[len(second)-1] != wantCursor {
		t.Errorf("second run: %q, want it to end with %q", second, wantCursor)
	}
	if last := cursors[len(cursors)-1]; last != cursorOf([]byte(journalLine(39))) {
		t.Errorf("last cursor %q", last)
	}
	if len(warns) != 2 || !strings.Contains(warns[0], "Bad message") || !strings.Contains(warns[1], "exit status 3") {
		t.Errorf("warnings: %q", warns)
	}
	if idle == 0 {
		t.Error("OnIdle never called")
	}
}

// The cursor is found in journalctl's JSON of any systemd: compact, with
// spaces (before 246), not first, escaped.
func TestCursorOf(t *testing.T) {
	for _, c := range []struct{ line, want string }{
		{`{"__CURSOR":"s=1;i=2","MESSAGE":"x"}`, "s=1;i=2"},
		{`{ "__CURSOR" : "s=1;i=2", "MESSAGE" : "x" }`, "s=1;i=2"},
		{`{"MESSAGE":"x","__CURSOR":"s=3"}`, "s=3"},
		{`{"__CURSOR":"s=\u003d1"}`, "s==1"},
		{`{"MESSAGE":"__CURSOR"}`, ""},
		{`not json "__CURSOR"`, ""},
		{`{"MESSAGE":"no cursor"}`, ""},
	} {
		if got := cursorOf([]byte(c.line)); got != c.want {
			t.Errorf("cursorOf(%s) = %q, want %q", c.line, got, c.want)
		}
	}
}

// A journalctl that cannot be started, or that exits at its first start
// before it gives a line (a cursor saved that it cannot seek to: "Failed
// to seek to cursor: Invalid argument", status 1, each time), stops Run
// with an error that says why, instead of being started again for ever
// with warnings only.
func TestJournalFailsAtStart(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("LOGANOM_FAKE_JOURNALCTL", dir)
	self, err := os.Executable()
	must(t, err)
	must(t, os.WriteFile(filepath.Join(dir, "fail"), []byte("Failed to seek to cursor: Invalid argument\n"), 0o644))
	for _, c := range []struct {
		name, command, cursor string
		want                  []string
	}{
		{"missing", filepath.Join(dir, "no-journalctl"), "", []string{"no-journalctl", "no such file"}},
		{"bad cursor", self, "garbage", []string{"exit status 1", "Failed to seek to cursor: Invalid argument", `"garbage"`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var warns []string
			var mu sync.Mutex
			j := &Journal{Command: c.command, Cursor: c.cursor, MinBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond,
				Warn:    func(s string) { mu.Lock(); warns = append(warns, s); mu.Unlock() },
				OnLines: func(Lines) error { return nil }}
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			err := j.Run(ctx)
			if err == nil {
				mu.Lock()
				t.Fatalf("Run: nil, want an error; %d warnings, the first %q", len(warns), warns[:min(len(warns), 2)])
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Run: %v; want it to say %q", err, w)
				}
			}
		})
	}
}

// journalParent is the test binary run as a process that follows the
// journal (a fake journalctl over DIR) until it is killed.
func journalParent(dir string) int {
	self, err := os.Executable()
	if err != nil {
		return 1
	}
	os.Setenv("LOGANOM_FAKE_JOURNALCTL", dir) // for the child only
	j := &Journal{Command: self, OnLines: func(Lines) error { return nil }}
	j.Run(context.Background())
	return 1
}

// A loganom that dies without stopping journalctl (SIGPIPE once `| head`
// is gone, SIGKILL) takes it along: journalctl --follow is not left
// behind, orphaned, until it next writes (hours on a quiet journal).
func TestJournalctlDiesWithParent(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the signal at the parent's death is Linux's")
	}
	dir := t.TempDir()
	self, err := os.Executable()
	must(t, err)
	parent := exec.Command(self)
	parent.Env = append(os.Environ(), "LOGANOM_JOURNAL_PARENT="+dir)
	must(t, parent.Start())
	pidFile := filepath.Join(dir, "pid")
	waitFor(t, "journalctl started", func() bool { _, err := os.Stat(pidFile); return err == nil })
	b, err := os.ReadFile(pidFile)
	must(t, err)
	pid, err := strconv.Atoi(string(b))
	must(t, err)
	// killed as SIGPIPE kills it when head is gone (a SIGPIPE sent by
	// kill is ignored by a Go program: only one from a write kills it)
	must(t, parent.Process.Kill())
	parent.Wait()
	// gone, or a zombie its new parent has not reaped
	alive := func() bool {
		st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return false
		}
		f := strings.Fields(string(st[bytes.LastIndexByte(st, ')')+1:]))
		return len(f) > 0 && f[0] != "Z" && f[0] != "X"
	}
	for deadline := time.Now().Add(10 * time.Second); alive(); {
		if time.Now().After(deadline) {
			if p, err := os.FindProcess(pid); err == nil {
				p.Kill()
			}
			t.Fatalf("journalctl (pid %d) still runs 10 s after its parent died", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A stop that signals every process of the service at once (systemctl
// stop, Ctrl-C in a terminal) may kill journalctl a moment before loganom
// hears of it: that is the stop, not a journalctl to start again with a
// warning ("signal: terminated; starting it again in 1s").
func TestJournalKilledAtTheStop(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("LOGANOM_FAKE_JOURNALCTL", dir)
	self, err := os.Executable()
	must(t, err)
	must(t, os.WriteFile(filepath.Join(dir, "term"), nil, 0o644))
	var mu sync.Mutex
	var warns []string
	j := &Journal{Command: self, MinBackoff: time.Second, MaxBackoff: time.Second,
		Warn:    func(s string) { mu.Lock(); warns = append(warns, s); mu.Unlock() },
		OnLines: func(Lines) error { return nil }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- j.Run(ctx) }()
	waitFor(t, "journalctl dying", func() bool { _, err := os.Stat(filepath.Join(dir, "dying")); return err == nil })
	time.Sleep(30 * time.Millisecond) // the signal reaches loganom a moment later
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(warns) > 0 {
		t.Errorf("warnings at the stop: %q", warns)
	}
}

// A cursor saved that journalctl cannot seek to ("Failed to seek to
// cursor": damaged, or of another journal) makes it exit at once.
// With the time the cursor was saved, the entries since then are read
// instead (--since), with a warning; without it, it is the error of
// TestJournalFailsAtStart. A daemon with --resume used to stop on it at
// every start, and only a run without --resume could get past it.
func TestJournalCursorGone(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("LOGANOM_FAKE_JOURNALCTL", dir)
	self, err := os.Executable()
	must(t, err)
	must(t, os.WriteFile(filepath.Join(dir, "strict"), nil, 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "stream.json"), []byte(journalLine(1)+journalLine(2)), 0o644))
	saved := time.Date(2026, 11, 30, 23, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	var warns []string
	got := 0
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	j := &Journal{Command: self, Cursor: "s=gone;i=1", CursorTime: saved, MinBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond,
		Warn: func(s string) { mu.Lock(); warns = append(warns, s); mu.Unlock() },
		OnLines: func(l Lines) error {
			mu.Lock()
			defer mu.Unlock()
			if got += bytes.Count(l.Data, []byte("\n")); got >= 2 {
				cancel()
			}
			return nil
		}}
	if err := j.Run(ctx); err != nil {
		t.Fatalf("Run: %v; want the entries since the cursor was saved", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if got != 2 {
		t.Errorf("%d entries delivered, want 2", got)
	}
	if len(warns) != 1 || !strings.Contains(warns[0], "Failed to seek to cursor") || !strings.Contains(warns[0], "reading the entries since it was saved") {
		t.Errorf("warnings %q; want one that says the entries since the cursor was saved are read", warns)
	}
	args, _ := os.ReadFile(filepath.Join(dir, "args"))
	if want := fmt.Sprintf(`"--since=@%d"`, saved.Unix()); !strings.Contains(string(args), want) {
		t.Errorf("journalctl's arguments:\n%s\nwant %s", args, want)
	}
}
