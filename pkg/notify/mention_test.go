package notify

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/loganom/loganom/pkg/detect"
	"github.com/loganom/loganom/pkg/report"
)

// mattermostMentions is what Mattermost's server reads as mentions in a
// post's text, as it reads them (server/channels/app: getExplicitMentions
// and StandardMentionParser.ProcessText): the text is parsed as Markdown,
// and the text of its Text nodes, backslash escapes and character
// references undone (\@ and &#64; are both "@" to it), is split into
// words at any character but letters, digits and : . - _ @; code spans
// are no Text, and are not read. It returns the words taken for @here,
// @channel or @all, or for a user's @name (words starting with @).
// It is coarser than Mattermost's parser (all but code spans is text):
// it finds every mention Mattermost would find.
func mattermostMentions(md string) []string {
	// an incoming webhook's text is Slack's first: <!channel> is @channel
	// to Mattermost (ProcessSlackText, expandAnnouncement)
	md = strings.NewReplacer("<!channel>", "@channel", "<!here>", "@here", "<!all>", "@all").Replace(md)
	var text strings.Builder
	for i := 0; i < len(md); {
		switch c := md[i]; {
		case c == '`':
			n := 0
			for i+n < len(md) && md[i+n] == '`' {
				n++
			}
			// a code span: up to the next run of exactly n backticks
			end := -1
			for j := i + n; j < len(md); {
				if md[j] != '`' {
					j++
					continue
				}
				k := 0
				for j+k < len(md) && md[j+k] == '`' {
					k++
				}
				if k == n {
					end = j + k
					break
				}
				j += k
			}
			if end < 0 {
				text.WriteString(md[i : i+n])
				i += n
				continue
			}
			text.WriteByte(' ') // a code span ends the Text before it
			i = end
		case c == '\\' && i+1 < len(md) && strings.IndexByte("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", md[i+1]) >= 0:
			text.WriteByte(md[i+1])
			i += 2
		case c == '&':
			semi := strings.IndexByte(md[i:], ';')
			if semi > 1 {
				ref := md[i+1 : i+semi]
				if r, ok := charRef(ref); ok {
					text.WriteRune(r)
					i += semi + 1
					continue
				}
			}
			text.WriteByte(c)
			i++
		default:
			text.WriteByte(c)
			i++
		}
	}
	var found []string
	system := func(w string) bool {
		switch strings.ToLower(w) {
		case "@here", "@channel", "@all":
			return true
		}
		return false
	}
	for _, word := range strings.FieldsFunc(text.String(), func(c rune) bool {
		return !(c == ':' || c == '.' || c == '-' || c == '_' || c == '@' || unicode.IsLetter(c) || unicode.IsNumber(c))
	}) {
		if word[0] == ':' && word[len(word)-1] == ':' {
			continue // an emoji
		}
		word = strings.TrimLeft(word, ":.-_")
		if system(word) || strings.HasPrefix(word, "@") {
			found = append(found, word)
			continue
		}
		w := word
		for w != "" && strings.LastIndexAny(w, ".-:_") == len(w)-1 {
			w = w[:len(w)-1]
			if system(w) {
				found = append(found, w)
			}
		}
		for _, part := range strings.FieldsFunc(word, func(c rune) bool { return c == '.' || c == '-' || c == ':' }) {
			if strings.HasPrefix(part, "@") {
				found = append(found, part)
			}
		}
	}
	return found
}

// charRef decodes the character references that can make an @: &#64;,
// &#x40;, &commat;.
func charRef(ref string) (rune, bool) {
	if ref == "commat" {
		return '@', true
	}
	if rest, ok := strings.CutPrefix(ref, "#"); ok {
		base := 10
		if len(rest) > 0 && (rest[0] == 'x' || rest[0] == 'X') {
			rest, base = rest[1:], 16
		}
		if n, err := strconv.ParseUint(rest, base, 21); err == nil {
			return rune(n), true
		}
	}
	return 0, false
}

func TestMattermostMentionsModel(t *testing.T) {
	for _, tc := range []struct {
		md   string
		want int
	}{
		{"**bob\\@example\\.test**: 1 address", 0},
		{"hello @channel", 1},
		{"\\@here", 1},
		{"x\\.\\@all", 1},
		{"&#64;channel", 1},
		{"`@channel` and ``a`@all``", 0},
		{"| host\\\\\\@here\\.evil\\.example |", 1},
		{"a+@bob", 1},
		{"<!channel>", 1},
		{"\\<\\!channel\\>", 0},
	} {
		if got := mattermostMentions(tc.md); len(got) != tc.want {
			t.Errorf("%q: %q, want %d", tc.md, got, tc.want)
		}
	}
}

// A name from the network cannot notify a Mattermost channel: a SASL
// user name "@channel", or a PTR name of the thief's address, which
// anyone who holds an address can set ("\@here\;.evil.example" as the
// resolver presents a label "@here;"), must not make Mattermost
// notify everyone in the channel, nor anyone by their @name. Escaping
// the @ is no help: Mattermost undoes Markdown's escapes before it looks
// for mentions.
func TestMarkdownNoMentions(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	hostile := []string{"@channel @all @here", "x.@all", "a+@here@example.test", "-@channel", "@bob", "ev\u202e@all", "<!channel>", "<!here> @x"}
	m := &Message{Host: "mail.example.test", Seen: len(hostile) + 1}
	for _, u := range append(hostile, "bob@example.test") {
		m.Accounts = append(m.Accounts, &report.Account{User: u, Logins: 1, First: t0, Last: t0, Countries: []string{"JP"}, ASNs: []uint32{64500},
			IPs: []*report.IP{
				{IP: "203.0.113.66", Count: 1, First: t0, Last: t0, Country: "JP", City: "@here", RDNS: `\@here\;.evil.example`, ASN: 64500, Org: "@all Networks | x"},
				{IP: "203.0.113.67", Count: 1, First: t0, Last: t0, Country: "JP", City: "Osaka", RDNS: `mail-\@channel.evil.example`, ASN: 64500, Org: "Evil"},
			},
			Severity: "high",
			Reasons:  []detect.Reason{{Detector: detect.NewPlace, Severity: detect.High, Text: "new country JP, @channel", At: t0, IP: "203.0.113.66"}},
			Blocked:  report.NewBlockMark(u, time.Time{}, "loganom auto-block", true),
		})
	}
	var p map[string]string
	if err := json.Unmarshal([]byte(strings.TrimPrefix(must((&Mattermost{}).Preview(m)), "Mattermost /hooks/…:\n")), &p); err != nil {
		t.Fatal(err)
	}
	md := p["text"]
	if got := mattermostMentions(md); len(got) > 0 {
		t.Errorf("Mattermost would read the mentions %q in:\n%s", got, md)
	}
	// the names are still there to read, whole: as code, or escaped
	// where no @ starts a word ("ev\u202e@all")
	for _, u := range hostile {
		if !strings.Contains(md, "**`"+neutral(u)+"`**") && !strings.Contains(md, "**"+mdEscape(u)+"**") {
			t.Errorf("no %q in:\n%s", u, md)
		}
	}
	// a plain address stays as it was
	if !strings.Contains(md, `**bob\@example\.test**`) {
		t.Errorf("bob is not as before:\n%s", md)
	}
	// a table cell's | is escaped inside a code span too (GFM's tables
	// split a row at every | that is not)
	if !strings.Contains(md, "`AS64500 @all Networks \\| x`") {
		t.Errorf("the organisation's cell:\n%s", md)
	}
	if strings.Count(md, "\n| 203.0.113.66 |") != 0 || strings.Count(md, "| 203\\.0\\.113\\.66 |") != len(m.Accounts) {
		t.Errorf("table rows:\n%s", md)
	}
}
