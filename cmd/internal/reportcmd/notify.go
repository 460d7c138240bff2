package reportcmd

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/template"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/config"
	"github.com/loganom/loganom/cmd/internal/statecmd"
	"github.com/loganom/loganom/pkg/notify"
	"github.com/loganom/loganom/pkg/report"
	"github.com/loganom/loganom/pkg/state"
)

// NotifyFlags are the notification flags of loganom-report and the wrapper.
type NotifyFlags struct {
	DryRun   bool `name:"dry-run" help:"Print what each notification channel would send, and what script would run, instead of doing it."`
	NoNotify bool `name:"no-notify" help:"Send no notification, whatever the config says."`
}

// Notifier is the end of a run: the report on every channel the config
// enables, the script (-e, [EXEC] script) once per account, and the
// affected users' notices ([NOTIFY_USER]). Prepare builds and checks it
// before the log is read; Notify runs it.
type Notifier struct {
	off, dryRun bool
	chans       []notify.Channel
	exec        *notify.Exec
	user        *notify.UserNotice
	retry       notify.Retry
	// OnResult, when set, is told of each channel's result (a daemon's
	// metrics).
	OnResult func(channel string, ok bool)
	// again says, after a channel failed with a state, when its alerts
	// are tried again ("": the batch run's "the next run tries again";
	// a daemon sets its own, Live.SetNotifier).
	again string

	logMu sync.Mutex // a channel's error lines go out together
}

func (n *Notifier) told(channel string, ok bool) {
	if n.OnResult != nil {
		n.OnResult(channel, ok)
	}
}

func enabled(cfg *config.Config, sec string) (bool, error) {
	v, _, err := cfg.Bool(sec, "enabled")
	return v, err
}

// checkURL: the url of the section sec is an http:// or https:// URL with a
// host, or a bad setting (exit 2). A URL without a scheme (a typo) or with
// another one would fail at each try of each run until give_up_after. The
// error does not show the URL: its path or query may hold the key.
func checkURL(cfg *config.Config, sec, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return cli.Usagef("%s: [%s] url: want an http:// or https:// URL", cfg.Path, sec)
	}
	return nil
}

// Prepare reads [SMTP], [MATTERMOST], [TEAMS], [WEBHOOK] (a section counts
// when it says enabled = true, as in the original), [NOTIFY_USER],
// [NOTIFY] and [EXEC], and checks the script: script is -e's, or "" for
// [EXEC] script. It is called before the log is read, so that a bad
// setting or a script that cannot or must not be run stops the run
// before it starts. With --no-notify nothing is read or checked.
//
// A bad value in the config is a usageError (exit 2, see exitCode); a
// file that cannot or must not be used (the script missing, not
// executable, or open to others' changes; the notice template unreadable
// or failing) is a plain error (exit 1), as an unusable database is.
func (f *NotifyFlags) Prepare(cfg *config.Config, script string) (*Notifier, error) {
	n := &Notifier{off: f.NoNotify, dryRun: f.DryRun}
	if f.NoNotify {
		return n, nil
	}
	str := func(sec, key string) string { v, _ := cfg.String(sec, key); return v }
	smtpOn, err := enabled(cfg, "SMTP")
	if err != nil {
		return nil, err
	}
	userOn, err := enabled(cfg, "NOTIFY_USER")
	if err != nil {
		return nil, err
	}
	var smtp *notify.SMTP
	if smtpOn || userOn {
		port, _, err := cfg.Int("SMTP", "port")
		if err != nil {
			return nil, err
		}
		ssl, _, err := cfg.Bool("SMTP", "ssl")
		if err != nil {
			return nil, err
		}
		smtp = &notify.SMTP{From: str("SMTP", "from"), To: cfg.List("SMTP", "to"), Host: str("SMTP", "host"), Port: port, SSL: ssl,
			User: str("SMTP", "user"), Pass: str("SMTP", "pass"), Subject: str("SMTP", "subject")}
		if smtpOn {
			if err := smtp.Check(); err != nil {
				return nil, cli.Usagef("%s: [SMTP] %v", cfg.Path, err)
			}
			n.chans = append(n.chans, smtp)
		}
	}
	if on, err := enabled(cfg, "MATTERMOST"); err != nil {
		return nil, err
	} else if on {
		m := &notify.Mattermost{URL: str("MATTERMOST", "url"), APIKey: str("MATTERMOST", "api_key"), Channel: str("MATTERMOST", "channel"),
			Username: str("MATTERMOST", "username"), IconURL: str("MATTERMOST", "icon_url")}
		if m.URL == "" || m.APIKey == "" {
			return nil, cli.Usagef("%s: [MATTERMOST] needs url and api_key", cfg.Path)
		}
		if err := checkURL(cfg, "MATTERMOST", m.URL); err != nil {
			return nil, err
		}
		n.chans = append(n.chans, m)
	}
	if on, err := enabled(cfg, "TEAMS"); err != nil {
		return nil, err
	} else if on {
		t := &notify.Teams{URL: str("TEAMS", "url"), Title: str("TEAMS", "title"), ButtonCaption: str("TEAMS", "button_caption"), ButtonURL: str("TEAMS", "button_url")}
		if t.URL == "" {
			return nil, cli.Usagef("%s: [TEAMS] needs url", cfg.Path)
		}
		if err := checkURL(cfg, "TEAMS", t.URL); err != nil {
			return nil, err
		}
		n.chans = append(n.chans, t)
	}
	if on, err := enabled(cfg, "WEBHOOK"); err != nil {
		return nil, err
	} else if on {
		w := &notify.Webhook{URL: str("WEBHOOK", "url")}
		if w.URL == "" {
			return nil, cli.Usagef("%s: [WEBHOOK] needs url", cfg.Path)
		}
		if err := checkURL(cfg, "WEBHOOK", w.URL); err != nil {
			return nil, err
		}
		n.chans = append(n.chans, w)
	}
	if err := n.retrySettings(cfg); err != nil {
		return nil, err
	}
	if userOn {
		u := &notify.UserNotice{SMTP: smtp, From: str("NOTIFY_USER", "from"), Subject: str("NOTIFY_USER", "subject"), Retry: n.retry}
		if smtp.Host == "" {
			return nil, cli.Usagef("%s: [NOTIFY_USER] needs the [SMTP] server (host)", cfg.Path)
		}
		if from := cmp.Or(u.From, smtp.From); from == "" {
			return nil, cli.Usagef("%s: [NOTIFY_USER] needs from, or [SMTP] from", cfg.Path)
		} else if _, err := mail.ParseAddress(from); err != nil {
			return nil, cli.Usagef("%s: [NOTIFY_USER] from %q: %v", cfg.Path, from, err)
		}
		if p := str("NOTIFY_USER", "template"); p != "" {
			b, err := os.ReadFile(p)
			if err != nil {
				return nil, fmt.Errorf("%s: [NOTIFY_USER] template: %w", cfg.Path, err)
			}
			if u.Template, err = template.New("notify_user").Parse(string(b)); err != nil {
				return nil, fmt.Errorf("%s: [NOTIFY_USER] template: %w", cfg.Path, err)
			}
		}
		if err := u.Check(); err != nil { // the template, tried on a made-up account
			return nil, fmt.Errorf("%s: [NOTIFY_USER] %v", cfg.Path, err)
		}
		n.user = u
		n.chans = append(n.chans, u)
	}
	timeout, set, err := cfg.Duration("EXEC", "timeout")
	if err != nil {
		return nil, err
	}
	if set && timeout <= 0 {
		return nil, cli.Usagef("%s: [EXEC] timeout: %v: want a time above zero, like 60s", cfg.Path, timeout)
	}
	where := "-e "
	if script == "" {
		script, _ = cfg.String("EXEC", "script")
		where = cfg.Path + ": [EXEC] script "
		if script != "" && !strings.ContainsRune(script, '/') {
			script = "./" + script // a file beside the config, not one from $PATH
		}
		if script != "" {
			// whoever may change the config may change what is run
			if err := notify.CheckPrivate(cfg.Path); err != nil {
				return nil, cli.UsageError{Err: fmt.Errorf("%w; it names the script to run ([EXEC] script), which is not run", err)}
			}
		}
	}
	if script != "" {
		n.exec = &notify.Exec{Path: script, Timeout: timeout}
		if err := n.exec.Check(); err != nil {
			// missing, not executable, or others may change it: a bad
			// value, refused before any log is read
			return nil, cli.UsageError{Err: fmt.Errorf("%s%w", where, err)}
		}
		n.chans = append(n.chans, n.exec)
	}
	return n, nil
}

// Notify sends the report on every channel, runs the script and sends
// the users' notices (or, with --dry-run, prints what each would do),
// when an account looks compromised. It reports each failure and returns
// false if any.
func (n *Notifier) Notify(env cli.Env, log *cli.Logger, host string, rep *report.Report) bool {
	return n.Send(env, log, host, rep.Anomalies(), rep.Accounts(), rep.Gaps())
}

// Send is Notify for the anomalous accounts given, of seen accounts.
func (n *Notifier) Send(env cli.Env, log *cli.Logger, host string, anomalies []*report.Account, seen int, gaps report.Gaps) bool {
	return n.SendOn(env, log, host, anomalies, seen, gaps, "")
}

// SendOn is Send on the channel named only ("": all of them).
func (n *Notifier) SendOn(env cli.Env, log *cli.Logger, host string, anomalies []*report.Account, seen int, gaps report.Gaps, only string) bool {
	ok, _ := n.sendOn(env, log, host, anomalies, seen, gaps, only)
	return ok
}

// sendOn is SendOn, and returns the accounts to send again on the
// channels that failed: none for one that sent all the same (notify.Sent:
// a mail that some recipients refused); for a channel that sends per
// account (the script, the users' notices), only those it failed for, so
// that the script is never run again for an account it did its work for.
func (n *Notifier) sendOn(env cli.Env, log *cli.Logger, host string, anomalies []*report.Account, seen int, gaps report.Gaps, only string) (ok bool, again []*report.Account) {
	if n == nil || n.off || len(anomalies) == 0 || len(n.chans) == 0 {
		return true, nil
	}
	chans := n.chans
	if only != "" {
		chans = nil
		for _, ch := range n.chans {
			if ch.Name() == only {
				chans = append(chans, ch)
			}
		}
	}
	m := &notify.Message{Host: host, Accounts: anomalies, Seen: seen, Gaps: gaps}
	if n.user != nil {
		for _, a := range anomalies {
			if _, ok := notify.UserAddress(a.User); !ok {
				log.Warnf("[NOTIFY_USER]: %s is not a bare mail address (local@domain); no notice sent", report.Escape(a.User))
			}
		}
	}
	if n.dryRun {
		for _, ch := range chans {
			p, err := ch.Preview(m)
			if err != nil {
				log.Errorf("notify %s: %v", ch.Name(), err)
				return false, nil
			}
			not := "not sent"
			if _, ok := ch.(*notify.Exec); ok {
				not = "not run"
			}
			fmt.Fprintf(env.Stdout, "\n--- %s (%s: --dry-run) ---\n%s\n", ch.Name(), not, p)
		}
		return true, nil
	}
	n.output(env)
	ok = true
	failed := map[*report.Account]bool{}
	for _, r := range notify.SendAll(context.Background(), chans, m, n.retry) {
		n.told(r.Channel, r.Err == nil || notify.Sent(r.Err))
		if r.Err != nil {
			for _, line := range r.Lines() {
				log.Errorf("notify %s", line)
			}
			ok = false
			var ae notify.AccountErrors
			switch {
			case notify.Sent(r.Err):
			case errors.As(r.Err, &ae):
				users := map[string]bool{}
				for _, e := range ae {
					users[e.User] = true
				}
				for _, a := range anomalies {
					failed[a] = failed[a] || users[a.User]
				}
			default:
				for _, a := range anomalies {
					failed[a] = true
				}
			}
		} else {
			log.Debugf("notify %s: sent", r.Channel)
		}
	}
	for _, a := range anomalies {
		if failed[a] {
			again = append(again, a)
		}
	}
	return ok, again
}

// deliveryKey is the key of a message of alerts (Message.Key): their
// numbers, when the first was opened (or alerted again), and the
// channel: "alert-12-13.mhx2c9k0q1.webhook". The same for each resend of
// the same alerts; apart from another state's (each numbers its alerts
// from 1: another mail server's, with its own file, or a state made
// anew), which a receiver that drops duplicates (by Message-ID, as
// Gmail does; by Idempotency-Key) would otherwise drop.
func deliveryKey(ids []string, first time.Time, channel string) string {
	return "alert-" + strings.Join(ids, "-") + "." + strconv.FormatInt(first.UnixNano(), 36) + "." + channel
}

// output sends the script's output to env's stderr (once: SendOn may
// run for several channels at once).
func (n *Notifier) output(env cli.Env) {
	n.logMu.Lock() // the channels' rounds may start at once
	defer n.logMu.Unlock()
	if n.exec != nil && n.exec.Output != env.Stderr {
		n.exec.Output = env.Stderr
	}
}

// LogError prints err, and the hint that mends it when it has one (a
// script or config file that others may change: chmod go-w FILE).
func LogError(log *cli.Logger, err error) {
	log.Errorf("%v", err)
	var ue *notify.UnsafeError
	if errors.As(err, &ue) && ue.Hint != "" {
		log.Hintf("%s", ue.Hint)
	}
}

// enables tells whether the config enables the channel named ch.
func (n *Notifier) enables(ch string) bool {
	for _, c := range n.chans {
		if c.Name() == ch {
			return true
		}
	}
	return false
}

// Channels names the channels a new alert is delivered on (none with
// --no-notify or --dry-run).
func (n *Notifier) Channels() []string {
	if n == nil || n.off || n.dryRun {
		return nil
	}
	names := make([]string, len(n.chans))
	for i, ch := range n.chans {
		names[i] = ch.Name()
	}
	return names
}

// blocksNow is the blocks in force, by user; none when they cannot be
// read (the alerts go without the mark: a debug line says why).
func blocksNow(ctx context.Context, log *cli.Logger, st *statecmd.State, now time.Time) map[string]state.Block {
	out := map[string]state.Block{}
	var bs []state.Block
	err := statecmd.Bound(ctx, statecmd.OpTimeout, func(ctx context.Context) (err error) {
		bs, err = st.Store.Blocks(ctx, now)
		return err
	})
	if err != nil {
		log.Debugf("the blocks cannot be read, the alerts will not say who is blocked: %v", err)
		return out
	}
	for _, b := range bs {
		out[b.User] = b
	}
	return out
}

// Deliver sends, on each channel, the alerts whose delivery the state
// holds as pending: those this run opened and those earlier runs could
// not deliver. The channels go at once, each on its own (DeliverOn): one
// that hangs until its timeout, tries after tries, holds no other up.
// Each delivery's result is recorded at once: sent, pending again (tried
// by the next run), or given up when the alert is older than
// giveUpAfter. It reports each failure and returns false if any.
//
// seen and gaps are this run's, as in its report on stdout: each message
// says what this run could not see (inputs unread, failed geo lookups),
// which may hide accounts besides those it carries. The state keeps no
// gaps with an alert: one that an earlier run could not deliver goes now
// with this run's gaps, not the earlier run's (its report said those).
func (n *Notifier) Deliver(ctx context.Context, env cli.Env, log *cli.Logger, host string, st *statecmd.State, seen int, gaps report.Gaps) bool {
	if n == nil || n.off || n.dryRun {
		return true
	}
	var failed atomic.Bool
	var wg sync.WaitGroup
	for _, ch := range n.DeliveryRounds() {
		wg.Go(func() {
			if !n.DeliverOn(ctx, env, log, host, st, seen, gaps, ch) {
				failed.Store(true)
			}
		})
	}
	wg.Wait()
	return !failed.Load()
}

// DeliveryRounds names what DeliverOn takes, each on its own: the
// channels, then "" (the deliveries pending on channels the config no
// longer enables).
func (n *Notifier) DeliveryRounds() []string {
	return append(n.Channels(), "")
}

// DeliverOn is Deliver on the channel named only; "": the deliveries
// pending on channels the config no longer enables (each is given up
// once older than giveUpAfter, and kept until then, in case the config
// comes back).
func (n *Notifier) DeliverOn(ctx context.Context, env cli.Env, log *cli.Logger, host string, st *statecmd.State, seen int, gaps report.Gaps, only string) bool {
	if n == nil || n.off || n.dryRun {
		return true
	}
	byName := map[string]notify.Channel{}
	for _, ch := range n.chans {
		byName[ch.Name()] = ch
	}
	ch := byName[only]
	if ch == nil && only != "" {
		return true // no longer configured: the round of "" takes its deliveries
	}
	// (each operation on the state bounded: statecmd.OpTimeout)
	readPending := func() (p []state.Delivery, err error) {
		err = statecmd.Bound(ctx, statecmd.OpTimeout, func(ctx context.Context) error {
			p, err = st.Store.Pending(ctx, st.Instance)
			return err
		})
		mine := p[:0]
		for _, d := range p {
			if d.Channel == only || (only == "" && byName[d.Channel] == nil) {
				mine = append(mine, d)
			}
		}
		return mine, err
	}
	pending, err := readPending()
	if err != nil {
		log.Errorf("%v", err)
		return false
	}
	if len(pending) == 0 {
		return true
	}
	// One run of this mail server delivers on a channel at a time:
	// another run may be sending what was read above. Once the lock is
	// ours, what is still pending is ours to send.
	// The wait is bounded (statecmd.LockTimeout); past it, the lock held
	// all along says nothing of the state: another run's round may be
	// long (a script per account, notices with their tries).
	lctx, cancel := context.WithTimeout(ctx, statecmd.LockTimeout)
	unlock, err := st.Store.LockDeliveries(lctx, st.Instance, only) // held until unlock, whatever lctx
	cancel()
	if err != nil {
		if ctx.Err() == nil && errors.Is(lctx.Err(), context.DeadlineExceeded) {
			log.Errorf("waited %s for another loganom run to end its deliveries%s (or for the state to answer): %v", statecmd.LockTimeout, onChannel(only), err)
			log.Hintf("the alerts stay pending: the next run tries again")
		} else {
			log.Errorf("%v", err)
		}
		return false
	}
	defer unlock()
	if pending, err = readPending(); err != nil {
		log.Errorf("%v", err)
		return false
	}
	ok := true
	now := st.Now
	if now == nil {
		now = time.Now
	}
	if ch == nil {
		for _, d := range pending {
			// a channel since removed from the config: kept until it is
			// given up, in case the config comes back
			if now().Sub(d.Created) > st.GiveUpAfter {
				log.Errorf("alert for %s was never sent on %s, no longer configured: given up", report.Escape(d.User), d.Channel)
				ok = st.SetDelivery(ctx, log, d, state.DeliveryGivenUp, "channel no longer configured", false) && ok
			} else {
				log.Warnf("alert for %s is pending on %s, which the config no longer enables", report.Escape(d.User), d.Channel)
			}
		}
		return ok
	}
	var deliveries []state.Delivery
	var accounts []*report.Account
	var blocked map[string]state.Block // read at the first payload
	for _, d := range pending {
		var a report.Account
		if err := json.Unmarshal(d.Payload, &a); err != nil {
			log.Errorf("alert %d for %s: stored payload unreadable: %v", d.Alert, report.Escape(d.User), err)
			ok = false
			continue
		}
		if blocked == nil {
			blocked = blocksNow(ctx, log, st, now())
		}
		if b, in := blocked[a.User]; in && a.Blocked == nil {
			// blocked since the alert was recorded: the alert says so
			a.Blocked = report.NewBlockMark(a.User, b.Expires, b.By, b.Source == "automatic")
		}
		deliveries = append(deliveries, d)
		accounts = append(accounts, &a)
	}
	if len(deliveries) == 0 {
		return ok
	}
	n.output(env)
	ids := make([]string, len(deliveries))
	for i, d := range deliveries {
		ids[i] = strconv.FormatInt(d.Alert, 10)
		if d.Escalation > 0 {
			// alerted again, more severe: a message of its own
			ids[i] += "r" + strconv.Itoa(d.Escalation)
		}
	}
	m := &notify.Message{Host: host, Accounts: accounts, Seen: seen, Gaps: gaps,
		Key: deliveryKey(ids, deliveries[0].Created, ch.Name())}
	res := notify.SendAll(ctx, []notify.Channel{ch}, m, n.retry)[0]
	sent := notify.Sent(res.Err) // all the same: some recipients refused it
	n.told(res.Channel, res.Err == nil || sent)
	failed := map[string]string{} // by user, for the per-account channels
	var ae notify.AccountErrors
	if res.Err != nil && errors.As(res.Err, &ae) {
		for _, e := range ae {
			failed[e.User] = e.Err.Error()
		}
	}
	for _, d := range deliveries {
		msg, bad := failed[d.User]
		if res.Err != nil && ae == nil {
			msg, bad = res.Err.Error(), !sent
		}
		status := state.DeliverySent
		if bad {
			status = state.DeliveryPending
			if now().Sub(d.Created) > st.GiveUpAfter {
				status = state.DeliveryGivenUp
			}
		}
		ok = st.SetDelivery(ctx, log, d, status, msg, true) && ok
	}
	if res.Err == nil {
		late := 0 // tried before, and failed: their errors were said
		for _, d := range deliveries {
			if d.Attempts > 0 {
				late++
			}
		}
		if late > 0 && n.again != "" {
			// a daemon: its journal said the failures, and says the
			// end of them (a batch run's output, mailed by cron, stays
			// quiet)
			log.Infof("notify %s: sent %s, %d of them after failed tries", res.Channel, cli.Plural(int64(len(deliveries)), "alert", "alerts"), late)
		} else {
			log.Debugf("notify %s: sent %s", res.Channel, cli.Plural(int64(len(deliveries)), "alert", "alerts"))
		}
		return ok
	}
	retry := "the next run tries again"
	if n.again != "" {
		retry = n.again
	}
	if sent {
		retry = "the others got it, and it is not sent again; mend the address in [SMTP] to"
	}
	for _, d := range deliveries {
		if sent {
			break
		}
		if now().Sub(d.Created) > st.GiveUpAfter {
			retry = "alerts older than [NOTIFY] give_up_after were given up; see loganom alerts"
			break
		}
	}
	// a channel's lines together, whatever the others print meanwhile
	n.logMu.Lock()
	defer n.logMu.Unlock()
	for _, line := range res.Lines() {
		log.Errorf("notify %s", line)
	}
	log.Hintf("%s", retry)
	return false
}

// onChannel is " on ch" ("": on the channels no longer configured).
func onChannel(ch string) string {
	if ch == "" {
		return " on the channels no longer configured"
	}
	return " on " + ch
}

// retrySettings reads [NOTIFY] attempts, backoff and timeout into n.retry.
// A value of zero or less is refused: it used to fall back silently to the
// default, so "attempts = 0" (meant as "never try again") tried four times.
func (n *Notifier) retrySettings(cfg *config.Config) error {
	a, set, err := cfg.Int("NOTIFY", "attempts")
	if err != nil {
		return err
	}
	if set && a < 1 {
		return cli.Usagef("%s: %d: want 1 or more (1: one try, none again within the run)", cfg.Where("NOTIFY", "attempts"), a)
	}
	n.retry.Attempts = a
	for _, x := range []struct {
		key     string
		dst     *time.Duration
		example string
	}{{"backoff", &n.retry.Backoff, "2s"}, {"timeout", &n.retry.Timeout, "30s"}} {
		d, set, err := cfg.Duration("NOTIFY", x.key)
		if err != nil {
			return err
		}
		if set && d <= 0 {
			return cli.Usagef("%s: %v: want a time above zero, like %s", cfg.Where("NOTIFY", x.key), d, x.example)
		}
		*x.dst = d
	}
	return nil
}
