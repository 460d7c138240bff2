package notify

import (
	"bytes"
	"fmt"
	"html"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/loganom/loganom/pkg/detect"
	"github.com/loganom/loganom/pkg/report"
)

// Subject is the default subject and title. With the detectors' verdicts,
// it leads with the highest severity among the accounts ("loganom: HIGH:
// 1 account may be compromised"); with the original rule (no severity) it
// is as it was.
func Subject(m *Message) string {
	n := len(m.Accounts)
	sev := ""
	if h := Highest(m); h > detect.None {
		sev = strings.ToUpper(h.String()) + ": "
	}
	s := fmt.Sprintf("loganom: %s%d accounts may be compromised", sev, n)
	if n == 1 {
		s = "loganom: " + sev + "1 account may be compromised"
	}
	if m.Host != "" {
		s += " on " + report.Escape(m.Host)
	}
	return s
}

// Plain is the report as plain text (the mail's text part, the webhook's
// text field), gaps first, as on stdout (report.TextGaps).
func Plain(m *Message) string {
	var b bytes.Buffer
	report.TextGaps(&b, m.Accounts, m.Seen, m.Gaps)
	return b.String()
}

// gap is one thing the report could not see, in report.TextGaps' words:
// its line after "INCOMPLETE: " (head), and the lines under it (the
// inputs not read, what a failed geo lookup means), names from the
// network escaped by report.Escape (quoted, with any line break or
// control character as \n and the like: one line each). The caller makes
// them inert for its format.
type gap struct {
	head    string
	details []string
}

// gaps are g as report.TextGaps says it, before the accounts: none when
// the report saw everything.
func gaps(g report.Gaps) []gap {
	if g.None() {
		return nil
	}
	var b bytes.Buffer
	report.TextGaps(&b, nil, 0, g)
	var out []gap
	for _, line := range strings.Split(b.String(), "\n") {
		if head, ok := strings.CutPrefix(line, "INCOMPLETE: "); ok {
			out = append(out, gap{head: head})
		} else if d, ok := strings.CutPrefix(line, "  "); ok && len(out) > 0 {
			out[len(out)-1].details = append(out[len(out)-1].details, d)
		}
	}
	return out
}

// chatDetails are a gap's details for a chat message: MaxRows at most,
// as its tables have, the rest counted.
func chatDetails(d []string) []string {
	if len(d) <= MaxRows {
		return d
	}
	return append(d[:MaxRows:MaxRows], fmt.Sprintf("… and %d more", len(d)-MaxRows))
}

// Highest is the highest severity among the message's accounts: None
// with the original rule, whose accounts have none.
func Highest(m *Message) detect.Severity {
	h := detect.None
	for _, a := range m.Accounts {
		if s, err := detect.ParseSeverity(a.Severity); err == nil && s > h {
			h = s
		}
	}
	return h
}

// because is the line that heads an account's reasons, worded as
// report.Text words it: "Severity high, because:", sev already made
// inert for the format.
func because(sev string, reasons int) string {
	if reasons == 0 {
		return "Severity " + sev
	}
	return "Severity " + sev + ", because:"
}

func rdns(ip *report.IP) string {
	if ip.RDNS == "" {
		return ""
	}
	if ip.RDNSVerified == nil {
		return ip.RDNS + " (not checked)" // no pattern_ip could match it
	}
	if !*ip.RDNSVerified {
		return ip.RDNS + " (unverified)"
	}
	return ip.RDNS
}

func asOrg(ip *report.IP) string {
	if ip.ASN == 0 {
		return ""
	}
	return "AS" + strconv.FormatUint(uint64(ip.ASN), 10) + " " + ip.Org
}

func summary(a *report.Account) string {
	countries := ""
	if len(a.Countries) > 0 {
		countries = " (" + strings.Join(a.Countries, " ") + ")"
	}
	return fmt.Sprintf("%d addresses, %d countries%s, %d networks, %d logins",
		len(a.IPs), len(a.Countries), countries, len(a.ASNs), a.Logins)
}

// HTML is the report as an HTML document (the mail's HTML part), gaps
// first; every value is escaped.
func HTML(m *Message) string {
	var b strings.Builder
	e := func(s string) string { return html.EscapeString(neutral(s)) }
	b.WriteString("<!DOCTYPE html>\n<html><body>\n<h2>" + e(Subject(m)) + "</h2>\n")
	for _, g := range gaps(m.Gaps) {
		fmt.Fprintf(&b, "<p><strong>INCOMPLETE:</strong> %s</p>\n<ul>\n", e(g.head))
		for _, d := range g.details {
			fmt.Fprintf(&b, "<li>%s</li>\n", e(d))
		}
		b.WriteString("</ul>\n")
	}
	for _, a := range m.Accounts {
		fmt.Fprintf(&b, "<h3>%s</h3>\n<p>%s</p>\n", e(a.User), e(summary(a)))
		if a.Severity != "" {
			fmt.Fprintf(&b, "<p>%s</p>\n", because("<strong>"+e(a.Severity)+"</strong>", len(a.Reasons)))
			if len(a.Reasons) > 0 {
				b.WriteString("<ul>\n")
				for _, r := range a.Reasons {
					fmt.Fprintf(&b, "<li>%s</li>\n", e(report.ReasonText(r)))
				}
				b.WriteString("</ul>\n")
			}
		}
		if a.Blocked != nil {
			fmt.Fprintf(&b, "<p><strong>%s</strong></p>\n", e(blockedLine(a.Blocked)))
		}
		b.WriteString("<table border=\"1\" cellpadding=\"4\" cellspacing=\"0\">\n")
		b.WriteString("<tr><th>IP</th><th>Country</th><th>City</th><th>rDNS</th><th>AS / organisation</th><th>Logins</th><th>First</th><th>Last</th></tr>\n")
		for _, ip := range a.IPs {
			fmt.Fprintf(&b, "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%d</td><td>%s</td><td>%s</td></tr>\n",
				e(ip.IP), e(ip.Country), e(ip.City), e(rdns(ip)), e(asOrg(ip)), ip.Count, e(ip.First.Format("2006-01-02 15:04")), e(ip.Last.Format("2006-01-02 15:04")))
		}
		b.WriteString("</table>\n")
	}
	if len(m.Accounts) > 0 {
		b.WriteString("<p><strong>What to do:</strong> " + html.EscapeString(report.WhatToDo) + "</p>\n")
	}
	b.WriteString("</body></html>\n")
	return b.String()
}

// neutral shows what would act instead of being seen, escaped: what
// report.Escape escapes (control characters, line and paragraph
// separators, format characters: the bidi controls, which can show
// "moc.elpmaxe@bob" as "bob@example.com", and the zero-width characters,
// which make two names that look the same differ) as \u202e, bytes that
// are not UTF-8 as \xff. Unlike Escape it neither quotes the text nor
// escapes the rest of it, for a reader who is not at a terminal.
func neutral(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || report.Suspicious(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, "\\x%02x", s[i])
		case report.Suspicious(r):
			fmt.Fprintf(&b, "\\u%04x", r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// blockedLine is the account's block in words, capitalised ("Blocked
// until …; to lift it: loganom unblock …"); the caller escapes it.
func blockedLine(m *report.BlockMark) string {
	s := m.String()
	return strings.ToUpper(s[:1]) + s[1:]
}

// MaxRows is how many addresses of one account a chat message lists, as
// the original did; the rest are counted.
const MaxRows = 10

// mdEscape makes a value inert in Markdown and in a table cell: what
// would act unseen is shown escaped (neutral), and every character
// Markdown gives a meaning to is escaped.
func mdEscape(s string) string {
	var b strings.Builder
	for _, r := range neutral(s) {
		switch {
		case strings.ContainsRune("\\`*_{}[]()<>#+-.!|~&:@=\"'$%", r):
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// mmEscape makes a value inert in Mattermost's Markdown, as mdEscape
// does, and keeps it from notifying anyone: Mattermost's server looks for
// mentions (@channel, @all, @here, @name) in the post's text with
// Markdown's escapes undone (an escaped \@ is an @ to it), in words split
// at any character but letters, digits and : . - _ @, and not in code
// spans. So a value where an @ starts such a word (a SASL user name
// "@channel", a PTR name "\@here\;.evil.example") is shown as a code
// span, verbatim but for what neutral escapes; in a table cell (cell), its
// | escaped still, since GFM's tables split a row at every | that is not.
// An address, bob@example.test, is escaped as before: its @ starts no
// word.
func mmEscape(s string, cell bool) string {
	n := neutral(s)
	mention := false
	prev := ' '
	for _, r := range n {
		if r == '@' && !unicode.IsLetter(prev) && !unicode.IsNumber(prev) {
			mention = true
			break
		}
		prev = r
	}
	if !mention {
		return mdEscape(s)
	}
	if cell {
		n = strings.ReplaceAll(n, "|", `\|`)
	}
	// fenced by a run of backticks longer than any in it, and apart
	// from it by a space (which CommonMark strips)
	run, longest := 0, 0
	for _, r := range n {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if longest > 0 {
		return fence + " " + n + " " + fence
	}
	return fence + n + fence
}

// Markdown is the report for chat (Mattermost): gaps first, then a table
// per account, at most MaxRows rows each. No name from the network can
// notify the channel (mmEscape).
func Markdown(m *Message) string {
	var b strings.Builder
	b.WriteString("#### " + mmEscape(Subject(m), false) + "\n")
	for _, g := range gaps(m.Gaps) {
		b.WriteString("\n**INCOMPLETE:** " + mdEscape(g.head) + "\n\n")
		for _, d := range chatDetails(g.details) {
			b.WriteString("- " + mmEscape(d, false) + "\n")
		}
	}
	for _, a := range m.Accounts {
		fmt.Fprintf(&b, "\n**%s**: %s\n\n", mmEscape(a.User, false), mdEscape(summary(a)))
		if a.Severity != "" {
			b.WriteString(because("**"+mdEscape(a.Severity)+"**", len(a.Reasons)) + "\n\n")
			for _, r := range a.Reasons {
				b.WriteString("- " + mmEscape(report.ReasonText(r), false) + "\n")
			}
			if len(a.Reasons) > 0 {
				b.WriteString("\n")
			}
		}
		if a.Blocked != nil {
			b.WriteString("**" + mmEscape(blockedLine(a.Blocked), false) + "**\n\n")
		}
		b.WriteString("| IP | Country | City | rDNS | AS / organisation | Logins | Last |\n|---|---|---|---|---|---|---|\n")
		for i, ip := range a.IPs {
			if i == MaxRows {
				fmt.Fprintf(&b, "\n_… and %d more addresses_\n", len(a.IPs)-MaxRows)
				break
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %d | %s |\n", mmEscape(ip.IP, true), mmEscape(ip.Country, true), mmEscape(ip.City, true),
				mmEscape(rdns(ip), true), mmEscape(asOrg(ip), true), ip.Count, ip.Last.Format("2006-01-02 15:04"))
		}
	}
	if len(m.Accounts) > 0 {
		b.WriteString("\n**What to do:** " + mdEscape(report.WhatToDo) + "\n")
	}
	return b.String()
}
