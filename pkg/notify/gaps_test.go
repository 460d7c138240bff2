package notify

import (
	"bytes"
	"encoding/json"
	"html"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/loganom/loganom/pkg/report"
)

// hostileInput is an input's name as an attacker who may name files
// (a log rotated by a script of theirs, a path in a config) would: HTML, a
// Markdown link and heading on a line of their own, a mention, a bidi
// control. Its error holds HTML and a mention too.
const (
	hostileInput      = "/var/log/@channel <img src=x onerror=alert(1)>\n# head [x](http://evil.test/)\u202e.log"
	hostileInputError = "read: <b>input/output</b> error @here"
)

// The words report.TextGaps heads each gap with, after "INCOMPLETE: ".
const (
	unreadHead = "1 input could not be read in full; accounts in it may be missing from this report:"
	geoHead    = "the geo lookups (country, network) failed for 7 logins from 3 addresses; accounts that logged in from them may look safer than they are:"
)

// gapCase is a report's gaps, and whether they are an input read in part
// (unread) and failed geo lookups (geo).
type gapCase struct {
	name        string
	gaps        report.Gaps
	unread, geo bool
}

// checkNotices checks that top, what a format writes before the
// accounts (of all of it, out), has notice(head) for each of tc's gaps,
// and not for the others.
func checkNotices(t *testing.T, tc gapCase, top, out string, notice func(head string) string) {
	t.Helper()
	for _, x := range []struct {
		want bool
		head string
	}{{tc.unread, unreadHead}, {tc.geo, geoHead}} {
		if got := strings.Contains(top, notice(x.head)); got != x.want {
			t.Errorf("%s: notice %q before the accounts: %v, want %v:\n%s", tc.name, x.head, got, x.want, out)
		}
	}
}

// gapCases are detected()'s account, with an input read in part, with
// logins whose geo lookups failed, and with both.
func gapCases() []gapCase {
	unread := []report.Unread{{Input: hostileInput, Lines: 1200, Error: hostileInputError}}
	geo := report.GeoFailed{Logins: 7, Addresses: 3}
	return []gapCase{
		{"unread", report.Gaps{Unread: unread}, true, false},
		{"geo", report.Gaps{Geo: geo}, false, true},
		{"both", report.Gaps{Unread: unread, Geo: geo}, true, true},
	}
}

// The text part (and the webhook's text) is the report as stdout has it,
// gaps and all: the geo lookups' failure too, in report.TextGaps' words.
func TestGapsPlain(t *testing.T) {
	for _, tc := range gapCases() {
		m := detected()
		m.Gaps = tc.gaps
		var want bytes.Buffer
		report.TextGaps(&want, m.Accounts, m.Seen, m.Gaps)
		if got := Plain(m); got != want.String() {
			t.Errorf("%s: got\n%s\nwant\n%s", tc.name, got, want.String())
		}
		got := Plain(m)
		if there := strings.HasPrefix(got, "INCOMPLETE: "+geoHead+"\n") || strings.Contains(got, "\nINCOMPLETE: "+geoHead+"\n"); there != tc.geo {
			t.Errorf("%s: the geo block there: %v, want %v:\n%s", tc.name, there, tc.geo, got)
		}
	}
}

// The mail's HTML part, which most mail clients show, says first what the
// report could not see, the names from the network escaped.
func TestGapsHTML(t *testing.T) {
	for _, tc := range gapCases() {
		m := detected()
		m.Gaps = tc.gaps
		out := HTML(m)
		top, _, ok := strings.Cut(out, "<h3>")
		if !ok {
			t.Fatalf("%s: no account:\n%s", tc.name, out)
		}
		checkNotices(t, tc, top, out, func(head string) string {
			return "<p><strong>INCOMPLETE:</strong> " + html.EscapeString(head) + "</p>\n"
		})
		if tc.unread {
			name := "<li>" + html.EscapeString(report.Escape(hostileInput)) + " (read up to line 1200): " + html.EscapeString(hostileInputError) + "</li>\n"
			if !strings.Contains(top, name) {
				t.Errorf("%s: no %q:\n%s", tc.name, name, out)
			}
		}
		if hidden(out) || strings.Contains(out, "<img") || strings.Contains(out, "<b>") {
			t.Errorf("%s: a name went through raw:\n%+q", tc.name, out)
		}
	}
}

// Mattermost's post says it first too; no name in it can notify anyone,
// nor make a heading, a link or a line.
func TestGapsMarkdown(t *testing.T) {
	for _, tc := range gapCases() {
		m := detected()
		m.Gaps = tc.gaps
		var p map[string]string
		if err := json.Unmarshal([]byte(strings.TrimPrefix(must((&Mattermost{}).Preview(m)), "Mattermost /hooks/…:\n")), &p); err != nil {
			t.Fatal(err)
		}
		md := p["text"]
		top, _, ok := strings.Cut(md, "\n**bob")
		if !ok {
			t.Fatalf("%s: no account:\n%s", tc.name, md)
		}
		checkNotices(t, tc, top, md, func(head string) string { return "\n**INCOMPLETE:** " + mdEscape(head) + "\n" })
		if got := mattermostMentions(md); len(got) > 0 {
			t.Errorf("%s: Mattermost would read the mentions %q in:\n%s", tc.name, got, md)
		}
		items := items(top, "\n", "- ")
		if want := map[bool]int{true: 1}[tc.unread] + map[bool]int{true: 1}[tc.geo]; len(items) != want {
			t.Errorf("%s: %d items, want %d:\n%s", tc.name, len(items), want, md)
		}
		for _, it := range items {
			code := len(it) > 2 && it[0] == '`' && it[len(it)-1] == '`'
			if !mdInert(it) && !code {
				t.Errorf("%s: item not inert: %q", tc.name, it)
			}
		}
		if tc.unread && !strings.Contains(top, "- `"+report.Escape(hostileInput)+" (read up to line 1200): "+hostileInputError+"`\n") {
			t.Errorf("%s: the input is not there, as code:\n%s", tc.name, md)
		}
		if hidden(md) || strings.Contains(md, "\n# ") {
			t.Errorf("%s: a name went through raw:\n%+q", tc.name, md)
		}
	}
}

// The Teams card says it first, in red, each detail escaped.
func TestGapsTeams(t *testing.T) {
	for _, tc := range gapCases() {
		m := detected()
		m.Gaps = tc.gaps
		var top []map[string]any // the blocks before the account's
		for _, b := range teamsBody(t, m)[1:] {
			if b["text"] == mdEscape("bob@example.test") {
				break
			}
			top = append(top, b)
		}
		var heads, details []string
		for _, b := range top {
			s, _ := b["text"].(string)
			if rest, ok := strings.CutPrefix(s, "**INCOMPLETE:** "); ok {
				heads = append(heads, rest)
				if b["color"] != "Attention" {
					t.Errorf("%s: notice in %v, want Attention", tc.name, b["color"])
				}
				continue
			}
			for _, it := range strings.Split(s, "\r") {
				if !strings.HasPrefix(it, "- ") || !mdInert(it[2:]) {
					t.Errorf("%s: detail not an inert item: %q", tc.name, it)
				}
				details = append(details, it[2:])
			}
		}
		var want, wantDetails []string
		if tc.unread {
			want = append(want, mdEscape(unreadHead))
			wantDetails = append(wantDetails, mdEscape(report.Escape(hostileInput)+" (read up to line 1200): "+hostileInputError))
		}
		if tc.geo {
			want = append(want, mdEscape(geoHead))
			wantDetails = append(wantDetails, mdEscape("an address without a country counts as unknown, never foreign; the errors are in the warning on stderr and the records' enrich_errors"))
		}
		if !reflect.DeepEqual(heads, want) || !reflect.DeepEqual(details, wantDetails) {
			t.Errorf("%s: before the account:\n%q\n%q\nwant\n%q\n%q", tc.name, heads, details, want, wantDetails)
		}
	}
}

// The webhook's JSON says it as data, as loganom-report --format json's
// first line does: "incomplete", "unread", "geo_lookups_failed".
func TestGapsWebhook(t *testing.T) {
	for _, tc := range append(gapCases(), gapCase{"none", report.Gaps{}, false, false}) {
		m := detected()
		m.Gaps = tc.gaps
		var p map[string]json.RawMessage
		if err := json.Unmarshal([]byte(strings.TrimPrefix(must((&Webhook{}).Preview(m)), "webhook:\n")), &p); err != nil {
			t.Fatal(err)
		}
		if !tc.unread && !tc.geo {
			for _, k := range []string{"incomplete", "unread", "geo_lookups_failed"} {
				if _, ok := p[k]; ok {
					t.Errorf("%s: %q in a complete report's payload", tc.name, k)
				}
			}
			continue
		}
		var first bytes.Buffer
		report.JSONGaps(&first, nil, m.Gaps)
		var want map[string]json.RawMessage
		if err := json.Unmarshal(first.Bytes(), &want); err != nil {
			t.Fatal(err)
		}
		for k, v := range want {
			var a, b any
			json.Unmarshal(v, &a)
			json.Unmarshal(p[k], &b)
			if !reflect.DeepEqual(a, b) {
				t.Errorf("%s: %q is %s, want %s (as the JSON report's first line)", tc.name, k, p[k], v)
			}
		}
		if _, ok := p["geo_lookups_failed"]; ok != tc.geo {
			t.Errorf("%s: geo_lookups_failed there: %v", tc.name, ok)
		}
		var text string
		json.Unmarshal(p["text"], &text)
		if tc.geo && !strings.Contains(text, "INCOMPLETE: "+geoHead) {
			t.Errorf("%s: the text does not say the geo lookups failed:\n%s", tc.name, text)
		}
	}
}

// A report that saw everything has no notice in any format.
func TestGapsNone(t *testing.T) {
	for name, out := range renders(t, detected()) {
		if strings.Contains(out, "INCOMPLETE") || strings.Contains(out, "incomplete") {
			t.Errorf("%s: a notice without gaps:\n%s", name, out)
		}
	}
}

// A chat message lists MaxRows inputs not read at most, as it lists
// addresses, and counts the rest; the mail lists them all.
func TestGapsManyInputs(t *testing.T) {
	m := detected()
	for i := range MaxRows + 2 {
		m.Gaps.Unread = append(m.Gaps.Unread, report.Unread{Input: "/var/log/mail.log." + strconv.Itoa(i), Error: "permission denied"})
	}
	md := Markdown(m)
	if n := strings.Count(md, "\n- /var/log/mail"); n != MaxRows || !strings.Contains(md, "\n- … and 2 more\n") {
		t.Errorf("Markdown: %d inputs listed, want %d and the rest counted:\n%s", n, MaxRows, md)
	}
	teams := must((&Teams{}).Preview(m))
	if n := strings.Count(teams, "- /var/log/mail"); n != MaxRows || !strings.Contains(teams, `\r- … and 2 more"`) {
		t.Errorf("Teams: %d inputs listed, want %d and the rest counted:\n%s", n, MaxRows, teams)
	}
	if n := strings.Count(HTML(m), "<li>/var/log/mail"); n != MaxRows+2 {
		t.Errorf("HTML: %d inputs listed, want %d", n, MaxRows+2)
	}
}

// Logins not located for want of a geo source, and inputs all empty, are
// in the webhook's JSON as in loganom-report --format json's first line:
// "geo_not_configured", "empty"; and its text says both.
func TestGapsWebhookNoGeoEmpty(t *testing.T) {
	m := detected()
	m.Gaps = report.Gaps{Empty: []string{"mail.log"}, NoGeo: report.GeoFailed{Logins: 4, Addresses: 2}}
	var p map[string]json.RawMessage
	if err := json.Unmarshal([]byte(strings.TrimPrefix(must((&Webhook{}).Preview(m)), "webhook:\n")), &p); err != nil {
		t.Fatal(err)
	}
	var first bytes.Buffer
	report.JSONGaps(&first, nil, m.Gaps)
	var want map[string]json.RawMessage
	if err := json.Unmarshal(first.Bytes(), &want); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"incomplete", "unread", "empty", "geo_not_configured"} {
		var a, b any
		json.Unmarshal(want[k], &a)
		json.Unmarshal(p[k], &b)
		if want[k] == nil || !reflect.DeepEqual(a, b) {
			t.Errorf("%q is %s, want %s (as the JSON report's first line)", k, p[k], want[k])
		}
	}
	var text string
	json.Unmarshal(p["text"], &text)
	for _, head := range []string{"INCOMPLETE: no log line was read", "INCOMPLETE: no geo database is configured, and ipinfo.io is not in use"} {
		if !strings.Contains(text, head) {
			t.Errorf("the text does not say %q:\n%s", head, text)
		}
	}
}
