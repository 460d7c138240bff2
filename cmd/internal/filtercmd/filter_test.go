package filtercmd

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/syncbuf"
)

// loganom-filter streams: each record written on its stdin comes out (or
// is dropped) at once, with stdin left open, as in
// `loganom-parse --follow | loganom-enrich | loganom-filter --explain | loganom-report --follow`.
func TestFilterStreams(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "config.ini")
	os.WriteFile(conf, []byte("[GENERAL]\npattern_ip = google.com\ncountry_ignore = US\n"), 0o600)
	inR, in := io.Pipe()
	outR, outW := io.Pipe()
	stderr := &syncbuf.Buffer{}
	env := cli.Env{Args: []string{"-c", conf, "--explain"}, Stdin: inR, Stdout: outW, Stderr: stderr, Getenv: func(string) string { return "" }}
	code := make(chan int, 1)
	go func() {
		code <- Main(env)
		outW.Close()
	}()
	defer in.Close()
	lines := make(chan string, 10)
	go func() {
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	for _, c := range []struct{ in, want string }{
		{`{"type":"login","user":"a","ip":"203.0.114.1","rdns":"mail.google.com","rdns_verified":true,"country":"US"}`, `"filtered_by":"pattern_ip: google.com"`},
		{`{"type":"login","user":"b","ip":"203.0.114.2","country":"BR"}`, `"user":"b","ip":"203.0.114.2","country":"BR"}`},
	} {
		if _, err := io.WriteString(in, c.in+"\n"); err != nil {
			t.Fatal(err)
		}
		select {
		case l := <-lines:
			if !strings.Contains(l, c.want) {
				t.Fatalf("got %s, want %s", l, c.want)
			}
		case <-time.After(time.Minute):
			t.Fatalf("no record on stdout with stdin open: the stage does not stream\n%s", stderr)
		}
	}
	in.Close()
	if c := <-code; c != cli.ExitOK {
		t.Errorf("exit %d: %s", c, stderr)
	}
}
