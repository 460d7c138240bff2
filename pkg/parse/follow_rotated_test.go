package parse

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/input"
)

// A first start following a log with Opts.Rotated dates the lines of
// the files rotated from it as a first batch --resume run does: by each
// file's modification time. mail.log.1, rotated from a log quiet for a
// year (its last line of 1 December 2025, read on 30 November 2026),
// was read as the file the writer may still write to, and dated by now:
// its lines of 1 December taken for 2026, the next day, a year late.
// The same without a log at the path (mail.log.1 then read as the log).
func TestFollowRotatedDatedAsBatch(t *testing.T) {
	for _, withLog := range []bool{true, false} {
		t.Run(fmt.Sprint("log ", withLog), func(t *testing.T) { followRotatedDatedAsBatch(t, withLog) })
	}
}

func followRotatedDatedAsBatch(t *testing.T, withLog bool) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mail.log")
	loc := time.UTC
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, loc)
	line := func(at time.Time, i int) string {
		return fmt.Sprintf("%s mail postfix/submission/smtpd[4242]: %X: client=unknown[192.0.2.%d], sasl_method=PLAIN, sasl_username=user%d@example.test\n",
			at.Format(time.Stamp), 0xCEED5BA1AA+int64(i), i, i)
	}
	write := func(name string, b []byte, mtime time.Time) {
		t.Helper()
		if err := os.WriteFile(name, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(name, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Date(2025, 11, 20, 9, 0, 0, 0, loc)
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write([]byte(line(old, 1) + line(old.Add(time.Hour), 2)))
	zw.Close()
	write(path+".2.gz", z.Bytes(), old.Add(2*time.Hour))
	quiet := time.Date(2025, 12, 1, 9, 0, 0, 0, loc)
	write(path+".1", []byte(line(quiet, 3)+line(quiet.Add(time.Hour), 4)), quiet.Add(2*time.Hour))
	if withLog {
		write(path, []byte(line(now.Add(-time.Hour), 5)), now.Add(-time.Hour))
	}

	fs := &FollowSource{Files: []string{path}, Poll: 5 * time.Millisecond,
		Opts: Options{Loc: loc, Now: func() time.Time { return now }, Resume: map[string]*input.Mark{path: nil}, Rotated: true}}
	r := runFollow(t, fs, true)
	want := Source{Names: []string{path}, Opts: Options{Loc: loc, Resume: map[string]*input.Mark{path: nil}, Rotated: true}}
	followedAsWhole(t, r, &want)
}

// followedAsWhole waits until the follower r has written as many records
// as want (a Source reading the same files whole) writes, stops it, and
// checks that it wrote the same NDJSON, byte for byte.
func followedAsWhole(t *testing.T, r *followRun, want *Source) {
	t.Helper()
	var wantOut bytes.Buffer
	if err := want.RunNDJSON(func(b []byte) error { wantOut.Write(b); return nil }); err != nil {
		t.Fatal(err)
	}
	pollUntil(t, "every record", func() bool { return r.len() >= bytes.Count(wantOut.Bytes(), []byte{'\n'}) })
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	if r.out.String() != wantOut.String() {
		t.Errorf("followed:\n%s\nread whole:\n%s", r.out.String(), wantOut.String())
	}
}
