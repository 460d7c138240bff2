package input

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// When logrotate's configuration changes (compress set, or dateext, or
// another rotate count), the old kind's rotated files stay beside the new
// kind's, and logrotate renames over some of them. Plan reads what was
// written since the mark, by the files' times, and nothing twice:
//   - a plain mail.log.2 left by the old configuration does not hide
//     the mail.log.2.gz of the new (they start apart: not a compression
//     under way);
//   - a file that sorts after the one read last time but was last
//     written before the mark was read, and before that file, is not
//     read again (one written after that file is: a daemon catching up
//     saves marks later than the files it has not read yet);
//   - a file written since that sorts before it (the new kind's numbers
//     ran apart from the old's) is read;
//   - the file read last time deleted (clobbered, or past the rotate
//     count while no run read): the files rotated since are read, then
//     the log, with a warning.
func TestPlanReconfiguredLogrotate(t *testing.T) {
	lines := func(tag string, n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "Nov 28 10:00:%02d mail postfix/smtpd[1]: %s line %d\n", i, tag, i)
		}
		return b.String()
	}
	A, B, O, G, F := lines("read", 5), lines("after the mark", 3), lines("old", 4), lines("since", 6), lines("new log", 2)
	saved := time.Now().Add(-time.Hour).Truncate(time.Second)
	older, before, since := saved.Add(-40*time.Minute), saved.Add(-30*time.Minute), saved.Add(10*time.Minute)

	type file struct {
		name  string
		text  string
		gz    bool
		mtime time.Time
		keep  bool // the mark's file itself, as it is
	}
	for _, c := range []struct {
		name string
		mark string // the file the mark is taken of, holding A
		// what is on disk at the next run, each file made anew but
		// the one kept
		files []file
		want  []string // the pieces: name@offset
		warn  string
	}{
		{
			name: "a plain file of the old configuration beside the compressed one of the new",
			mark: "mail.log",
			files: []file{
				{"mail.log.2", O, false, before, false},
				{"mail.log.2.gz", A + B, true, since, false},
				{"mail.log", F, false, since, false},
			},
			want: []string{"mail.log.2.gz@" + fmt.Sprint(len(A)), "mail.log@0"},
		},
		{
			name: "an old plain file that sorts after the one read last time",
			mark: "mail.log",
			files: []file{
				{"mail.log.3.gz", A + B, true, since, false},
				{"mail.log.2", O, false, before, false},
				{"mail.log", F, false, since, false},
			},
			want: []string{"mail.log.3.gz@" + fmt.Sprint(len(A)), "mail.log@0"},
		},
		{
			name: "a file written since that sorts before the one read last time",
			mark: "mail.log.2",
			files: []file{
				{"mail.log.4.gz", G, true, since, false},
				{"mail.log.3", O, false, before, false},
				{"mail.log.2", A, false, before, true},
				{"mail.log", F, false, since, false},
			},
			want: []string{"mail.log.2@" + fmt.Sprint(len(A)), "mail.log.4.gz@0", "mail.log@0"},
		},
		{
			// not a change of configuration: a daemon that caught up
			// saves marks later than what it has not read yet
			name: "a file rotated after the one read last time, written before the mark was saved",
			mark: "mail.log.2",
			files: []file{
				{"mail.log.2", A, false, older, true},
				{"mail.log.1", G, false, before, false},
				{"mail.log", F, false, since, false},
			},
			want: []string{"mail.log.2@" + fmt.Sprint(len(A)), "mail.log.1@0", "mail.log@0"},
		},
		{
			name: "the file read last time deleted, one rotated since",
			mark: "mail.log",
			files: []file{
				{"mail.log.2", O, false, before, false},
				{"mail.log.1", G, false, since, false},
				{"mail.log", F, false, since, false},
			},
			want: []string{"mail.log.1@0", "mail.log@0"},
			warn: "the rest of the rotated log was not found among its siblings; reading the 1 file rotated from it since, then PATH from the start",
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "mail.log")
			markFile := filepath.Join(dir, c.mark)
			must(t, os.WriteFile(markFile, []byte(A), 0o644))
			p, err := openPiece(markFile)
			must(t, err)
			m := p.Mark(int64(len(A)))
			p.File.Close()
			m.Saved = saved
			kept := false
			for _, f := range c.files {
				name := filepath.Join(dir, f.name)
				if f.keep {
					kept = true
				} else {
					data := []byte(f.text)
					if f.gz {
						data = compress(t, data, Gzip)
					}
					if name == markFile {
						must(t, os.Remove(name)) // a new inode
					}
					must(t, os.WriteFile(name+".tmp", data, 0o644))
					must(t, os.Rename(name+".tmp", name))
				}
				must(t, os.Chtimes(name, f.mtime, f.mtime))
			}
			if _, err := os.Stat(markFile); err == nil && !kept && !slices.ContainsFunc(c.files, func(f file) bool { return f.name == c.mark }) {
				must(t, os.Remove(markFile))
			}
			var warnings []string
			ps, err := Plan(path, &m, func(w string) { warnings = append(warnings, w) })
			must(t, err)
			defer ClosePieces(ps)
			var got []string
			for _, p := range ps {
				got = append(got, fmt.Sprintf("%s@%d", filepath.Base(p.Name), p.Offset))
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("plan %q, want %q", got, c.want)
			}
			want := []string{}
			if c.warn != "" {
				want = []string{path + ": " + strings.ReplaceAll(c.warn, "PATH", path)}
			}
			if !slices.Equal(warnings, want) && !(len(warnings) == 0 && len(want) == 0) {
				t.Errorf("warnings %q, want %q", warnings, want)
			}
		})
	}
}
