package loganomcmd

import (
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/state"
)

// TestFollowFirstStartRotated: the daemon's first start with --resume (no
// position saved) reads the files rotated from the log, the oldest first,
// then the log from its start, and then follows it, as a first batch
// --resume run reads them: ana's and lucas's days at home, in
// mail.log.2.gz and mail.log.1, are their history, ana's impossible trip
// in mail.log, written before the start, is alerted, and every login is
// recorded once; it says when it has caught up. A restart reads nothing
// again. Without --resume, the daemon starts at the log's end.
func TestFollowFirstStartRotated(t *testing.T) {
	dir := t.TempDir()
	logf := filepath.Join(dir, "mail.log")
	cfg := filepath.Join(dir, "config.ini")
	liveConfig(t, cfg, "BR", "")
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	day := func(d int) string {
		var b strings.Builder
		for _, u := range []string{"ana@example.test", "lucas@example.test"} {
			b.WriteString(liveLine(t0.Add(time.Duration(d)*24*time.Hour), u, saoPaulo))
		}
		return b.String()
	}
	write := func(name, s string) {
		t.Helper()
		if err := os.WriteFile(name, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var z strings.Builder
	zw := gzip.NewWriter(&z)
	zw.Write([]byte(day(0) + day(1)))
	zw.Close()
	write(logf+".2.gz", z.String())
	write(logf+".1", day(2))
	at := t0.Add(3*24*time.Hour + 8*time.Hour)
	write(logf, liveLine(at, "ana@example.test", saoPaulo)+liveLine(at.Add(20*time.Minute), "ana@example.test", osaka))
	written := 8

	for _, resume := range []bool{false, true} {
		db := filepath.Join(dir, "state.db")
		os.Remove(db)
		args := []string{"-c", cfg, "-l", logf, "--db", db, "--year", "2026", "--tz", "UTC"}
		if resume {
			args = append(args, "--resume")
		}
		lines, stderr, code := startDaemon(t, args...)
		if !resume {
			// from the end: nothing read, nothing alerted
			if c := stopDaemon(t, stderr, code); c != 0 {
				t.Fatalf("exit %d\n%s", c, stderr)
			}
			for l := range lines {
				t.Errorf("without --resume, an alert from what was written before the start: %s", l)
			}
			continue
		}
		if !strings.Contains(stderr.String(), "following "+logf+", from the oldest file rotated from "+logf+" (no position saved yet)") {
			t.Errorf("the start does not say it reads the rotated files first:\n%s", stderr)
		}
		alert := nextAlert(t, lines)
		if alert["user"] != "ana@example.test" || alert["severity"] != "high" {
			t.Fatalf("alert %v", alert)
		}
		st, err := state.Open(context.Background(), db, state.Options{})
		if err != nil {
			t.Fatal(err)
		}
		count := func() int64 { return historyCount(t, st, "ana@example.test", "lucas@example.test") }
		waitFor(t, "every login recorded", func() bool { return count() >= int64(written) })
		waitFor(t, "the catch-up said done", func() bool {
			return strings.Contains(stderr.String(), "caught up: 8 lines read, 8 logins; following what comes")
		})
		if c := stopDaemon(t, stderr, code); c != 0 {
			t.Fatalf("exit %d\n%s", c, stderr)
		}
		if strings.Contains(stderr.String(), "warning") || strings.Contains(stderr.String(), "error") {
			t.Errorf("stderr:\n%s", stderr)
		}

		// started again: the position saved, nothing read twice
		lines, stderr, code = startDaemon(t, args...)
		if strings.Contains(stderr.String(), "rotated") {
			t.Errorf("the restart reads the rotated files again:\n%s", stderr)
		}

		f, err := os.OpenFile(logf, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(liveLine(at.Add(time.Hour), "lucas@example.test", saoPaulo))
		f.Close()
		written++
		waitFor(t, "the new login recorded", func() bool { return count() >= int64(written) })
		if c := stopDaemon(t, stderr, code); c != 0 {
			t.Fatalf("exit %d\n%s", c, stderr)
		}
		if strings.Contains(stderr.String(), "caught up") {
			t.Errorf("the restart says it caught up with the files on disk:\n%s", stderr)
		}
		if n := count(); n != int64(written) {
			t.Errorf("history counts %d logins, %d written", n, written)
		}
		for l := range lines {
			t.Errorf("another alert after the restart: %s", l)
		}
		st.Close()
	}
}
