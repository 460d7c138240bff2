package parse

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/input"
)

// The real logrotate, its configuration changed between rotations (as a
// postmaster changes it: compress set or dropped, copytruncate for create,
// dateext, a shorter rotate count), with writes and runs in a random
// order: every login still on disk at some run is read, and none twice.
// The old kind's rotated files stay beside the new kind's and logrotate
// renames over some of them; a run used to read the log from its start
// when the file it had read last was clobbered, and to read a plain file
// left by the old configuration again, or none of the new kind's files
// sorting before it (the stop-30 loss of 24 logins in a directory that
// many configurations had used).
func TestResumeRealLogrotateReconfigured(t *testing.T) {
	bin := logrotateBin(t)
	configs := []string{
		"rotate 9\ncreate",
		"rotate 9\ncopytruncate",
		"rotate 9\ncreate\ncompress",
		"rotate 9\ncreate\ncompress\ndelaycompress",
		"rotate 9\ncopytruncate\ncompress\ndelaycompress",
		"rotate 3\ncreate\ncompress\ndelaycompress",
		"rotate 9\ncreate\ncompress\ndateext\ndateformat -%Y%m%d-%s",
	}
	for seed := range uint64(6) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			rnd := rand.New(rand.NewPCG(seed, 0x6c6f67))
			l := newLogSim(t)
			l.rotated = true // a first run reads the rotated files too, as the commands' do
			l.write(1)
			onDisk := map[string]bool{} // the users in the log's files at some run
			look := func() {
				t.Helper()
				for _, u := range usersOnDisk(t, l.path) {
					onDisk[u] = true
				}
			}
			var last int64
			var steps []string
			for step := range 80 {
				switch r := rnd.IntN(10); {
				case r < 5:
					k := 1 + rnd.IntN(5)
					l.write(k)
					steps = append(steps, fmt.Sprintf("%d: write %d", step, k))
				case r < 8:
					look()
					l.run(false)
					steps = append(steps, fmt.Sprintf("%d: run", step))
				default:
					c := rnd.IntN(len(configs))
					if strings.Contains(configs[c], "dateext") {
						// the name has the second: the next one
						for time.Now().Add(-50*time.Millisecond).Unix() <= last {
							runtime.Gosched()
						}
					}
					l.logrotate(bin, configs[c])
					last = time.Now().Unix()
					steps = append(steps, fmt.Sprintf("%d: logrotate %q", step, configs[c]))
				}
			}
			look()
			l.run(false)
			for i := range l.written {
				u := fmt.Sprintf("u%d@example.test", i)
				switch n := l.seen[u]; {
				case n > 1:
					t.Errorf("%s read %d times", u, n)
				case n == 0 && onDisk[u]:
					t.Errorf("%s not read, though on disk at a run", u)
				}
			}
			if t.Failed() {
				ls, _ := exec.Command("ls", "-l", "--full-time", l.dir).CombinedOutput()
				t.Logf("steps:\n%s\nwarnings: %q\n%s", strings.Join(steps, "\n"), l.warnings, ls)
			}
		})
	}
}

// usersOnDisk returns the users of the logins in the log at path and in
// the files rotated from it (by their names, as Plan knows them: not
// logrotate's "….backup" of a name it found taken), decompressed.
func usersOnDisk(t *testing.T, path string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	var users []string
	for _, e := range entries {
		name := filepath.Join(filepath.Dir(path), e.Name())
		if name != path && !input.RotatedFrom(path, name) {
			continue
		}
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		r, _, release, err := input.Decompress(f)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if m := userLineRE.FindStringSubmatch(sc.Text()); m != nil {
				users = append(users, m[1])
			}
		}
		release()
		f.Close()
	}
	return users
}

var userLineRE = regexp.MustCompile(`sasl_username=(\S+)`)
