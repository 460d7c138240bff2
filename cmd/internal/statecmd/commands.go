package statecmd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/config"
	"github.com/loganom/loganom/pkg/api/wire"
	"github.com/loganom/loganom/pkg/detect"
	"github.com/loganom/loganom/pkg/record"
	"github.com/loganom/loganom/pkg/report"
	"github.com/loganom/loganom/pkg/state"
)

// Common are the flags of the commands that look at the state.
type Common struct {
	Config string `short:"c" placeholder:"FILE" help:"INI configuration, for [STATE] db (default: ./config.ini when it exists)."`
	DB     string `name:"db" ini:"STATE.db" placeholder:"PATH|URL" help:"The state (default: [STATE] db, else $XDG_STATE_HOME/loganom/state.db, else /var/lib/loganom/state.db as root, else ~/.local/state/loganom/state.db)."`
}

// HistoryCmd is loganom history.
type HistoryCmd struct {
	Common
	Format             string `enum:"text,json" default:"text" help:"text: a table; json: one object per address and line."`
	CaseSensitiveUsers bool   `name:"case-sensitive-users" ini:"REPORT.case_sensitive_users" help:"Take USER as written, for a SASL backend that tells case apart ([REPORT] case_sensitive_users)."`
	User               string `arg:"" help:"The account (sasl_username)."`
}

// AlertsCmd is loganom alerts.
type AlertsCmd struct {
	Common
	Since  string   `placeholder:"AGE" help:"List only the alerts opened or added to in the last AGE, like 7d or 12h (default: all; not with ack)."`
	Format string   `enum:"text,json" default:"text" help:"List as text, or json: one object per alert and line (not with ack)."`
	List   struct{} `cmd:"" default:"1" help:"List the alerts, newest first, with their evidence and each channel's delivery (the default)."`
	Ack    struct {
		User string `arg:"" help:"The account whose open alert is closed: new anomalous logins open another and notify again."`
	} `cmd:"" help:"Acknowledge an account's open alert."`
}

// DBCmd is loganom db.
type DBCmd struct {
	Common
	Stats   struct{} `cmd:"" default:"1" help:"Count what the state holds (the default)."`
	Prune   struct{} `cmd:"" help:"Delete the history older than [STATE] keep (180d), the closed alerts and the block audit's changes as old."`
	Migrate struct{} `cmd:"" help:"Create the state, or upgrade its schema to this loganom's."`
}

// LoadConfig loads the config of a command that works on the state (path,
// or ./config.ini when it exists), checks it and fills grammar from it.
func LoadConfig(path string, log *cli.Logger, grammar any) (*config.Config, error) {
	if path == "" {
		if _, err := os.Stat("config.ini"); err == nil {
			path = "config.ini"
		}
	}
	cfg, err := config.LoadConfig(path)
	if err != nil {
		return nil, err
	}
	cfg.Check(log)
	if err := cfg.Fill(grammar); err != nil {
		return nil, err
	}
	return cfg, nil
}

// openExisting opens the state for a command that reads it: a state
// file that does not exist is an error, not a new empty state.
func openExisting(ctx context.Context, c *Common, cfg *config.Config, log *cli.Logger, migrate bool) (*State, error) {
	s := &State{}
	if err := s.settings(cfg); err != nil {
		return nil, err
	}
	dsn := c.DB
	if dsn == "" {
		p, err := state.DefaultPath()
		if err != nil {
			return nil, err
		}
		dsn = p
	}
	if !state.IsPostgres(dsn) && !migrate {
		if _, err := os.Stat(dsn); errors.Is(err, fs.ErrNotExist) {
			log.Errorf("no state at %s", dsn)
			log.Hintf("loganom postfix-sasl makes it on its first run; name another with --db PATH or [STATE] db")
			return nil, ErrSilent
		}
	}
	var st state.Store
	err := Bound(ctx, OpenTimeout, func(ctx context.Context) (err error) {
		st, err = state.Open(ctx, dsn, state.Options{NoMigrate: !migrate})
		return err
	})
	if err != nil {
		if h := openHint(dsn, err); h != "" {
			return nil, &HintError{Err: err, Hint: h}
		}
		return nil, err
	}
	s.Store = st
	return s, nil
}

// ErrSilent: the error was printed.
var ErrSilent = errors.New("")

// Fail prints err (unless ErrSilent) and returns its exit code.
func Fail(log *cli.Logger, err error) int {
	if !errors.Is(err, ErrSilent) {
		log.Errorf("%v", err)
		var he *HintError
		if errors.As(err, &he) && he.Hint != "" {
			log.Hintf("%s", he.Hint)
		}
	}
	return cli.ExitCodeOf(err)
}

// History runs loganom history.
func History(env cli.Env, log *cli.Logger, c *HistoryCmd) int {
	cfg, err := LoadConfig(c.Config, log, c)
	if err != nil {
		return Fail(log, err)
	}
	ctx := context.Background()
	s, err := openExisting(ctx, &c.Common, cfg, log, false)
	if err != nil {
		return Fail(log, err)
	}
	defer s.Close()
	user := record.CanonicalUser(c.User, c.CaseSensitiveUsers)
	var addrs []state.Address
	err = Bound(ctx, RunTimeout, func(ctx context.Context) (err error) {
		addrs, err = s.Store.History(ctx, user)
		return err
	})
	if err != nil {
		return Fail(log, err)
	}
	if len(addrs) == 0 {
		log.Errorf("no history for %s in %s", report.Escape(user), s.Store.Describe())
		log.Hintf("the history is kept by runs with --resume (loganom postfix-sasl --resume, or loganom-report --db); names are compared in lower case unless --case-sensitive-users")
		return cli.ExitError
	}
	bw := bufio.NewWriter(env.Stdout)
	if c.Format == "json" {
		err = historyJSON(bw, addrs)
	} else {
		historyText(bw, user, addrs)
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return Fail(log, fmt.Errorf("write output: %w", err))
	}
	return cli.ExitOK
}

const dateFormat = "2006-01-02 15:04"

func date(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format(dateFormat)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func historyText(w io.Writer, user string, addrs []state.Address) {
	var logins int64
	var first, last time.Time
	countries := map[string]bool{}
	for _, a := range addrs {
		logins += a.Count
		if first.IsZero() || a.First.Before(first) {
			first = a.First
		}
		if a.Last.After(last) {
			last = a.Last
		}
		if a.Country != "" {
			countries[a.Country] = true
		}
	}
	cs := make([]string, 0, len(countries))
	for c := range countries {
		cs = append(cs, c)
	}
	slices.Sort(cs)
	fmt.Fprintf(w, "%s: %s from %s in %s (%s), %s to %s\n", report.Escape(user),
		cli.Plural(logins, "login", "logins"), cli.Plural(int64(len(addrs)), "address", "addresses"),
		cli.Plural(int64(len(cs)), "country", "countries"), dash(strings.Join(cs, " ")), date(first), date(last))
	ips := make([]*report.IP, len(addrs))
	for i, a := range addrs {
		ips[i] = &report.IP{IP: a.IP, Count: int(a.Count), First: a.First.Local(), Last: a.Last.Local(), Country: a.Country, City: a.City,
			RDNS: a.RDNS, RDNSVerified: a.RDNSVerified, ASN: a.ASN, Org: a.Org}
	}
	report.IPTable(w, ips)
	if line := methodsLine(addrs); line != "" {
		fmt.Fprintln(w, line)
	}
}

// methodsLine says which SASL mechanisms the account's logins used, and
// from how many addresses each, naming them when few ("" when none is
// known): a mechanism that one odd address alone used is a client the
// account's people do not have (see README, a new client).
func methodsLine(addrs []state.Address) string {
	var by [8][]string
	for _, a := range addrs {
		for i := range by {
			if a.Methods&(1<<i) != 0 {
				by[i] = append(by[i], a.IP)
			}
		}
	}
	var parts []string
	for i, ips := range by {
		if len(ips) == 0 {
			continue
		}
		p := detect.MethodNames(1<<i) + " from " + cli.Plural(int64(len(ips)), "address", "addresses")
		if len(ips) <= 3 && len(ips) < len(addrs) {
			p += " (" + strings.Join(ips, ", ") + ")"
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		return ""
	}
	return "  SASL: " + strings.Join(parts, "; ")
}

// addressJSON is a history line: the account, then the address as the
// API gives it.
type addressJSON struct {
	User string `json:"user"`
	wire.AddressJSON
}

func historyJSON(w io.Writer, addrs []state.Address) error {
	enc := report.InertEncoder(w) // names from the network, inert on a terminal
	for _, a := range addrs {
		if err := enc(addressJSON{a.User, wire.NewAddressJSON(a)}); err != nil {
			return err
		}
	}
	return nil
}

// Alerts runs loganom alerts and loganom alerts ack.
func Alerts(env cli.Env, log *cli.Logger, c *AlertsCmd, ack bool) int {
	if ack && (c.Since != "" || c.Format != "text") {
		return Fail(log, cli.Usagef("--since and --format choose what loganom alerts lists: ack takes neither"))
	}
	cfg, err := LoadConfig(c.Config, log, c)
	if err != nil {
		return Fail(log, err)
	}
	var since time.Time
	if c.Since != "" {
		d, err := ParseAge(c.Since)
		if err != nil {
			return Fail(log, cli.Usagef("--since %q: %v", c.Since, err))
		}
		since = time.Now().Add(-d)
	}
	ctx := context.Background()
	s, err := openExisting(ctx, &c.Common, cfg, log, false)
	if err != nil {
		return Fail(log, err)
	}
	defer s.Close()
	if ack {
		cs, _, _ := cfg.Bool("REPORT", "case_sensitive_users")
		u := record.CanonicalUser(c.Ack.User, cs)
		by := "unknown"
		if me, err := user.Current(); err == nil {
			by = me.Username
		}
		var ok bool
		err := Bound(ctx, OpTimeout, func(ctx context.Context) (err error) {
			ok, err = s.Store.Ack(ctx, u, by, time.Now())
			return err
		})
		if err != nil {
			return Fail(log, err)
		}
		if !ok {
			log.Errorf("%s has no open alert", report.Escape(u))
			log.Hintf("loganom alerts lists them")
			return cli.ExitError
		}
		fmt.Fprintf(env.Stdout, "acknowledged the alert of %s: new anomalous logins will alert again\n", report.Escape(u))
		return cli.ExitOK
	}
	var alerts []state.Alert
	err = Bound(ctx, RunTimeout, func(ctx context.Context) (err error) {
		alerts, err = s.Store.Alerts(ctx, since)
		return err
	})
	if err != nil {
		return Fail(log, err)
	}
	bw := bufio.NewWriter(env.Stdout)
	if c.Format == "json" {
		err = alertsJSON(bw, alerts)
	} else {
		alertsText(bw, alerts, c.Since, s.RealertAfter, time.Now())
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return Fail(log, fmt.Errorf("write output: %w", err))
	}
	return cli.ExitOK
}

// ParseAge reads an age above zero, as the config writes durations:
// "7d", "12h", "90m" (config.ParseDuration); a bare number other than 0
// is refused as having no unit.
func ParseAge(s string) (time.Duration, error) {
	d, err := config.ParseDuration(s)
	if errors.Is(err, cli.ErrNoUnit) {
		return 0, errors.New("has no unit: want an age like 7d, 12h or 90m")
	}
	if err != nil || d <= 0 {
		return 0, errors.New("want an age above zero, like 7d, 12h or 90m")
	}
	return d, nil
}

func alertsText(w io.Writer, alerts []state.Alert, since string, realertAfter time.Duration, now time.Time) {
	if len(alerts) == 0 {
		if since != "" {
			fmt.Fprintf(w, "No alert in the last %s.\n", since)
		} else {
			fmt.Fprintln(w, "No alert.")
		}
		return
	}
	for i, a := range alerts {
		if i > 0 {
			fmt.Fprintln(w)
		}
		status := "open"
		if a.Closed.IsZero() && now.Sub(a.Last) > realertAfter {
			// closed lazily, by the next anomaly ([STATE] realert_after)
			status = "open, quiet for over " + fmtAge(realertAfter) + ": new anomalous logins open another"
		}
		if !a.Closed.IsZero() {
			status = "closed " + date(a.Closed) + " (" + a.CloseReason
			if a.ClosedBy != "" {
				status += " by " + report.Escape(a.ClosedBy)
			}
			status += ")"
		}
		countries := map[string]bool{}
		for _, e := range a.Evidence {
			if e.Country != "" {
				countries[e.Country] = true
			}
		}
		cs := make([]string, 0, len(countries))
		for c := range countries {
			cs = append(cs, c)
		}
		slices.Sort(cs)
		fmt.Fprintf(w, "#%d %s: alerted %s, %s; %s in %s (%s), last login %s\n", a.ID, report.Escape(a.User), date(a.Opened), status,
			cli.Plural(int64(len(a.Evidence)), "address", "addresses"), cli.Plural(int64(len(cs)), "country", "countries"), dash(strings.Join(cs, " ")), date(a.Last))
		fmt.Fprintf(w, "  why: %s", dash(report.Escape(a.Rule)))
		if a.Instance != "" {
			fmt.Fprintf(w, " (seen by %s)", report.Escape(a.Instance))
		}
		fmt.Fprintln(w)
		for _, d := range a.Deliveries {
			fmt.Fprintf(w, "  %s: %s", report.Escape(d.Channel), deliveryText(d))
			fmt.Fprintln(w)
		}
		if len(a.Deliveries) == 0 {
			fmt.Fprintln(w, "  no channel was configured")
		}
	}
}

func deliveryText(d state.Delivery) string {
	switch d.Status {
	case state.DeliverySent:
		return "sent " + date(d.Updated)
	case state.DeliveryGivenUp:
		return fmt.Sprintf("given up %s after %s: %s", date(d.Updated), cli.Plural(int64(d.Attempts), "failed run", "failed runs"), report.Escape(d.Error))
	}
	if d.Attempts == 0 {
		return "pending (not tried yet)"
	}
	return fmt.Sprintf("pending, %s so far: %s", cli.Plural(int64(d.Attempts), "failed run", "failed runs"), report.Escape(d.Error))
}

func alertsJSON(w io.Writer, alerts []state.Alert) error {
	enc := report.InertEncoder(w) // names from the network, inert on a terminal
	for _, a := range alerts {
		if err := enc(wire.NewAlertJSON(a)); err != nil {
			return err
		}
	}
	return nil
}

// DB runs loganom db stats, prune and migrate.
func DB(env cli.Env, log *cli.Logger, c *DBCmd, command string) int {
	cfg, err := LoadConfig(c.Config, log, c)
	if err != nil {
		return Fail(log, err)
	}
	ctx := context.Background()
	if command == "migrate" {
		dsn := c.DB
		if dsn == "" {
			if dsn, err = state.DefaultPath(); err != nil {
				return Fail(log, err)
			}
		}
		var from, to int
		err := Bound(ctx, RunTimeout, func(ctx context.Context) (err error) {
			from, to, err = state.Migrate(ctx, dsn)
			return err
		})
		if err != nil {
			return Fail(log, err)
		}
		if from == to {
			fmt.Fprintf(env.Stdout, "%s: schema version %d, up to date\n", state.Describe(dsn), to)
		} else {
			fmt.Fprintf(env.Stdout, "%s: schema version %d (was %d)\n", state.Describe(dsn), to, from)
		}
		return cli.ExitOK
	}
	if command == "prune" {
		if err := CheckKeep(&Flags{}, cfg); err != nil {
			return Fail(log, err)
		}
	}
	s, err := openExisting(ctx, &c.Common, cfg, log, false)
	if err != nil {
		return Fail(log, err)
	}
	defer s.Close()
	if command == "prune" {
		var p state.Pruned
		var before time.Time
		err := Bound(ctx, pruneTimeout, func(ctx context.Context) (err error) {
			p, before, err = s.Prune(ctx)
			return err
		})
		if err != nil {
			return Fail(log, err)
		}
		fmt.Fprintln(env.Stdout, PruneWords(p, before, s.Keep))
		return cli.ExitOK
	}
	var st state.Stats
	err = Bound(ctx, RunTimeout, func(ctx context.Context) (err error) {
		st, err = s.Store.Stats(ctx)
		return err
	})
	if err != nil {
		return Fail(log, err)
	}
	w := env.Stdout
	fmt.Fprintf(w, "state:      %s (schema version %d", st.DB, st.Schema)
	if st.Bytes > 0 {
		fmt.Fprintf(w, ", %.1f kB", float64(st.Bytes)/1024)
	}
	fmt.Fprintln(w, ")")
	fmt.Fprintf(w, "history:    %s, %s, %s\n", cli.Plural(st.Accounts, "account", "accounts"), cli.Plural(st.Addresses, "address", "addresses"), cli.Plural(st.Logins, "login", "logins"))
	fmt.Fprintf(w, "alerts:     %d (%d open); deliveries: %d pending, %d given up\n", st.Alerts, st.OpenAlerts, st.Pending, st.GivenUp)
	fmt.Fprintf(w, "blocks:     %d\n", st.Blocks)
	fmt.Fprintf(w, "positions:  %s\n", cli.Plural(st.Positions, "log", "logs"))
	var last time.Time
	err = Bound(ctx, OpTimeout, func(ctx context.Context) (err error) {
		last, err = s.Store.LastPrune(ctx)
		return err
	})
	if err != nil {
		return Fail(log, err)
	}
	every := "not by the runs and daemons: [STATE] prune_every = 0; by hand: loganom db prune"
	if s.PruneEvery > 0 {
		every = "every " + fmtAge(s.PruneEvery) + " by the runs and daemons that write it ([STATE] prune_every)"
	}
	when := "never"
	if !last.IsZero() {
		when = date(last)
	}
	fmt.Fprintf(w, "pruned:     %s (%s)\n", when, every)
	return cli.ExitOK
}

func fmtAge(d time.Duration) string {
	if d != 0 && d%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	}
	// as a config writes it: 6h, 30m, 1h30m (not 6h0m0s)
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}
