package parse

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// logrotateBin returns the logrotate program: the test is skipped without
// it, except in CI (env CI set), where it fails.
func logrotateBin(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("logrotate"); err == nil {
		return p
	}
	for _, p := range []string{"/usr/sbin/logrotate", "/sbin/logrotate"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("logrotate is not installed (Debian package logrotate)")
	}
	t.Skip("logrotate is not installed (Debian package logrotate)")
	return ""
}

// logrotate rotates the log with the real logrotate, forced, with its
// state file and configuration in the test's directory.
func (l *logSim) logrotate(bin, directives string) {
	t := l.t
	t.Helper()
	conf := filepath.Join(l.dir, "logrotate.conf")
	text := fmt.Sprintf("%s {\n%s\n}\n", l.path, directives)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-s", filepath.Join(l.dir, "logrotate.state"), "-f", conf)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("logrotate: %v\n%s\nconfiguration:\n%s", err, out.Bytes(), text)
	}
	if !exists(l.path) {
		// logrotate with copytruncate or create leaves a file at the
		// path; say so if a version does not.
		t.Fatalf("logrotate left no %s:\n%s", l.path, out.Bytes())
	}
}

// The real logrotate drives the log, configured each of its ways, across
// runs with one, two or no rotations between them: every login written is
// read exactly once, and each run reads what was new.
func TestResumeRealLogrotate(t *testing.T) {
	bin := logrotateBin(t)
	for _, c := range []struct{ name, directives string }{
		{"create", "rotate 9\ncreate"},
		{"copytruncate", "rotate 9\ncopytruncate"},
		{"compress", "rotate 9\ncreate\ncompress"},
		{"delaycompress", "rotate 9\ncreate\ncompress\ndelaycompress"},
		{"copytruncate delaycompress", "rotate 9\ncopytruncate\ncompress\ndelaycompress"},
		{"dateext compress", "rotate 9\ncreate\ncompress\ndateext\ndateformat -%Y%m%d-%s"},
		{"xz", "rotate 9\ncreate\ncompress\ndelaycompress\ncompresscmd /usr/bin/xz\ncompressext .xz"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if strings.Contains(c.directives, "/usr/bin/xz") && !exists("/usr/bin/xz") {
				t.Skip("no /usr/bin/xz")
			}
			l := newLogSim(t)
			var last int64
			rot := func() {
				if strings.Contains(c.directives, "dateext") {
					// The name has the time to the second: a second
					// rotation within the same second would find its
					// name taken. Wait for the clock's next second,
					// and 50 ms more: logrotate's time(2) is the
					// kernel's coarse clock, a tick behind Go's (a
					// run here found its name taken, once).
					for time.Now().Add(-50*time.Millisecond).Unix() <= last {
						runtime.Gosched()
					}
					defer func() { last = time.Now().Unix() }()
				}
				l.logrotate(bin, c.directives)
			}
			want := func(n int) {
				t.Helper()
				before := len(l.seen)
				src := l.run(l.runs%2 == 1)
				if got := len(l.seen) - before; got != n || src.Stats.Logins != int64(n) {
					t.Errorf("run %d: read %d new logins (%d in stats), want %d", l.runs, got, src.Stats.Logins, n)
				}
			}
			l.write(5)
			want(5) // run 1
			l.write(3)
			rot()
			l.write(4)
			want(7) // run 2: the rest of the old file, and the new one
			l.write(2)
			rot()
			l.write(6)
			want(8) // run 3: delaycompress compressed the file of run 1
			l.write(1)
			rot()
			l.write(2)
			rot()
			l.write(3)
			want(6) // run 4: two rotations between runs
			want(0) // run 5: nothing new
			rot()
			l.write(1)
			want(1) // run 6: a rotation, nothing left in the old file
			rot()
			want(0) // run 7: the log just rotated, found empty
			l.write(2)
			rot()
			l.write(3)
			want(5) // run 8: the file found empty, rotated since, and the new one
			rot()
			want(0) // run 9: empty again
			l.write(1)
			rot()
			l.write(2)
			rot()
			want(3) // run 10: two rotations since the file was found empty
			l.check()
			if len(l.warnings) > 0 {
				t.Errorf("warnings: %q", l.warnings)
			}
			if t.Failed() || testing.Verbose() {
				ls, _ := exec.Command("ls", "-l", "--full-time", l.dir).CombinedOutput()
				t.Logf("%s", ls)
			}
		})
	}
}
