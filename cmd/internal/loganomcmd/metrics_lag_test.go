package loganomcmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/enrich"
	"github.com/loganom/loganom/pkg/input"
	"github.com/loganom/loganom/pkg/parse"
)

// TestLagDuringCatchUp: loganom_lag_bytes has a value while the daemon
// reads the files rotated from the log (a first start's catch-up over
// the weeks on disk, minutes on a busy server): what is left of the
// file being read, the newer rotated files and the log. It used to be
// set only once the mark was in the file at the path, so a long
// catch-up showed nothing.
func TestLagDuringCatchUp(t *testing.T) {
	dir := t.TempDir()
	logf := filepath.Join(dir, "mail.log")
	line := liveLine(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC), "ana@example.test", saoPaulo)
	old := strings.Repeat(line, 20)
	if err := os.WriteFile(logf+".1", []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(logf, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	mark := func(name string, off int64) input.Mark {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		dev, ino, _ := input.Identity(fi)
		return input.Mark{Dev: dev, Ino: ino, Offset: off}
	}
	m := newMetrics()
	for _, c := range []struct {
		what string
		mk   input.Mark
		want int
	}{
		{"catching up, in mail.log.1", mark(logf+".1", int64(len(line))), len(old)},
		{"caught up", mark(logf, int64(len(line))), 0},
	} {
		m.sync(parse.Stats{}, enrich.Stats{}, 0, 0, 0, map[string]input.Mark{logf: c.mk})
		got, ok := m.reg.Value("loganom_lag_bytes", logf)
		if !ok || got != float64(c.want) {
			t.Errorf("%s: loganom_lag_bytes %v (set: %v), want %d", c.what, got, ok, c.want)
		}
	}
}
