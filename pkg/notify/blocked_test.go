package notify

import (
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/report"
)

// An account blocked by its alert ([BLOCK] auto): every format says it
// was blocked, until when, by whom and how the block is lifted (the
// golden files in testdata/blocked); the user's notice says until when.
func TestGoldenBlocked(t *testing.T) {
	m := detected()
	until := time.Date(2026, 11, 28, 10, 20, 0, 0, time.UTC)
	m.Accounts[0].Blocked = report.NewBlockMark(m.Accounts[0].User, until, "loganom auto-block", true)
	got := renders(t, m)
	checkGolden(t, "blocked", got)
	for name, out := range got {
		if name == "subject.txt" {
			continue
		}
		if !strings.Contains(out, "2026") || !strings.Contains(strings.ToLower(out), "blocked") {
			t.Errorf("%s does not say the account was blocked:\n%s", name, out)
		}
	}
	if !strings.Contains(got["notice.txt"], "until 2026-11-28 10:20 UTC") {
		t.Errorf("the notice does not say until when:\n%s", got["notice.txt"])
	}
}

// A hostile name in a block's mark stays inert in every format: the lift
// command quotes it for the shell, and the formats escape it as they
// escape the name itself.
func TestBlockedHostileName(t *testing.T) {
	m := detected()
	user := "x'; rm -rf / #\u202e@evil.test\n<b>*"
	m.Accounts[0].User = user
	m.Accounts[0].Blocked = report.NewBlockMark(user, time.Time{}, "loganom auto-block", true)
	got := renders(t, m)
	for name, out := range got {
		if name == "webhook.json" || name == "exec-stdin.json" {
			continue // data, as the name itself is there: JSON escapes what must be
		}
		if strings.Contains(out, "\u202e") || strings.Contains(out, "rm -rf / #\u202e") {
			t.Errorf("%s: the bidi control is not escaped:\n%s", name, out)
		}
		if name == "mail.html" && strings.Contains(out, "<b>*") {
			t.Errorf("%s: HTML not escaped:\n%s", name, out)
		}
	}
	if lift := m.Accounts[0].Blocked.Lift; !strings.HasPrefix(lift, `loganom unblock 'x'\''; rm -rf / #`) {
		t.Errorf("lift %q: the name is not quoted for the shell", lift)
	}
}
