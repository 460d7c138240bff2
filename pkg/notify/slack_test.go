package notify

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/report"
)

// The webhook's "text" is the report as Slack takes it, and Slack reads
// <!channel>, <!here>, <@U123> and <URL|text> in it (&, < and > are its
// control characters, to be written &amp; &lt; &gt;: Slack's "Escaping
// text"). A SASL user name "<!channel>", or a PTR name the thief sets on
// his address ("<https://evil.example|reset-your-password>.evil.example"
// is a name: its first label holds no dot) must neither notify the
// channel nor become a link.
func TestWebhookTextSlackInert(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	rdns := "<https://evil.example|reset-your-password>.evil.example"
	m := &Message{Host: "mail.example.test", Seen: 1, Accounts: []*report.Account{{User: "<!channel>&<@U024BE7LH>@example.test", Logins: 1, First: t0, Last: t0,
		IPs: []*report.IP{{IP: "192.0.2.1", Count: 1, First: t0, Last: t0, RDNS: rdns}}}}}
	srv, bodies, _ := hookServer(t)
	if res := SendAll(context.Background(), []Channel{&Webhook{URL: srv.URL}}, m, fast); res[0].Err != nil {
		t.Fatal(res[0].Err)
	}
	var p struct {
		Text     string
		Accounts []*report.Account
	}
	if err := json.Unmarshal([]byte((*bodies)[0]), &p); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(p.Text, "<>") || strings.Contains(strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(p.Text, "&amp;", ""), "&lt;", ""), "&gt;", ""), "&") {
		t.Errorf("Slack's control characters raw in the text:\n%s", p.Text)
	}
	if !strings.Contains(p.Text, "&lt;!channel&gt;&amp;&lt;@U024BE7LH&gt;@example.test") || !strings.Contains(p.Text, "&lt;https://evil.example|reset-your-password&gt;.evil.example") {
		t.Errorf("the names are not there, escaped:\n%s", p.Text)
	}
	// the accounts are data: as they are
	if len(p.Accounts) != 1 || p.Accounts[0].User != m.Accounts[0].User || p.Accounts[0].IPs[0].RDNS != rdns {
		t.Errorf("accounts: %+v", p.Accounts)
	}
}
