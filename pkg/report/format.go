package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/loganom/loganom/pkg/detect"
)

// Escape escapes text from the network so that it is safe to print on a
// terminal or in a mail: a string with control characters (escape
// sequences among them: ESC, OSC, BEL, NUL), invisible format characters
// (bidi controls such as U+202E, which reorder what follows, and
// zero-width characters, which hide a difference between two names), line
// separators or invalid UTF-8 is shown quoted, with those characters
// escaped as \u202e and the like. Other text is returned as it is.
func Escape(s string) string {
	if !utf8.ValidString(s) {
		return strconv.Quote(s)
	}
	for _, r := range s {
		if Suspicious(r) {
			return strconv.QuoteToASCII(s)
		}
	}
	return s
}

// Suspicious tells whether r is a character that Escape escapes: a control
// character, a format character (category Cf: bidi controls, zero-width
// spaces and joiners, the BOM) or a line or paragraph separator.
func Suspicious(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029'
}

const timeFormat = "2006-01-02 15:04:05"

func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Format(timeFormat)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// Gaps is what a report could not see: inputs not read in full
// (Unread), logins after the whitelist whose geo lookups failed (Geo),
// and those that were not located because no geo source was configured
// (NoGeo: enrich_errors record.NoGeoSource). Any makes a report that
// found nothing no all-clear.
type Gaps struct {
	Unread []Unread
	// Empty names the inputs that had no line at all, when no input had
	// one (record.EmptyInput): nothing was seen.
	Empty []string
	Geo   GeoFailed
	NoGeo GeoFailed
}

// GeoFailed counts the logins after the whitelist whose country and
// network lookups failed (enrich_errors "geo: …": ipinfo.io unreachable,
// a database unreadable), and their addresses. An address without a
// country is unknown, never foreign: a thief's logins from such addresses
// look like nothing.
type GeoFailed struct {
	Logins    int `json:"logins"`
	Addresses int `json:"addresses"`
}

// None tells whether the report saw everything.
func (g Gaps) None() bool {
	return len(g.Unread) == 0 && len(g.Empty) == 0 && g.Geo.Logins == 0 && g.NoGeo.Logins == 0
}

// Text writes the report as a readable table, one block per account, in
// the original's column order (IP, country, city, rDNS, AS and
// organisation) with logins and first and last time per address.
//
// When inputs could not be read (unread), it names them first, and, with
// nothing found, does not say that no account looks compromised: what was
// not read may hold one.
func Text(w io.Writer, accounts []*Account, seen int, unread []Unread) error {
	return TextGaps(w, accounts, seen, Gaps{Unread: unread})
}

// TextGaps is Text, which also says, before the accounts, how many logins'
// geo lookups failed (g.Geo), and then gives no all-clear either.
func TextGaps(w io.Writer, accounts []*Account, seen int, g Gaps) error {
	bw := bufio.NewWriter(w)
	unread := g.Unread
	if len(unread) > 0 {
		fmt.Fprintf(bw, "INCOMPLETE: %s could not be read in full; accounts in %s may be missing from this report:\n",
			plural(len(unread), "input", "inputs"), map[bool]string{true: "it", false: "them"}[len(unread) == 1])
		for _, u := range unread {
			after := "not read"
			if u.Lines > 0 {
				after = "read up to line " + strconv.FormatInt(u.Lines, 10)
			}
			fmt.Fprintf(bw, "  %s (%s): %s\n", Escape(u.Input), after, Escape(u.Error))
		}
		fmt.Fprintln(bw)
	}
	if len(g.Empty) > 0 {
		fmt.Fprintf(bw, "INCOMPLETE: no log line was read: %s empty; check the path, and whether the log was just rotated (its lines are then in the one before):\n",
			map[bool]string{true: "the input is", false: "the inputs are"}[len(g.Empty) == 1])
		for _, e := range g.Empty {
			fmt.Fprintf(bw, "  %s\n", Escape(e))
		}
		fmt.Fprintln(bw)
	}
	if g.Geo.Logins > 0 {
		fmt.Fprintf(bw, "INCOMPLETE: the geo lookups (country, network) failed for %s from %s; accounts that logged in from them may look safer than they are:\n",
			plural(g.Geo.Logins, "login", "logins"), plural(g.Geo.Addresses, "address", "addresses"))
		fmt.Fprintln(bw, "  an address without a country counts as unknown, never foreign; the errors are in the warning on stderr and the records' enrich_errors")
		fmt.Fprintln(bw)
	}
	if g.NoGeo.Logins > 0 {
		fmt.Fprintf(bw, "INCOMPLETE: no geo database is configured, and ipinfo.io is not in use: %s from %s have no country and no network; accounts that logged in from them may look safer than they are:\n",
			plural(g.NoGeo.Logins, "login", "logins"), plural(g.NoGeo.Addresses, "address", "addresses"))
		fmt.Fprintln(bw, "  an address without a country counts as unknown, never foreign")
		fmt.Fprintln(bw, "  scripts/fetch-geodb downloads free databases; or name yours with --geoip or [ENRICH] geoip, or give [GENERAL] ipinfo_token")
		fmt.Fprintln(bw)
	}
	after := plural(seen, "account", "accounts") + " with logins after the whitelist"
	switch len(accounts) {
	case 0:
		switch {
		case len(unread) > 0:
			fmt.Fprintf(bw, "Nothing found in what was read (%s), but this is no all-clear: see above.\n", after)
		case !g.None():
			fmt.Fprintf(bw, "Nothing found (%s), but this is no all-clear: see above.\n", after)
		default:
			fmt.Fprintf(bw, "No account looks compromised (%s).\n", after)
		}
		return bw.Flush()
	case 1:
		fmt.Fprintf(bw, "1 account looks compromised (of %s)%s:\n", after, alerted(accounts))
	default:
		fmt.Fprintf(bw, "%d accounts look compromised (of %s)%s:\n", len(accounts), after, alerted(accounts))
	}
	for _, a := range accounts {
		fmt.Fprintln(bw)
		accountText(bw, a)
	}
	fmt.Fprintln(bw)
	for _, l := range wrap("What to do: "+WhatToDo, 100) {
		fmt.Fprintln(bw, l)
	}
	return bw.Flush()
}

// WhatToDo closes a report that found accounts, in every format, after
// "What to do: ": what the postmaster does next.
const WhatToDo = "ask each account's owner whether these logins were theirs. If not, change the password " +
	"now and look at what the account sent; loganom block USER stops its mail meanwhile (where Postfix asks " +
	"loganom serve, its policy service), and loganom alerts ack USER closes its alert when it is dealt with."

// wrap cuts s into lines of at most width bytes, at spaces.
func wrap(s string, width int) []string {
	var out []string
	for len(s) > width {
		i := strings.LastIndexByte(s[:width+1], ' ')
		if i <= 0 {
			break
		}
		out = append(out, s[:i])
		s = s[i+1:]
	}
	return append(out, s)
}

// alerted is what the headline says of the accounts already alerted
// (marked, with a state: not notified again), so that a run that found
// one new account among many old ones does not read as many new ones.
func alerted(accounts []*Account) string {
	n := 0
	for _, a := range accounts {
		if a.Alert != nil {
			n++
		}
	}
	switch {
	case n == 0:
		return ""
	case n == len(accounts) && n == 1:
		return ", already alerted"
	case n == len(accounts):
		return ", all already alerted"
	}
	return ", " + strconv.Itoa(n) + " of them already alerted"
}

// AccountText writes one account's block of Text.
func AccountText(w io.Writer, a *Account) error {
	bw := bufio.NewWriter(w)
	accountText(bw, a)
	return bw.Flush()
}

func accountText(bw *bufio.Writer, a *Account) {
	countries := plural(len(a.Countries), "country", "countries")
	if len(a.Countries) > 0 {
		countries += " (" + Escape(strings.Join(a.Countries, " ")) + ")"
	}
	fmt.Fprintf(bw, "%s: %s, %s, %s, %s, %s to %s\n", Escape(a.User),
		plural(len(a.IPs), "address", "addresses"), countries, plural(len(a.ASNs), "network", "networks"),
		plural(a.Logins, "login", "logins"), when(a.First), when(a.Last))
	if a.Alert != nil {
		fmt.Fprintf(bw, "  (%s: not notified again)\n", a.Alert)
	}
	if a.Blocked != nil {
		fmt.Fprintf(bw, "  %s\n", Escape(strings.ToUpper(a.Blocked.String()[:1])+a.Blocked.String()[1:]))
	}
	if a.Severity != "" {
		fmt.Fprintf(bw, "  severity %s, because:\n", a.Severity)
		for _, r := range a.Reasons {
			fmt.Fprintf(bw, "  - %s\n", Escape(ReasonText(r)))
		}
	}
	if ipTable(bw, a.IPs) {
		fmt.Fprintln(bw, "  * from the history: seen by an earlier run")
	}
}

// ReasonText is a reason as the text formats show it, with its detector
// and severity: "impossible travel (high): São Paulo, BR → Osaka, JP, …".
func ReasonText(r detect.Reason) string {
	name := strings.ReplaceAll(r.Detector, "_", " ")
	if r.Severity == detect.None {
		return name + ": " + r.Text
	}
	return name + " (" + r.Severity.String() + "): " + r.Text
}

// IPTable writes addresses as the report's table does, indented: address,
// country, city, reverse name (marked when unverified), AS and
// organisation, logins, first and last, names from the network escaped.
func IPTable(w io.Writer, ips []*IP) { ipTable(w, ips) }

// ipTable writes the table, and tells whether an address is marked as
// from the history (Earlier).
func ipTable(w io.Writer, ips []*IP) (earlier bool) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  IP\tCC\tCITY\tRDNS\tAS ORG\tLOGINS\tFIRST\tLAST")
	for _, ip := range ips {
		rdns := "-"
		if ip.RDNS != "" {
			rdns = Escape(ip.RDNS)
			if ip.RDNSVerified == nil {
				rdns += " (not checked)" // no pattern_ip could match it
			} else if !*ip.RDNSVerified {
				rdns += " (unverified)"
			}
		}
		as := "-"
		if ip.ASN != 0 {
			as = "AS" + strconv.FormatUint(uint64(ip.ASN), 10) + " " + Escape(ip.Org)
		}
		addr := Escape(ip.IP) // a record's, whoever wrote it
		if ip.Earlier {
			addr += "*"
			earlier = true
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", addr, dash(Escape(ip.Country)), dash(Escape(ip.City)), rdns, as, ip.Count, when(ip.First), when(ip.Last))
	}
	tw.Flush()
	return earlier
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// JSON writes one JSON object per anomalous account and line. When inputs
// could not be read, a first line says so:
// {"incomplete":true,"unread":[{"input":"FILE","lines_read":N,"error":"..."}]}.
//
// Names from the network are inert in it (InertJSON), on a terminal too.
func JSON(w io.Writer, accounts []*Account, unread []Unread) error {
	return JSONGaps(w, accounts, Gaps{Unread: unread})
}

// JSONGaps is JSON, whose first line also counts, when some failed, the
// logins whose geo lookups did: {"incomplete":true,"unread":[],
// "geo_lookups_failed":{"logins":N,"addresses":M}}; and those not
// located for want of a geo source: "geo_not_configured":{…}; and the
// inputs, all empty: "empty":["FILE"].
func JSONGaps(w io.Writer, accounts []*Account, g Gaps) error {
	bw := bufio.NewWriter(w)
	encode := InertEncoder(bw)
	if !g.None() {
		if err := encode(g.header()); err != nil {
			return err
		}
	}
	for _, a := range accounts {
		if err := encode(a); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// header is the first line of a JSON report that did not see everything:
// {"incomplete":true,"unread":[…]} and what else g holds.
func (g Gaps) header() any {
	unread := g.Unread
	if unread == nil {
		unread = []Unread{}
	}
	return struct {
		Incomplete bool      `json:"incomplete"`
		Unread     []Unread  `json:"unread"`
		Empty      []string  `json:"empty,omitempty"`
		Geo        GeoFailed `json:"geo_lookups_failed,omitzero"`
		NoGeo      GeoFailed `json:"geo_not_configured,omitzero"`
	}{true, unread, g.Empty, g.Geo, g.NoGeo}
}

// InertEncoder returns a function that writes values to w as JSON
// lines (encoding/json's, HTML left unescaped), made inert by InertJSON:
// what the commands print with --format json, on a terminal as often as
// in a pipe.
func InertEncoder(w io.Writer) func(v any) error {
	var line bytes.Buffer
	enc := json.NewEncoder(&line)
	enc.SetEscapeHTML(false)
	return func(v any) error {
		line.Reset()
		if err := enc.Encode(v); err != nil {
			return err
		}
		_, err := w.Write(InertJSON(line.Bytes()))
		return err
	}
}

// InertJSON escapes in JSON text (as encoding/json writes it: valid
// UTF-8) the characters that Escape escapes and the encoder leaves raw:
// the C1 controls (U+009B is a CSI to a terminal, as ESC [ is), the bidi
// controls, the zero-width and other format characters (U+E0041, a tag,
// as a pair of \u escapes), the line and paragraph separators. They can
// only be in strings, where \u escapes mean the same: a decoder reads
// the same values. Text without any is returned as it is.
func InertJSON(b []byte) []byte {
	i := 0
	for i < len(b) {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if Suspicious(r) {
			break
		}
		i += n
	}
	if i == len(b) {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	out = append(out, b[:i]...)
	for i < len(b) {
		r, n := utf8.DecodeRune(b[i:])
		if r < utf8.RuneSelf || !Suspicious(r) {
			out = append(out, b[i:i+n]...)
		} else if r > 0xffff {
			r1, r2 := utf16.EncodeRune(r)
			out = fmt.Appendf(out, `\u%04x\u%04x`, r1, r2)
		} else {
			out = fmt.Appendf(out, `\u%04x`, r)
		}
		i += n
	}
	return out
}
