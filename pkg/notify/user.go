package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"net/mail"
	"strings"
	"text/template"
	"time"
	"unicode"

	"github.com/loganom/loganom/pkg/detect"
	"github.com/loganom/loganom/pkg/report"
)

// DefaultNotice is the notice's text when the postmaster gives none. It
// lists the detectors' reasons when there are some (none with the
// original rule).
const DefaultNotice = `Hello,

your mail account {{.User}} logged in from these addresses:
{{range .IPs}}
  {{.IP}}  {{.Country}} {{.City}}  {{.Org}}  ({{.Count}} times, last {{.Last.Format "2006-01-02 15:04"}}){{end}}
{{with .Reasons}}
This is why they look odd:{{range .}}
  - {{.Text}}{{end}}
{{end}}
{{with .Blocked}}To protect it, your account was blocked: it cannot send mail {{if .Until.IsZero}}until your
mail administrator lifts the block{{else}}until {{.Until.UTC.Format "2006-01-02 15:04 UTC"}}, or until your
mail administrator lifts the block sooner{{end}}.

{{end}}If this was not you, change your password now, and tell your mail
administrator.
`

var defaultNotice = template.Must(template.New("notice").Parse(DefaultNotice))

// DefaultNoticeSubject is the notice's subject when the postmaster gives
// none.
const DefaultNoticeSubject = "Your mail account was used from places you may not know"

// UserNotice mails each reported account a notice of its own, through
// the SMTP channel's server, one account after the other, each notice
// with its own tries. Only an account named by a bare address
// (UserAddress) gets one. The template sees the account with its names
// and its reasons made inert (neutral): a user name, a city or an
// organisation in a reason cannot hide text with bidi controls nor start
// a line of its own.
type UserNotice struct {
	SMTP     *SMTP              // server, port, TLS, login; From unless From is set
	From     string             // "": SMTP.From
	Subject  string             // "": DefaultNoticeSubject
	Template *template.Template // nil: DefaultNotice
	Retry    Retry              // per notice
}

// Name is "notify_user".
func (u *UserNotice) Name() string { return "notify_user" }

// Once: UserNotice tries each notice itself.
func (u *UserNotice) Once() {}

// UserAddress is the address to mail an account's notice to: its name,
// trimmed, when that is a bare address (local@domain) and nothing else:
// no display name, no comment, no angle brackets, no quotes, no spaces,
// nothing unseen. A SASL user name "Evil <attacker@evil.test>" would
// otherwise have sent the notice to the attacker.
func UserAddress(user string) (string, bool) {
	u := strings.TrimSpace(user)
	if u == "" || strings.ContainsAny(u, "<>()[]\",;:\\") {
		return "", false
	}
	for _, r := range u {
		if !unicode.IsGraphic(r) || unicode.IsSpace(r) || report.Suspicious(r) {
			return "", false
		}
	}
	a, err := mail.ParseAddress(u)
	if err != nil || a.Name != "" || a.Address != u {
		return "", false
	}
	return u, true
}

func (u *UserNotice) from() string {
	if u.From != "" {
		return u.From
	}
	return u.SMTP.From
}

func (u *UserNotice) subject() string {
	if u.Subject != "" {
		return u.Subject
	}
	return DefaultNoticeSubject
}

// Check says what is wrong with the settings, and runs the template on a
// made-up account to find what would fail only at the end of a run.
func (u *UserNotice) Check() error {
	if u.SMTP == nil || u.SMTP.Host == "" {
		return errors.New("needs the [SMTP] server (host)")
	}
	if _, err := mail.ParseAddress(u.from()); err != nil {
		return fmt.Errorf("from %q: %v", u.from(), err)
	}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	_, err := u.text(&report.Account{User: "user@example.test", Logins: 2, First: t0, Last: t0, Countries: []string{"BA"}, ASNs: []uint32{64496},
		IPs:      []*report.IP{{IP: "192.0.2.1", Count: 2, First: t0, Last: t0, Country: "BA", City: "Sarajevo", RDNS: "host.example.test", ASN: 64496, Org: "Example"}},
		Severity: "medium", Reasons: []detect.Reason{{Detector: detect.NewPlace, Severity: detect.Low, Text: "new country BA", At: t0, IP: "192.0.2.1"}}})
	return err
}

// text is the notice for one account.
func (u *UserNotice) text(a *report.Account) (string, error) {
	t := u.Template
	if t == nil {
		t = defaultNotice
	}
	var b bytes.Buffer
	if err := t.Execute(&b, neutralAccount(a)); err != nil {
		return "", Permanent{fmt.Errorf("template: %v", err)}
	}
	return b.String(), nil
}

// neutralAccount is a copy of a with every name from the network neutral.
func neutralAccount(a *report.Account) *report.Account {
	c := &report.Account{User: neutral(a.User), Logins: a.Logins, First: a.First, Last: a.Last, ASNs: a.ASNs, Severity: neutral(a.Severity)}
	for _, r := range a.Reasons {
		r.Detector, r.Text, r.IP = neutral(r.Detector), neutral(r.Text), neutral(r.IP)
		c.Reasons = append(c.Reasons, r)
	}
	if a.Blocked != nil {
		b := *a.Blocked
		b.By, b.Lift = neutral(b.By), neutral(b.Lift)
		c.Blocked = &b
	}
	for _, cc := range a.Countries {
		c.Countries = append(c.Countries, neutral(cc))
	}
	for _, ip := range a.IPs {
		x := *ip
		x.IP, x.Country, x.City, x.RDNS, x.Org = neutral(ip.IP), neutral(ip.Country), neutral(ip.City), neutral(ip.RDNS), neutral(ip.Org)
		c.IPs = append(c.IPs, &x)
	}
	return c
}

// Preview shows each notice, and who gets none.
func (u *UserNotice) Preview(m *Message) (string, error) {
	var parts []string
	for _, a := range m.Accounts {
		to, ok := UserAddress(a.User)
		if !ok {
			parts = append(parts, fmt.Sprintf("%s is not a bare mail address (local@domain): no notice", report.Escape(a.User)))
			continue
		}
		text, err := u.text(a)
		if err != nil {
			return "", err
		}
		parts = append(parts, fmt.Sprintf("mail to %s, from %s, subject %q:\n%s", to, u.from(), u.subject(), text))
	}
	return strings.Join(parts, "\n"), nil
}

// Send mails each account with a bare address its notice; the others
// are skipped (the caller warns of them with UserAddress).
func (u *UserNotice) Send(ctx context.Context, m *Message) error {
	if err := u.Check(); err != nil {
		return err
	}
	from, _ := mail.ParseAddress(u.from())
	var errs AccountErrors
	for _, a := range m.Accounts {
		to, ok := UserAddress(a.User)
		if !ok {
			continue
		}
		text, err := u.text(a)
		if err != nil {
			errs = append(errs, AccountError{User: a.User, Err: err})
			continue
		}
		htm := "<!DOCTYPE html>\n<html><body><pre>" + html.EscapeString(text) + "</pre></body></html>\n"
		msg := u.SMTP.compose(u.from(), []string{to}, u.subject(), text, htm, userKey(m.Key, a.User))
		n, err := u.Retry.try(ctx, func(ctx context.Context) error { return u.SMTP.deliver(ctx, m.Host, from.Address, []string{to}, msg) })
		if err != nil {
			errs = append(errs, AccountError{User: a.User, Attempts: n, Err: err})
		}
	}
	if errs != nil {
		return errs
	}
	return nil
}

// userKey is the key of one user's notice: the message's, and the user.
func userKey(key, user string) string {
	if key == "" {
		return ""
	}
	return key + "." + fmt.Sprintf("%x", user)
}
