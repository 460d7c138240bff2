package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/postfixlab"
)

// TestAutoBlockRealPostfix is issue 14's done-when on a real Postfix:
// with check_policy_service pointing at the policy service inside the
// live daemon (loganom postfix-sasl --follow, [POLICY] listen, following
// Postfix's maillog_file) and [BLOCK] auto, bob's logins from six
// countries (XCLIENT) get his account blocked, and his next mail is
// refused at RCPT with the configured 5xx within 2 s of the login that
// raised the alert. It needs root, postfix and swaks (as TestLivePostfix).
func TestAutoBlockRealPostfix(t *testing.T) {
	postfixlab.Require(t)
	bin, err := exec.LookPath("loganom")
	if err != nil {
		t.Fatal(err)
	}
	root, _ := filepath.Abs("../..")
	dir := postfixlab.Dir(t)
	lab := filepath.Join(dir, "lab")
	base := postfixlab.PortBase(t)
	labCmd := func(args ...string) {
		t.Helper()
		cmd := exec.Command(filepath.Join(root, "scripts/postfix-lab"), args...)
		cmd.Env = append(os.Environ(), "LAB_PORT_BASE="+strconv.Itoa(base))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("postfix-lab %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	labCmd("start", lab)
	t.Cleanup(func() { exec.Command(filepath.Join(root, "scripts/postfix-lab"), "stop", lab).Run() })
	labCmd("adduser", lab, "bob@example.test", "bob-pw")
	maillog := filepath.Join(lab, "maillog")
	submission := strconv.Itoa(base + 587)

	const action = "REJECT 5.7.1 blocked by loganom: call the helpdesk"
	config := filepath.Join(dir, "config.ini")
	os.WriteFile(config, []byte(fmt.Sprintf(`[ENRICH]
geoip = %[1]s/testdata/geo/example-city.mmdb
    %[1]s/testdata/geo/example-asn.mmdb
rdns = off

[POLICY]
listen = 127.0.0.1:0
action = %[2]s

[BLOCK]
auto = true
for = 1h
`, root, action)), 0o644)
	db := filepath.Join(dir, "state.db")

	var stdout, stderr lockedBuffer
	cmd := exec.Command(bin, "postfix-sasl", "--follow", "-l", maillog, "--db", db, "-c", config, "--no-cache", "--format", "json")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	listen := regexp.MustCompile(`policy: listening on ([0-9.:]+);`)
	if !deadlineWait(20*time.Second, func() bool {
		return listen.MatchString(stderr.String()) && strings.Contains(stderr.String(), `msg="following`)
	}) {
		t.Fatalf("the daemon did not start:\n%s", stderr.String())
	}
	addr := listen.FindStringSubmatch(stderr.String())[1]
	for _, args := range [][]string{
		{"postconf", "-c", filepath.Join(lab, "etc"), "-e", "smtpd_recipient_restrictions = check_policy_service inet:" + addr + ", permit_sasl_authenticated, reject"},
		{"postfix", "-c", filepath.Join(lab, "etc"), "reload"},
	} {
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	// send: one mail as bob from addr (XCLIENT), swaks' transcript
	send := func(from string) string {
		out, _ := exec.Command("swaks", "--server", "127.0.0.1", "--port", submission, "--helo", "pc.example.test",
			"--xclient", "ADDR="+from+" NAME=[UNAVAILABLE]", "--from", "bob@example.test", "--to", "friend@example.net",
			"--auth", "LOGIN", "--auth-user", "bob@example.test", "--auth-password", "bob-pw").CombinedOutput()
		return string(out)
	}
	accepted := regexp.MustCompile(`(?m)^<-  250 2\.0\.0 Ok: queued`)
	refused := regexp.MustCompile(`(?m)^<\*\* +554 5\.7\.1 <friend@example\.net>: Recipient address rejected: blocked by loganom: call the helpdesk`)
	// the policy service is in use once a mail has gone through it
	if out := send("92.36.10.20"); !accepted.MatchString(out) {
		t.Fatalf("bob's first mail, before any alert:\n%s", out)
	}
	var last, lastBegan time.Time
	for _, ip := range []string{"188.76.17.119", "176.63.195.207", "188.69.195.171", "195.242.178.3", "87.116.180.5"} {
		lastBegan = time.Now()
		out := send(ip)
		last = time.Now()
		if refused.MatchString(out) {
			break // blocked already: the alert came with fewer countries
		}
		if !accepted.MatchString(out) {
			t.Fatalf("bob's mail from %s:\n%s", ip, out)
		}
	}
	// an attempt begun within 2 s of the last login is refused (each
	// swaks takes a moment of its own: the figure is when the refused
	// attempt began)
	var out string
	var began time.Time
	ok := deadlineWait(time.Until(last.Add(2*time.Second)), func() bool {
		began = time.Now()
		out = send("92.36.10.20")
		return refused.MatchString(out)
	})
	if !ok || began.Sub(last) > 2*time.Second {
		t.Fatalf("bob's mail still passes %s after his botnet logins:\n%s\nstderr:\n%s", time.Since(last), out, stderr.String())
	}
	t.Logf("bob's mail refused at RCPT by an attempt begun %s after the last botnet login's mail was sent (answered %s after)",
		began.Sub(last).Round(time.Millisecond), time.Since(last).Round(time.Millisecond))
	m := regexp.MustCompile(`time=(\S+) level=INFO prog=loganom msg="auto-block: bob@example.test: blocked until`).FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("no auto-block line:\n%s", stderr.String())
	}
	if at, err := time.Parse(time.RFC3339Nano, m[1]); err == nil {
		// the block is enforced at the service's next refresh (1 s)
		t.Logf("bob blocked %s after his last botnet mail was begun (its swaks took %s); enforced within the refresh, 1 s, after that",
			at.Sub(lastBegan).Round(time.Millisecond), last.Sub(lastBegan).Round(time.Millisecond))
	}
	if !strings.Contains(stdout.String(), `"blocked":{"until":`) {
		t.Errorf("the alert does not say bob was blocked:\n%s", stdout.String())
	}
}
