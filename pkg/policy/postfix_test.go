package policy

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/postfixlab"
	"github.com/loganom/loganom/pkg/state"
)

// TestActionsRealPostfix: a real Postfix (scripts/postfix-lab) asks the
// service at RCPT (check_policy_service, permit_sasl_authenticated, reject:
// the README's order), and bob is blocked. Each answer is what Postfix does
// with it; ValidAction accepts an action exactly when Postfix stops bob's
// mail with it (refused, deferred, held or discarded as asked): a bare
// code ("550") is a permit to Postfix (all-numeric: OK), a code and a space
// an unknown restriction (451 4.3.5 Server configuration error, and a
// warning), DEFER_IF_REJECT defers only when a later restriction rejects. (WARN, accepted as a dry run, is left out: it stops nothing, by
// design.) It needs root, postfix and swaks (LOGANOM_REQUIRE_POSTFIX=1 in
// CI: it does not skip there).
func TestActionsRealPostfix(t *testing.T) {
	postfixlab.Require(t)
	root, _ := filepath.Abs("../..")
	dir := postfixlab.Dir(t)
	lab := filepath.Join(dir, "lab")
	base, labCmd := postfixlab.Start(t, filepath.Join(root, "scripts/postfix-lab"), lab)
	labCmd("adduser", lab, "bob@example.test", "bob-pw")
	submission := strconv.Itoa(base + 587)
	maillog := filepath.Join(lab, "maillog")

	for i, x := range []struct {
		action, want string // what Postfix does with it
	}{
		{DefaultAction, "stopped"},
		{"REJECT", "stopped"},
		{"554 5.7.1 blocked", "stopped"},
		{"450 4.7.1 blocked", "stopped"},
		{"DEFER blocked", "stopped"},
		{"DEFER_IF_PERMIT blocked", "stopped"},
		{"HOLD blocked", "stopped"},
		{"DISCARD blocked", "stopped"},
		{"550", "delivered"},
		{"550 ", "misconfigured"},
		{"DEFER_IF_REJECT blocked", "delivered"},
	} {
		t.Run(x.action, func(t *testing.T) {
			st, _ := newStore(t)
			if err := st.AddBlock(context.Background(), state.Block{User: "bob@example.test", Created: time.Now()}); err != nil {
				t.Fatal(err)
			}
			srv, err := New(Config{Source: st})
			if err != nil {
				t.Fatal(err)
			}
			// (New refuses what ValidAction refuses: the answer is
			// written by hand here, to see what Postfix makes of it)
			srv.blocked = []byte("action=" + x.action + "\n\n")
			ln, err := Listen("127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			go srv.Serve(ln)
			t.Cleanup(func() { srv.Shutdown(context.Background()) })
			f := &fixture{addr: ln.Addr().String()}
			for _, args := range [][]string{
				{"postconf", "-c", filepath.Join(lab, "etc"), "-e", "smtpd_recipient_restrictions = check_policy_service inet:" + f.addr + ", permit_sasl_authenticated, reject"},
				{"postfix", "-c", filepath.Join(lab, "etc"), "reload"},
			} {
				if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
					t.Fatalf("%v: %v\n%s", args, err, out)
				}
			}
			rcpt := "friend" + strconv.Itoa(i) + "@example.net"
			out, _ := exec.Command("swaks", "--server", "127.0.0.1", "--port", submission, "--helo", "pc.example.test",
				"--from", "bob@example.test", "--to", rcpt,
				"--auth", "LOGIN", "--auth-user", "bob@example.test", "--auth-password", "bob-pw").CombinedOutput()
			// Postfix's log says what became of the mail: stopped at
			// RCPT, by the action or by Postfix's own error for an
			// answer it cannot use, or delivered (the lab's transport
			// discards it)
			q := regexp.QuoteMeta(rcpt)
			outcomes := []struct {
				name string
				re   *regexp.Regexp
			}{
				{"misconfigured", regexp.MustCompile(`: reject: RCPT from .*: 451 4\.3\.5 Server configuration error; .*to=<` + q + `>`)},
				{"stopped", regexp.MustCompile(`: (reject|hold|discard): RCPT from .*to=<` + q + `>`)},
				{"delivered", regexp.MustCompile(`postfix/discard\[\d+\]: \w+: to=<` + q + `>.*status=sent`)},
			}
			got := ""
			for deadline := time.Now().Add(30 * time.Second); got == ""; time.Sleep(20 * time.Millisecond) {
				b, _ := os.ReadFile(maillog)
				for _, o := range outcomes {
					if o.re.Match(b) {
						got = o.name
						break
					}
				}
				if got == "" && time.Now().After(deadline) {
					t.Fatalf("the mail to %s is neither stopped nor delivered; swaks:\n%s\nmaillog:\n%s", rcpt, out, b)
				}
			}
			if got != x.want {
				t.Fatalf("Postfix: %s, want %s; swaks:\n%s", got, x.want, out)
			}
			if err := ValidAction(x.action); (err == nil) != (got == "stopped") {
				t.Errorf("ValidAction(%q) = %v, but Postfix: %s", x.action, err, got)
			}
		})
	}
}
