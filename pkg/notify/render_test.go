package notify

import (
	"context"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/loganom/loganom/pkg/detect"
	"github.com/loganom/loganom/pkg/report"
)

// detected is one account as the detectors report it: two addresses, a
// severity and two reasons, in the detectors' words.
func detected() *Message {
	yes := true
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	t1 := t0.Add(20 * time.Minute)
	return &Message{Host: "mail.example.test", Seen: 40, Accounts: []*report.Account{{
		User: "bob@example.test", Logins: 4, First: t0, Last: t1,
		Countries: []string{"BR", "JP"}, ASNs: []uint32{26599, 2516},
		IPs: []*report.IP{
			{IP: "187.45.12.9", Count: 3, First: t0, Last: t0, Country: "BR", City: "São Paulo", ASN: 26599, Org: "TELEFONICA BRASIL S.A"},
			{IP: "106.72.0.9", Count: 1, First: t1, Last: t1, Country: "JP", City: "Osaka", RDNS: "p1234-ipoe.osaka.example.jp", RDNSVerified: &yes, ASN: 2516, Org: "KDDI CORPORATION"},
		},
		Severity: "high",
		Reasons: []detect.Reason{
			{Detector: detect.ImpossibleTravel, Severity: detect.High, Text: "São Paulo, BR → Osaka, JP, 18,700 km in 20 min", At: t1, IP: "106.72.0.9"},
			{Detector: detect.NewPlace, Severity: detect.Low, Text: "new country JP (Osaka) (30 days of history: BR only)", At: t1, IP: "106.72.0.9"},
		},
	}}}
}

// Each format shows the account's severity and its reasons (the golden
// files in testdata/detect).
func TestGoldenDetect(t *testing.T) {
	checkGolden(t, "detect", renders(t, detected()))
}

// The subject leads with the highest severity of the accounts; without
// any (the original rule) it is as it was.
func TestSubjectSeverity(t *testing.T) {
	acc := func(sevs ...string) *Message {
		m := &Message{Host: "mx.example.test"}
		for _, s := range sevs {
			m.Accounts = append(m.Accounts, &report.Account{User: "u@example.test", Severity: s})
		}
		return m
	}
	for _, tc := range []struct {
		m    *Message
		want string
	}{
		{acc(""), "loganom: 1 account may be compromised on mx.example.test"},
		{acc("", ""), "loganom: 2 accounts may be compromised on mx.example.test"},
		{acc("high"), "loganom: HIGH: 1 account may be compromised on mx.example.test"},
		{acc("medium", "high", "low"), "loganom: HIGH: 3 accounts may be compromised on mx.example.test"},
		{acc("low", "medium"), "loganom: MEDIUM: 2 accounts may be compromised on mx.example.test"},
		{acc("low"), "loganom: LOW: 1 account may be compromised on mx.example.test"},
		{acc("bogus\x1b[31m"), "loganom: 1 account may be compromised on mx.example.test"},
	} {
		if got := Subject(tc.m); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}

// The mail's subject carries the severity; its Message-ID is still made
// of the key alone, so that a mail sent again after a crash is known as
// the same.
func TestSMTPSeverity(t *testing.T) {
	s := &smtpServer{}
	host, port := startSMTP(t, s)
	m := detected()
	m.Key = "alerts-7-9.smtp"
	ch := &SMTP{From: "loganom <loganom@example.test>", To: []string{"postmaster@example.test"}, Host: host, Port: port}
	if res := SendAll(context.Background(), []Channel{ch}, m, fast); res[0].Err != nil {
		t.Fatal(res[0].Error())
	}
	msg, err := mail.ReadMessage(strings.NewReader(s.got[0]))
	if err != nil {
		t.Fatal(err)
	}
	if id := msg.Header.Get("Message-ID"); id != "<loganom.alerts-7-9.smtp@example.test>" {
		t.Errorf("Message-ID %s", id)
	}
	if subj, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); subj != "loganom: HIGH: 1 account may be compromised on mail.example.test" {
		t.Errorf("subject %q", subj)
	}
	_, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	mr := multipart.NewReader(msg.Body, params["boundary"])
	parts := map[string]string{}
	for {
		p, err := mr.NextPart()
		if err != nil {
			break
		}
		b, _ := io.ReadAll(p)
		parts[strings.Split(p.Header.Get("Content-Type"), ";")[0]] = string(b)
	}
	if parts["text/plain"] != strings.ReplaceAll(Plain(m), "\n", "\r\n") || parts["text/html"] != strings.ReplaceAll(HTML(m), "\n", "\r\n") {
		t.Errorf("parts:\n%s\n%s", parts["text/plain"], parts["text/html"])
	}
	if !strings.Contains(parts["text/plain"], "  - impossible travel (high): São Paulo, BR → Osaka, JP, 18,700 km in 20 min\r\n") {
		t.Errorf("no reason in the text part:\n%s", parts["text/plain"])
	}
}

// hostile is a city and an organisation as a database or the network may
// give them: Markdown links, HTML, a line of its own, bidi controls,
// terminal escapes, bytes that are not UTF-8.
const (
	hostileCity = "Osaka](http://evil.test/)<img src=x onerror=alert(1)>\n- **forged reason**\u202e\x1b[31m"
	hostileOrg  = "Evil <a href=\"http://evil.test\">Corp</a> [click](http://evil.test) `x` | y\r\n# head\u200b\xff"
)

// hostileMessage is an account whose verdict the detectors made from
// logins at hostile places: an impossible trip to, and a new country at,
// hostileCity; a new network of hostileOrg.
func hostileMessage(t *testing.T) *Message {
	t.Helper()
	cfg := detect.Config{}.Defaults()
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	home := detect.Where{IP: "187.45.12.9", Country: "BR", City: "São Paulo", ASN: 26599, Org: "TELEFONICA BRASIL S.A", HasLoc: true, Lat: -23.55, Lon: -46.63, AccuracyKM: 20}
	d := detect.NewAccount(&cfg, []detect.Known{{Where: home, First: t0.Add(-30 * 24 * time.Hour), Last: t0, Count: 90}}, nil)
	thief := detect.Where{IP: "203.0.113.66", Country: "JP", City: hostileCity, ASN: 2516, Org: "KDDI", HasLoc: true, Lat: 34.69, Lon: 135.50, AccuracyKM: 20}
	d.Login(&thief, t0.Add(20*time.Minute), t0.Add(20*time.Minute), 1)
	wifi := detect.Where{IP: "198.51.100.7", Country: "BR", City: "Campinas", ASN: 64500, Org: hostileOrg}
	d.Login(&wifi, t0.Add(2*time.Hour), t0.Add(2*time.Hour), 1)
	v := d.Verdict()
	all := ""
	for _, r := range v.Reasons {
		all += r.Text + "\n"
	}
	// the test means something only if the reasons hold the hostile names
	if v.Severity != detect.High || !strings.Contains(all, hostileCity) || !strings.Contains(all, hostileOrg) {
		t.Fatalf("the detectors' verdict lacks the hostile names: %s: %q", v.Severity, all)
	}
	t1 := t0.Add(2 * time.Hour)
	return &Message{Host: "mail.example.test", Seen: 1, Accounts: []*report.Account{{
		User: "bob@example.test", Logins: 3, First: t0, Last: t1, Countries: []string{"BR", "JP"}, ASNs: []uint32{2516, 26599, 64500},
		IPs: []*report.IP{
			{IP: home.IP, Count: 1, First: t0, Last: t0, Country: "BR", City: home.City, ASN: home.ASN, Org: home.Org},
			{IP: thief.IP, Count: 1, First: t0, Last: t0, Country: "JP", City: thief.City, ASN: thief.ASN, Org: thief.Org},
			{IP: wifi.IP, Count: 1, First: t1, Last: t1, Country: "BR", City: wifi.City, ASN: wifi.ASN, Org: wifi.Org},
		},
		Severity: v.Severity.String(), Reasons: v.Reasons,
	}}}
}

// mdInert tells whether every character Markdown gives a meaning to in s
// is escaped (after an odd number of backslashes), and s holds no line
// break.
func mdInert(s string) bool {
	bs := 0
	for _, r := range s {
		switch {
		case r == '\\':
			bs++
			continue
		case r == '\n' || r == '\r':
			return false
		case strings.ContainsRune("`*_{}[]()<>#+-.!|~&:@=\"'$%", r) && bs%2 == 0:
			return false
		}
		bs = 0
	}
	return true
}

// hidden is what must never reach a reader raw: bidi controls,
// zero-width characters, escape sequences.
func hidden(s string) bool {
	return strings.ContainsAny(s, hiddenRunes+"\x1b") || !utf8.ValidString(s)
}

// items are the lines of s that start with prefix, without it.
func items(s, sep, prefix string) []string {
	var out []string
	for _, l := range strings.Split(s, sep) {
		if rest, ok := strings.CutPrefix(l, prefix); ok {
			out = append(out, rest)
		}
	}
	return out
}

// A reason's city or organisation cannot inject a Markdown link, HTML, a
// line (a forged reason) or a control character in any format: each
// reason is one item, its text escaped for the format.
func TestReasonsHostile(t *testing.T) {
	m := hostileMessage(t)
	n := len(m.Accounts[0].Reasons)

	var mm map[string]string
	if err := json.Unmarshal([]byte(strings.TrimPrefix(must((&Mattermost{}).Preview(m)), "Mattermost /hooks/…:\n")), &mm); err != nil {
		t.Fatal(err)
	}
	var teamsText []string
	teamsReasons := ""
	for _, b := range teamsBody(t, m) {
		s, _ := b["text"].(string)
		teamsText = append(teamsText, s)
		if strings.HasPrefix(s, "- ") {
			teamsReasons = s
		}
	}
	var hook struct {
		Text     string            `json:"text"`
		Severity string            `json:"severity"`
		Accounts []*report.Account `json:"accounts"`
	}
	if err := json.Unmarshal([]byte(strings.TrimPrefix(must((&Webhook{}).Preview(m)), "webhook:\n")), &hook); err != nil {
		t.Fatal(err)
	}
	notice, err := (&UserNotice{}).text(m.Accounts[0])
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name, out string
		items     []string          // the reasons as the format lists them
		inert     func(string) bool // an item is inert
		bad       []string          // what must not be there
		severity  bool              // the severity is shown
	}{
		{"plain", Plain(m), items(Plain(m), "\n", "  - "), func(s string) bool { return utf8.ValidString(s) },
			[]string{"\n- **forged", "\n# head"}, true},
		{"webhook text", hook.Text, items(hook.Text, "\n", "  - "), func(s string) bool { return true }, []string{"\n- **forged", "\n# head"}, true},
		{"html", HTML(m), items(HTML(m), "\n", "<li>"), func(s string) bool {
			return strings.HasSuffix(s, "</li>") && !strings.ContainsAny(strings.TrimSuffix(s, "</li>"), "<>\"")
		},
			[]string{"<img", "<a href", "\n- **forged"}, true},
		// in Markdown, "<img" is there as "\<img": mdInert checks the items
		{"markdown", mm["text"], items(mm["text"], "\n", "- "), mdInert, []string{"](http", "\n# head"}, true},
		{"teams", strings.Join(teamsText, "\n"), items(teamsReasons, "\r", "- "), mdInert, []string{"](http", "\n# head"}, true},
		// the user's notice says why, not how severe
		{"notice", notice, items(notice, "\n", "  - "), func(s string) bool { return true }, []string{"\n- **forged", "\n# head"}, false},
	} {
		if hidden(tc.out) {
			t.Errorf("%s: a hidden character went through:\n%+q", tc.name, tc.out)
		}
		for _, b := range tc.bad {
			if strings.Contains(tc.out, b) {
				t.Errorf("%s: %q went through:\n%s", tc.name, b, tc.out)
			}
		}
		if len(tc.items) != n {
			t.Errorf("%s: %d reasons listed, want %d:\n%s", tc.name, len(tc.items), n, tc.out)
		}
		for _, it := range tc.items {
			if !tc.inert(it) {
				t.Errorf("%s: reason not inert: %q", tc.name, it)
			}
		}
		if low := strings.ToLower(tc.out); tc.severity && !strings.Contains(low, "severity **high**, because:") &&
			!strings.Contains(low, "severity <strong>high</strong>, because:") && !strings.Contains(low, "  severity high, because:\n") {
			t.Errorf("%s: no severity:\n%s", tc.name, tc.out)
		}
	}

	// the webhook's JSON carries the reasons as data, whole (but for
	// bytes that are not UTF-8, which JSON cannot carry): JSON quotes
	// them
	want := slices.Clone(m.Accounts[0].Reasons)
	for i := range want {
		want[i].Text = strings.ToValidUTF8(want[i].Text, "\ufffd")
	}
	if hook.Severity != "high" || len(hook.Accounts) != 1 || !reflect.DeepEqual(hook.Accounts[0].Reasons, want) {
		t.Errorf("webhook payload: %+v\n%+v", hook.Accounts[0].Reasons, want)
	}
	if !strings.Contains(must((&Webhook{}).Preview(m)), `\u003cimg src=x onerror=alert(1)\u003e\n- **forged reason**`) {
		t.Errorf("webhook JSON:\n%s", must((&Webhook{}).Preview(m)))
	}
}

func must(s string, err error) string {
	if err != nil {
		panic(err)
	}
	return s
}

// teamsBody is the body of the Teams card that Preview shows for m.
func teamsBody(t *testing.T, m *Message) []map[string]any {
	t.Helper()
	var card struct {
		Attachments []struct {
			Content struct {
				Body []map[string]any `json:"body"`
			} `json:"content"`
		} `json:"attachments"`
	}
	if err := json.Unmarshal([]byte(strings.TrimPrefix(must((&Teams{}).Preview(m)), "Teams webhook:\n")), &card); err != nil {
		t.Fatal(err)
	}
	return card.Attachments[0].Content.Body
}
