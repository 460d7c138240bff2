package notify

import (
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/report"
)

// --dry-run prints each channel's payload on the terminal: the webhook's
// JSON carries the accounts as data, and a name holding a C1 control
// (U+009B, a CSI: Postfix logs it as it is) or a bidi control must be
// there as a \u escape, not raw, as every other preview shows it.
func TestPreviewsInert(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	user := "csi\u009b2J\u202e@example.test"
	m := &Message{Host: "mail.example.test", Seen: 1, Accounts: []*report.Account{{User: user, Logins: 1, First: t0, Last: t0,
		IPs: []*report.IP{{IP: "192.0.2.1", Count: 1, First: t0, Last: t0, City: "x\u200by"}}}}}
	for _, ch := range []Channel{&Webhook{}, &Mattermost{}, &Teams{}, &Exec{Path: "/bin/true"}, &UserNotice{SMTP: &SMTP{From: "a@example.test"}}} {
		p, err := ch.Preview(m)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p {
			if r != '\n' && r != '\r' && r != '\t' && report.Suspicious(r) {
				t.Errorf("%s: %U raw in the preview:\n%+q", ch.Name(), r, p)
				break
			}
		}
		if ch.Name() == "webhook" && !strings.Contains(p, `csi\u009b2J\u202e@example.test`) {
			t.Errorf("webhook: the name is not there, escaped:\n%s", p)
		}
	}
}
