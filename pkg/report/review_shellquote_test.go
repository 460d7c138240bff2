package report

import (
	"os/exec"
	"strings"
	"testing"
)

// The lift command's name, pasted into a POSIX shell, is the name itself
// (one argument, nothing run), whatever it holds.
func TestReviewShellQuoteRoundTrip(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	for _, name := range []string{"bob@example.test", "a'b@x", "a\nb@x", "-rf", "--db=/etc/x", "böb@x", "$(id)@x", "`id`@x", `a\b`, "!x", "a b", "'", "''", "x;rm -rf /", "~root", "*", "a=b", "\u202eevil"} {
		l := Lift(name)
		cmd, _, _ := strings.Cut(l, ", or DELETE ")
		cmd = strings.TrimPrefix(cmd, "loganom unblock ")
		out, err := exec.Command(sh, "-c", `for a in `+cmd+`; do printf '%s\0' "$a"; done`).Output()
		if err != nil {
			t.Fatalf("%q: %v", name, err)
		}
		args := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
		if strings.HasPrefix(name, "-") {
			if len(args) != 2 || args[0] != "--" || args[1] != name {
				t.Errorf("%q: %q -> %q", name, cmd, args)
			}
			continue
		}
		if len(args) != 1 || args[0] != name {
			t.Errorf("%q: %q -> %q", name, cmd, args)
		}
	}
}
