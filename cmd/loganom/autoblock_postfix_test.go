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

	"github.com/loganom/loganom/cmd/internal/syncbuf"
	"github.com/loganom/loganom/pkg/postfixlab"
)

// TestAutoBlockRealPostfix is issue 14's done-when on a real Postfix:
// with check_policy_service pointing at the policy service inside the
// live daemon (loganom postfix-sasl --follow, [POLICY] listen, following
// Postfix's maillog_file) and [BLOCK] auto, bob's mail from abroad,
// one country after the other (six at most, XCLIENT), gets his account
// blocked as soon as the detectors raise a high alert (three new
// countries: many places), and his next mail is refused at RCPT with the
// configured 5xx: no mail begun more than 2 s after the one that raised
// the alert passes. It needs root, postfix and swaks (as TestLivePostfix).
func TestAutoBlockRealPostfix(t *testing.T) {
	postfixlab.Require(t)
	bin, err := exec.LookPath("loganom")
	if err != nil {
		t.Fatal(err)
	}
	root, _ := filepath.Abs("../..")
	dir := postfixlab.Dir(t)
	lab := filepath.Join(dir, "lab")
	base, labCmd := postfixlab.Start(t, filepath.Join(root, "scripts/postfix-lab"), lab)
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
	// run starts the daemon with logArgs on a fresh state, points Postfix
	// at its policy listener, and has bob send from abroad
	run := func(t *testing.T, db string, logArgs ...string) string {

		var stdout, stderr syncbuf.Buffer
		args := append([]string{"postfix-sasl", "--follow"}, logArgs...)
		cmd := exec.Command(bin, append(args, "--db", db, "-c", config, "--no-cache", "--format", "json")...)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { cmd.Process.Kill(); cmd.Wait() }()
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
		// bob's mail from six countries, one after the other, until one is
		// refused; then, if none was, more attempts until one is
		type mail struct {
			ip           string
			began, ended time.Time
			refused      bool
		}
		var mails []mail
		try := func(ip string) mail {
			m := mail{ip: ip, began: time.Now()}
			out := send(ip)
			m.ended = time.Now()
			m.refused = refused.MatchString(out)
			if !m.refused && !accepted.MatchString(out) {
				t.Fatalf("bob's mail from %s: neither accepted nor refused:\n%s", ip, out)
			}
			mails = append(mails, m)
			return m
		}
		for _, ip := range []string{"92.36.10.20", "188.76.17.119", "176.63.195.207", "188.69.195.171", "195.242.178.3", "87.116.180.5"} {
			if try(ip).refused {
				break
			}
		}
		if !mails[len(mails)-1].refused {
			last := mails[len(mails)-1].ended
			for !try("92.36.10.20").refused {
				if time.Since(last) > 2*time.Second {
					t.Fatalf("bob's mail still passes %s after his six countries\nstderr:\n%s", time.Since(last), stderr.String())
				}
			}
		}
		if mails[0].refused {
			t.Fatalf("bob's first mail was refused, before any alert:\n%s", stderr.String())
		}
		m := regexp.MustCompile(`time=(\S+) level=INFO msg="auto-block: bob@example.test: blocked until`).FindStringSubmatch(stderr.String())
		if m == nil {
			t.Fatalf("no auto-block line:\n%s", stderr.String())
		}
		blockedAt, err := time.Parse(time.RFC3339Nano, m[1])
		if err != nil {
			t.Fatal(err)
		}
		// the mail that made bob anomalous: the last accepted one begun
		// before the block (the login is logged at AUTH, before the mail's
		// RCPT; the next mail may begin before the block's log line is
		// timed and still be refused at its RCPT, after the block)
		refusedMail := mails[len(mails)-1]
		ti := -1
		for i, x := range mails {
			if !x.began.After(blockedAt) && !x.refused {
				ti = i
			}
		}
		if ti < 0 {
			t.Fatalf("no accepted mail before the block: %+v, blocked at %s", mails, blockedAt)
		}
		trigger := mails[ti]
		t.Logf("bob blocked %s after his mail from %s (his %d. country) was begun; his next attempt, begun %s after the block (%s after that mail ended), was refused at RCPT",
			blockedAt.Sub(trigger.began).Round(time.Millisecond), trigger.ip, ti+1, refusedMail.began.Sub(blockedAt).Round(time.Millisecond),
			refusedMail.began.Sub(trigger.ended).Round(time.Millisecond))
		// refused within 2 s of the login that raised the alert: no mail
		// begun later than that passed
		for _, x := range mails[ti+1:] {
			if !x.refused && x.began.Sub(trigger.ended) > 2*time.Second {
				t.Errorf("bob's mail from %s, begun %s after the one that raised the alert, passed", x.ip, x.began.Sub(trigger.ended))
			}
		}
		if !strings.Contains(stdout.String(), `"blocked":{"until":`) {
			t.Errorf("the alert does not say bob was blocked:\n%s", stdout.String())
		}
		return stderr.String()
	}
	// following Postfix's log; the policy service's logins not judged
	// ([POLICY] logins = auto)
	t.Run("log", func(t *testing.T) { run(t, filepath.Join(dir, "log.db"), "-l", maillog) })
	// no log: the policy service's logins are the input
	t.Run("policy-only", func(t *testing.T) {
		if stderr := run(t, filepath.Join(dir, "policy.db")); !strings.Contains(stderr, "no log read") {
			t.Errorf("the daemon does not say it reads no log:\n%s", stderr)
		}
	})
}
