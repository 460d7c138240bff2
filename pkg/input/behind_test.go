package input

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestBehind: the bytes still to read after a mark, wherever the mark is:
// in the log (its rest), in a rotated plain file (its rest, the newer
// rotated files and the log), in a gzip file (its rest in proportion to
// the content read), in a file deleted since (not known).
func TestBehind(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("files are not identified here")
	}
	dir := t.TempDir()
	logf := filepath.Join(dir, "mail.log")
	line := "Nov 28 10:00:00 mx postfix/smtpd[1]: connect from unknown[192.0.2.1]\n"
	content := strings.Repeat(line, 400)
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write([]byte(content))
	zw.Close()
	write := func(name string, b []byte) int64 {
		t.Helper()
		if err := os.WriteFile(name, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return int64(len(b))
	}
	gz := write(logf+".3.gz", z.Bytes())
	two := write(logf+".2", []byte(content))
	one := write(logf+".1", []byte(content[:1000]))
	now := write(logf, []byte(content[:500]))
	write(filepath.Join(dir, "other.log"), []byte(content)) // not rotated from mail.log

	mark := func(name string, off int64) Mark {
		t.Helper()
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		dev, ino, _ := identity(fi)
		return Mark{Dev: dev, Ino: ino, Offset: off}
	}
	half := int64(len(content) / 2)
	for _, c := range []struct {
		name string
		m    Mark
		want int64
	}{
		{"the log, read to its end", mark(logf, now), 0},
		{"the log, 100 bytes behind", mark(logf, now-100), 100},
		{"mail.log.1, from its start", mark(logf+".1", 0), one + now},
		{"mail.log.2, half read", mark(logf+".2", half), two - half + one + now},
		{"mail.log.3.gz, not started", mark(logf+".3.gz", 0), gz + two + one + now},
		{"mail.log.3.gz, half read", mark(logf+".3.gz", half), gz - gz/2 + two + one + now},
		{"mail.log.3.gz, read to its end", mark(logf+".3.gz", int64(len(content))), two + one + now},
	} {
		got, ok := Behind(logf, c.m)
		if !ok {
			t.Errorf("%s: not known", c.name)
			continue
		}
		if c.name == "mail.log.3.gz, half read" {
			// in proportion: one byte either way
			if d := got - c.want; d < -1 || d > 1 {
				t.Errorf("%s: %d bytes behind, want %d", c.name, got, c.want)
			}
			continue
		}
		if got != c.want {
			t.Errorf("%s: %d bytes behind, want %d", c.name, got, c.want)
		}
	}

	// a file that is not the log's, and one deleted since: not known
	if n, ok := Behind(logf, mark(filepath.Join(dir, "other.log"), 0)); ok {
		t.Errorf("a mark in another log: %d bytes behind, want not known", n)
	}
	gone := mark(logf+".1", 10)
	os.Remove(logf + ".1")
	if n, ok := Behind(logf, gone); ok {
		t.Errorf("a mark in a deleted file: %d bytes behind, want not known", n)
	}
	// no log at the path: not known
	os.Remove(logf)
	if n, ok := Behind(logf, gone); ok {
		t.Errorf("no log: %d bytes behind, want not known", n)
	}
}
