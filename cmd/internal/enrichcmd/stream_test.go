package enrichcmd

import (
	"bufio"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/syncbuf"
	"github.com/loganom/loganom/pkg/enrich/dnstest"
)

// stream runs a command's Main on pipes: it returns stdin's writer, the
// lines of stdout as they come, and the exit code once Main returns.
func stream(t *testing.T, main func(cli.Env) int, args ...string) (io.WriteCloser, <-chan string, <-chan int, *syncbuf.Buffer) {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	stderr := &syncbuf.Buffer{}
	env := cli.Env{Args: args, Stdin: inR, Stdout: outW, Stderr: stderr, Getenv: func(string) string { return "" }}
	code := make(chan int, 1)
	go func() {
		code <- main(env)
		outW.Close()
	}()
	lines := make(chan string, 10)
	go func() {
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	t.Cleanup(func() { inW.Close() })
	return inW, lines, code, stderr
}

// next waits for a line of stdout, failing the test after a long deadline
// rather than hanging it.
func next(t *testing.T, lines <-chan string, stderr *syncbuf.Buffer) string {
	t.Helper()
	select {
	case l := <-lines:
		return l
	case <-time.After(time.Minute):
		t.Fatalf("no record on stdout with stdin open: the stage does not stream\n%s", stderr)
		return ""
	}
}

// loganom-enrich streams: a record written on its stdin comes out enriched
// as soon as its lookups are done, with stdin left open, through a real
// DNS server that answers after a delay; the next one too.
func TestEnrichStreams(t *testing.T) {
	z := &dnstest.Zone{Synthesize: "stream.example", Delay: 50 * time.Millisecond}
	s, err := dnstest.Start(z, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	in, lines, code, stderr := stream(t, Main, "--dns", s.Addr, "--timeout", "10s", "--no-cache", "--geoip", "../../../testdata/geo/example-city.mmdb")
	for _, ip := range []string{"187.45.12.9", "198.51.100.7"} {
		if _, err := io.WriteString(in, `{"type":"login","user":"a","ip":"`+ip+`"}`+"\n"); err != nil {
			t.Fatal(err)
		}
		l := next(t, lines, stderr)
		want := `"ip":"` + ip + `","rdns":"h-` + strings.ReplaceAll(ip, ".", "-") + `.stream.example","rdns_verified":true`
		if !strings.Contains(l, want) {
			t.Fatalf("got %s\nwant %s", l, want)
		}
	}
	in.Close()
	if c := <-code; c != cli.ExitOK {
		t.Errorf("exit %d: %s", c, stderr)
	}
}
