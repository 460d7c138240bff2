// Package clitest holds what the commands' testscript tests share: the
// programs, the environment, and custom script commands.
package clitest

import (
	"bytes"
	"compress/gzip"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"
	"github.com/klauspost/compress/zstd"
	"github.com/rogpeppe/go-internal/testscript"
	"github.com/ulikunitz/xz"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/enrichcmd"
	"github.com/loganom/loganom/cmd/internal/filtercmd"
	"github.com/loganom/loganom/cmd/internal/loganomcmd"
	"github.com/loganom/loganom/cmd/internal/parsecmd"
	"github.com/loganom/loganom/cmd/internal/reportcmd"
	"github.com/loganom/loganom/pkg/enrich/dnstest"
)

// Main runs the tests with every loganom command available to scripts,
// run in-process through the test binary.
func Main(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"loganom-parse":  func() { os.Exit(parsecmd.Main(cli.OS())) },
		"loganom-enrich": func() { os.Exit(enrichcmd.Main(cli.OS())) },
		"loganom-filter": func() { os.Exit(filtercmd.Main(cli.OS())) },
		"loganom-report": func() { os.Exit(reportcmd.Main(cli.OS())) },
		"loganom":        func() { os.Exit(loganomcmd.Main(cli.OS())) },
	})
}

// Run runs the scripts of dir. Scripts see $GEO, the bundled example
// databases; a UTC clock; and no debug or data directories of the user's.
func Run(t *testing.T, dir string) {
	geo, err := filepath.Abs("../../testdata/geo")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: dir,
		Setup: func(env *testscript.Env) error {
			env.Setenv("TZ", "UTC")
			env.Setenv("LOGLEVEL", "")
			env.Setenv("GEO", geo)
			env.Setenv("ROOT", filepath.Dir(filepath.Dir(geo)))
			env.Setenv("LOGANOM_DATA", "")
			env.Setenv("LOGANOM_POISON_REUSE", "1") // parse.Options.Poison
			env.Setenv("XDG_CACHE_HOME", filepath.Join(env.WorkDir, ".cache"))
			env.Setenv("XDG_DATA_HOME", filepath.Join(env.WorkDir, ".data"))
			env.Setenv("XDG_STATE_HOME", filepath.Join(env.WorkDir, ".state"))
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"compress":     compressCmd,
			"mtime":        mtimeCmd,
			"exitcode":     exitcodeCmd,
			"dnsserver":    dnsServerCmd,
			"ipinfoserver": ipinfoServerCmd,
			"smtpserver":   smtpServerCmd,
			"hookserver":   hookServerCmd,
			"readme":       readmeCmd,
		},
	})
}

// compress FORMAT SRC DST writes SRC compressed with gzip, xz or zstd.
func compressCmd(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 {
		ts.Fatalf("usage: compress gzip|xz|zstd SRC DST")
	}
	data, err := os.ReadFile(ts.MkAbs(args[1]))
	ts.Check(err)
	var buf bytes.Buffer
	switch args[0] {
	case "gzip":
		w := gzip.NewWriter(&buf)
		w.Write(data)
		ts.Check(w.Close())
	case "xz":
		w, err := xz.NewWriter(&buf)
		ts.Check(err)
		w.Write(data)
		ts.Check(w.Close())
	case "zstd":
		w, err := zstd.NewWriter(&buf)
		ts.Check(err)
		w.Write(data)
		ts.Check(w.Close())
	default:
		ts.Fatalf("unknown format %s", args[0])
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[2]), buf.Bytes(), 0o644))
}

// readme TEXT OUT writes to OUT the code block of README.md (its lines
// indented by four spaces) that holds TEXT, without the indent: so that a
// script tests a recipe as the README writes it.
func readmeCmd(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: readme TEXT OUT")
	}
	b, err := os.ReadFile(filepath.Join(ts.Getenv("ROOT"), "README.md"))
	ts.Check(err)
	var block []string
	flush := func() bool {
		if strings.Contains(strings.Join(block, "\n"), args[0]) {
			ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(strings.Join(block, "\n")+"\n"), 0o755))
			return true
		}
		block = block[:0]
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "    ") {
			block = append(block, line[4:])
			continue
		}
		if flush() {
			return
		}
	}
	if !flush() {
		ts.Fatalf("README.md has no code block holding %q", args[0])
	}
}

// mtime FILE RFC3339 sets a file's modification time.
func mtimeCmd(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: mtime FILE TIME")
	}
	t, err := time.Parse(time.RFC3339, args[1])
	ts.Check(err)
	ts.Check(os.Chtimes(ts.MkAbs(args[0]), t, t))
}

// exitcode N PROG ARGS... runs PROG and checks that it exits with N; its
// stdout and stderr are then checked as after exec.
func exitcodeCmd(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: exitcode N PROG [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		got = ee.ExitCode()
	} else if err != nil {
		ts.Fatalf("%v", err)
	}
	if got != want {
		ts.Fatalf("exit code %d, want %d", got, want)
	}
}

// dnsserver ZONEFILE starts a DNS server on loopback for the rest of the
// script, answering from the zone file (see dnstest.ParseZone), and sets
// $DNS to its address.
func dnsServerCmd(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: dnsserver ZONEFILE")
	}
	z, err := dnstest.ParseZone(ts.ReadFile(args[0]))
	ts.Check(err)
	s, err := dnstest.Start(z, "127.0.0.1:0")
	ts.Check(err)
	ts.Defer(s.Close)
	ts.Setenv("DNS", s.Addr)
}

// ipinfoserver starts an HTTPS server shaped like ipinfo.io for the rest of
// the script: it answers GET /IP/json with the token "test-token" in an
// Authorization header, and 403 without it. It sets $IPINFO_URL, and
// $SSL_CERT_FILE so that the commands trust its certificate.
func ipinfoServerCmd(ts *testscript.TestScript, neg bool, args []string) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer test-token" {
			http.Error(w, "{}", http.StatusForbidden)
			return
		}
		ip := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/"), "/json")
		fmt.Fprintf(w, `{"ip": %q, "city": "Lagos", "region": "Lagos", "country": "NG", "loc": "6.4541,3.3947", "org": "AS37148 Globacom Limited"}`, ip)
	}))
	ts.Defer(srv.Close)
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	path := ts.MkAbs("ipinfo-cert.pem")
	ts.Check(os.WriteFile(path, cert, 0o644))
	ts.Setenv("IPINFO_URL", srv.URL)
	ts.Setenv("SSL_CERT_FILE", path)
}

// smtpserver starts a real SMTP server (go-smtp) on loopback for the rest
// of the script; each message it receives is written to $WORK/mail/N.eml
// with its envelope recipients in an X-Rcpt header. It sets $SMTP_PORT.
func smtpServerCmd(ts *testscript.TestScript, neg bool, args []string) {
	dir := ts.MkAbs("mail")
	ts.Check(os.MkdirAll(dir, 0o755))
	be := &mailBackend{dir: dir}
	srv := gosmtp.NewServer(be)
	srv.Domain = "localhost"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	go srv.Serve(ln)
	ts.Defer(func() { srv.Close() })
	ts.Setenv("SMTP_PORT", strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
}

type mailBackend struct {
	dir string
	mu  sync.Mutex
	n   int
}

func (b *mailBackend) NewSession(*gosmtp.Conn) (gosmtp.Session, error) {
	return &mailSession{b: b}, nil
}

type mailSession struct {
	b     *mailBackend
	rcpts []string
}

func (s *mailSession) Reset()                                 { s.rcpts = nil }
func (s *mailSession) Logout() error                          { return nil }
func (s *mailSession) Mail(string, *gosmtp.MailOptions) error { return nil }
func (s *mailSession) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	s.rcpts = append(s.rcpts, to)
	return nil
}
func (s *mailSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.b.mu.Lock()
	s.b.n++
	n := s.b.n
	s.b.mu.Unlock()
	out := "X-Rcpt: " + strings.Join(s.rcpts, ", ") + "\r\n" + string(data)
	return os.WriteFile(filepath.Join(s.b.dir, strconv.Itoa(n)+".eml"), []byte(out), 0o644)
}

// hookserver NAME starts an HTTP server that records each request's path
// and body in $WORK/NAME/N.txt and answers 200; it sets $NAME_URL.
func hookServerCmd(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: hookserver NAME")
	}
	dir := ts.MkAbs(args[0])
	ts.Check(os.MkdirAll(dir, 0o755))
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		n++
		k := n
		mu.Unlock()
		os.WriteFile(filepath.Join(dir, strconv.Itoa(k)+".txt"), append([]byte(r.URL.Path+"\n"), body...), 0o644)
	}))
	ts.Defer(srv.Close)
	ts.Setenv(strings.ToUpper(args[0])+"_URL", srv.URL)
}
