package loganomcmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A daemon that met an error while it ran (here a webhook that refuses
// every alert; a state down for a while, since recovered, is the same)
// ends with exit status 1 when stopped, and systemd marks the unit failed.
// Its last line, "stopped: 1 account, 1 alert", said nothing of why: the
// error may be days up in the journal. The stop line now says the exit
// status and when the first error was.
func TestFollowStopSaysWhyFailed(t *testing.T) {
	dir := t.TempDir()
	logf := filepath.Join(dir, "mail.log")
	cfg := filepath.Join(dir, "config.ini")
	liveConfig(t, cfg, "BR", "http://127.0.0.1:9/never")
	if err := os.WriteFile(logf, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	lines, stderr, code := startDaemon(t, "-c", cfg, "-l", logf, "--no-db", "--year", "2026", "--tz", "UTC")
	waitFor(t, "following", func() bool { return strings.Contains(stderr.String(), "following") })
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	f, err := os.OpenFile(logf, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, ip := range []string{"92.36.10.20", "176.63.195.207", "195.242.178.3"} { // many places: BA, HU, PL
		f.WriteString(liveLine(at.Add(time.Duration(i)*time.Second), "ana@example.test", ip))
	}
	f.Close()
	nextAlert(t, lines)
	waitFor(t, "the webhook's failure", func() bool { return strings.Contains(stderr.String(), "notify webhook") })
	if c := stopDaemon(t, stderr, code); c != 1 {
		t.Fatalf("exit %d, want 1\n%s", c, stderr)
	}
	var stop string
	for _, l := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(l, "stopped: ") {
			stop = l
		}
	}
	if !strings.Contains(stop, "exit status 1") || !strings.Contains(stop, "the first at ") {
		t.Errorf("the stop line: %q\n%s", stop, stderr)
	}
}
