package app

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"net/mail"
	"os"
	"text/template"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/pkg/notify"
	"github.com/loganom/loganom/pkg/report"
)

// NotifyFlags are the notification flags of loganom-report and the wrapper.
type NotifyFlags struct {
	DryRun   bool `name:"dry-run" help:"Print what each notification channel would send, instead of sending it."`
	NoNotify bool `name:"no-notify" help:"Send no notification, whatever the config says."`
}

// notifier is what the config asks for.
type notifier struct {
	channels []notify.Channel
	smtp     *notify.SMTP // for [NOTIFY_USER]
	userTmpl *template.Template
	userSubj string
	userFrom string
}

func enabled(cfg *Config, sec string) (bool, error) {
	v, _, err := cfg.Bool(sec, "enabled")
	return v, err
}

// channels reads [SMTP], [MATTERMOST], [TEAMS], [WEBHOOK] and [NOTIFY_USER];
// a section counts when it says enabled = true, as in the original.
func channels(cfg *Config) (*notifier, error) {
	n := &notifier{}
	str := func(sec, key string) string { v, _ := cfg.String(sec, key); return v }
	smtpOn, err := enabled(cfg, "SMTP")
	if err != nil {
		return nil, err
	}
	userOn, err := enabled(cfg, "NOTIFY_USER")
	if err != nil {
		return nil, err
	}
	if smtpOn || userOn {
		port, _, err := cfg.Int("SMTP", "port")
		if err != nil {
			return nil, err
		}
		ssl, _, err := cfg.Bool("SMTP", "ssl")
		if err != nil {
			return nil, err
		}
		s := &notify.SMTP{From: str("SMTP", "from"), To: cfg.List("SMTP", "to"), Host: str("SMTP", "host"), Port: port, SSL: ssl,
			User: str("SMTP", "user"), Pass: str("SMTP", "pass"), Subject: str("SMTP", "subject")}
		if err := s.Check(); err != nil && (smtpOn || s.Host == "") {
			return nil, fmt.Errorf("%s: [SMTP] %v", cfg.Path, err)
		}
		n.smtp = s
		if smtpOn {
			n.channels = append(n.channels, s)
		}
	}
	if on, err := enabled(cfg, "MATTERMOST"); err != nil {
		return nil, err
	} else if on {
		m := &notify.Mattermost{URL: str("MATTERMOST", "url"), APIKey: str("MATTERMOST", "api_key"), Channel: str("MATTERMOST", "channel"),
			Username: str("MATTERMOST", "username"), IconURL: str("MATTERMOST", "icon_url")}
		if m.URL == "" || m.APIKey == "" {
			return nil, fmt.Errorf("%s: [MATTERMOST] needs url and api_key", cfg.Path)
		}
		n.channels = append(n.channels, m)
	}
	if on, err := enabled(cfg, "TEAMS"); err != nil {
		return nil, err
	} else if on {
		t := &notify.Teams{URL: str("TEAMS", "url"), Title: str("TEAMS", "title"), ButtonCaption: str("TEAMS", "button_caption"), ButtonURL: str("TEAMS", "button_url")}
		if t.URL == "" {
			return nil, fmt.Errorf("%s: [TEAMS] needs url", cfg.Path)
		}
		n.channels = append(n.channels, t)
	}
	if on, err := enabled(cfg, "WEBHOOK"); err != nil {
		return nil, err
	} else if on {
		w := &notify.Webhook{URL: str("WEBHOOK", "url")}
		if w.URL == "" {
			return nil, fmt.Errorf("%s: [WEBHOOK] needs url", cfg.Path)
		}
		n.channels = append(n.channels, w)
	}
	if userOn {
		text := defaultUserTemplate
		if p := str("NOTIFY_USER", "template"); p != "" {
			b, err := os.ReadFile(p)
			if err != nil {
				return nil, fmt.Errorf("%s: [NOTIFY_USER] template: %w", cfg.Path, err)
			}
			text = string(b)
		}
		t, err := template.New("notify_user").Parse(text)
		if err != nil {
			return nil, fmt.Errorf("%s: [NOTIFY_USER] template: %w", cfg.Path, err)
		}
		n.userTmpl = t
		n.userSubj = str("NOTIFY_USER", "subject")
		if n.userSubj == "" {
			n.userSubj = "Your mail account was used from places you may not know"
		}
		n.userFrom = str("NOTIFY_USER", "from")
	}
	return n, nil
}

const defaultUserTemplate = `Hello,

your mail account {{.User}} logged in from these addresses:
{{range .IPs}}
  {{.IP}}  {{.Country}} {{.City}}  {{.Org}}  ({{.Count}} times, last {{.Last.Format "2006-01-02 15:04"}}){{end}}

If this was not you, change your password now, and tell your mail
administrator.
`

// CheckSecrets warns when a config file that holds a password or a key
// can be read by others than its owner.
func CheckSecrets(cfg *Config, log *cli.Logger) {
	if cfg.Path == "" {
		return
	}
	fi, err := os.Stat(cfg.Path)
	if err != nil || fi.Mode().Perm()&0o077 == 0 {
		return
	}
	for _, k := range [][2]string{{"SMTP", "pass"}, {"MATTERMOST", "api_key"}, {"GENERAL", "ipinfo_token"}, {"TEAMS", "url"}, {"WEBHOOK", "url"}} {
		if v, _ := cfg.String(k[0], k[1]); v != "" {
			log.Warnf("%s holds a secret ([%s] %s) and others than its owner may read it (mode %04o)", cfg.Path, k[0], k[1], fi.Mode().Perm())
			log.Hintf("chmod 600 %s", cfg.Path)
			return
		}
	}
}

// Notify sends the report on every configured channel (or, with
// --dry-run, prints what it would send), and the affected users their
// notice with [NOTIFY_USER]. It reports each failure and returns false if
// any.
func (f *NotifyFlags) Notify(env cli.Env, log *cli.Logger, cfg *Config, host string, accounts []*report.Account, seen int) bool {
	if f.NoNotify || len(accounts) == 0 {
		return true
	}
	n, err := channels(cfg)
	if err != nil {
		log.Errorf("%v", err)
		return false
	}
	m := &notify.Message{Host: host, Accounts: accounts, Seen: seen}
	chans := n.channels
	if n.userTmpl != nil {
		for _, a := range accounts {
			if _, err := mail.ParseAddress(a.User); err != nil {
				log.Warnf("[NOTIFY_USER]: %s is not a mail address; not notified", report.Inert(a.User))
				continue
			}
			chans = append(chans, n.userChannel(a, host))
		}
	}
	if f.DryRun {
		for _, ch := range chans {
			p, err := ch.Preview(m)
			if err != nil {
				log.Errorf("notify %s: %v", ch.Name(), err)
				return false
			}
			fmt.Fprintf(env.Stdout, "\n--- %s (not sent: --dry-run) ---\n%s\n", ch.Name(), p)
		}
		return true
	}
	var retry notify.Retry
	var rerr error
	if retry.Attempts, _, rerr = cfg.Int("NOTIFY", "attempts"); rerr == nil {
		if retry.Backoff, _, rerr = cfg.Duration("NOTIFY", "backoff"); rerr == nil {
			retry.Timeout, _, rerr = cfg.Duration("NOTIFY", "timeout")
		}
	}
	if rerr != nil {
		log.Errorf("%v", rerr)
		return false
	}
	ok := true
	for _, r := range notify.SendAll(context.Background(), chans, m, retry) {
		if r.Err != nil {
			log.Errorf("notify %s", r.Error())
			ok = false
		} else {
			log.Debugf("notify %s: sent", r.Channel)
		}
	}
	return ok
}

// userMail sends one account's notice to the account itself.
type userMail struct {
	smtp *notify.SMTP
	a    *report.Account
	text string
}

func (u *userMail) Name() string { return "notify_user " + report.Inert(u.a.User) }

func (u *userMail) Preview(m *notify.Message) (string, error) {
	return fmt.Sprintf("mail to %s, from %s, subject %q:\n%s", report.Inert(u.a.User), u.smtp.From, u.smtp.Subject, u.text), nil
}

func (u *userMail) Send(ctx context.Context, m *notify.Message) error {
	return u.smtp.SendTo(ctx, m, []string{u.a.User})
}

func (n *notifier) userChannel(a *report.Account, host string) notify.Channel {
	var b bytes.Buffer
	if err := n.userTmpl.Execute(&b, a); err != nil {
		b.WriteString("(the notice template failed: " + err.Error() + ")")
	}
	s := *n.smtp
	s.Subject = n.userSubj
	if n.userFrom != "" {
		s.From = n.userFrom
	}
	text := b.String()
	s.Body = func(*notify.Message) (string, string) {
		return text, "<!DOCTYPE html>\n<html><body><pre>" + html.EscapeString(text) + "</pre></body></html>\n"
	}
	return &userMail{smtp: &s, a: a, text: text}
}
