package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/enrichcmd"
	"github.com/loganom/loganom/cmd/internal/filtercmd"
	"github.com/loganom/loganom/cmd/internal/loganomcmd"
	"github.com/loganom/loganom/cmd/internal/parsecmd"
	"github.com/loganom/loganom/cmd/internal/reportcmd"
)

// TestWrapperReuseSameAsPipe runs the wrapper on a log of many file
// chunks, whose records' memory the parser reuses (parse.Options.Reuse),
// poisoned when given back (LOGANOM_POISON_REUSE): a stage that kept a
// record would show in the report. The report must be the pipe's.
func TestWrapperReuseSameAsPipe(t *testing.T) {
	real, err := os.ReadFile("../../testdata/logs/postfix-3.7-real.log")
	if err != nil {
		t.Fatal(err)
	}
	// 1,000 copies, each with accounts of its own (bob17@…): about 4 MB,
	// 16 chunks of the parser's, 14,000 logins of 3,000 accounts
	user := regexp.MustCompile(`sasl_username=([a-z]+)@`)
	var log bytes.Buffer
	for i := range 1000 {
		log.Write(user.ReplaceAll(real, []byte(fmt.Sprintf("sasl_username=${1}%d@", i%300))))
	}
	dir := t.TempDir()
	logFile := filepath.Join(dir, "maillog")
	if err := os.WriteFile(logFile, log.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	conf := "../../testdata/example/config.ini"
	env := map[string]string{"TZ": "UTC", "XDG_STATE_HOME": dir, "XDG_CACHE_HOME": dir, "LOGANOM_POISON_REUSE": "1"}
	wrapper, pipe := wrapperAndPipe(t, env, logFile, conf, conf)
	if n := bytes.Count(wrapper, []byte("\n")); n < 300 {
		t.Fatalf("the wrapper flagged %d accounts, want every bob (300):\n%s", n, wrapper)
	}
	if !bytes.Equal(wrapper, pipe) {
		t.Errorf("the wrapper's report differs from the pipe's\nwrapper:\n%.2000s\npipe:\n%.2000s", wrapper, pipe)
	}
	if bytes.Contains(wrapper, []byte("poisoned")) {
		t.Errorf("a poisoned record reached the report")
	}
}

// wrapperAndPipe runs the wrapper (with wrapperConf), then the four
// binaries piped (with pipeConf), in-process, on log with the environment
// env and the args added to both (--format json, --no-db and the config
// are given), and returns their reports.
func wrapperAndPipe(t *testing.T, env map[string]string, log, wrapperConf, pipeConf string, args ...string) (wrapper, pipe []byte) {
	t.Helper()
	run := func(main func(cli.Env) int, in io.Reader, args ...string) []byte {
		t.Helper()
		var out, errOut bytes.Buffer
		code := main(cli.Env{Args: args, Stdin: in, Stdout: &out, Stderr: &errOut, Getenv: func(k string) string { return env[k] }})
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", strings.Join(args, " "), code, errOut.String())
		}
		return out.Bytes()
	}
	wrapper = run(loganomcmd.Main, nil, append([]string{"postfix-sasl", "--no-db", "-c", wrapperConf, "-l", log, "--format", "json"}, args...)...)
	events := run(parsecmd.Main, nil, log)
	enriched := run(enrichcmd.Main, bytes.NewReader(events), "-c", pipeConf)
	filtered := run(filtercmd.Main, bytes.NewReader(enriched), "-c", pipeConf, "--explain")
	pipe = run(reportcmd.Main, bytes.NewReader(filtered), append([]string{"-c", pipeConf, "--no-db", "--format", "json"}, args...)...)
	return wrapper, pipe
}
