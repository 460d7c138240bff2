// Package blockcmd is loganom block, unblock and blocks (the blocks of
// the state, straight on its database) and loganom serve (the Postfix
// policy service that enforces them: pkg/policy).
package blockcmd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/config"
	"github.com/loganom/loganom/cmd/internal/statecmd"
	"github.com/loganom/loganom/pkg/api"
	"github.com/loganom/loganom/pkg/api/wire"
	"github.com/loganom/loganom/pkg/record"
	"github.com/loganom/loganom/pkg/report"
	"github.com/loganom/loganom/pkg/state"
)

// Common are the flags of the block commands.
type Common struct {
	Config             string `short:"c" placeholder:"FILE" help:"INI configuration, for [STATE] db and [REPORT] case_sensitive_users (default: ./config.ini when it exists)."`
	DB                 string `name:"db" ini:"STATE.db" placeholder:"PATH|URL" help:"The state (default: [STATE] db, else $XDG_STATE_HOME/loganom/state.db, else /var/lib/loganom/state.db as root, else ~/.local/state/loganom/state.db)."`
	CaseSensitiveUsers bool   `name:"case-sensitive-users" ini:"REPORT.case_sensitive_users" help:"Take USER as written, for a SASL backend that tells case apart ([REPORT] case_sensitive_users)."`
}

// BlockCmd is loganom block.
type BlockCmd struct {
	Common
	Reason string `placeholder:"TEXT" help:"Why: shown by loganom blocks, and in the postmap table's reject text."`
	For    string `name:"for" placeholder:"AGE" help:"Lift the block by itself after AGE, like 24h or 7d (default: until loganom unblock)."`
	User   string `arg:"" help:"The account (sasl_username)."`
}

// UnblockCmd is loganom unblock.
type UnblockCmd struct {
	Common
	Reason string `placeholder:"TEXT" help:"Why: kept in the audit trail (loganom blocks --audit)."`
	User   string `arg:"" help:"The account (sasl_username)."`
}

// BlocksCmd is loganom blocks.
type BlocksCmd struct {
	Common
	Format string `enum:"text,json,postmap" default:"text" help:"text; json: one object per block and line; postmap: a check_sasl_access table (user REJECT reason) for postmap(1)."`
	Audit  bool   `help:"Show the audit trail instead: every block and unblock, newest first, with who, when and why."`
	Since  string `placeholder:"AGE" help:"With --audit: only the changes of the last AGE, like 7d or 12h (default: all)."`
}

// open opens the state; unless create, an SQLite state that does not
// exist is an error (a typo would show an empty list).
func open(ctx context.Context, c *Common, cfg *config.Config, log *cli.Logger, create bool) (*statecmd.State, error) {
	dsn := c.DB
	if dsn == "" {
		p, err := state.DefaultPath()
		if err != nil {
			return nil, err
		}
		dsn = p
	}
	if !create && !state.IsPostgres(dsn) {
		if _, err := os.Stat(dsn); errors.Is(err, fs.ErrNotExist) {
			log.Errorf("no state at %s", dsn)
			log.Hintf("loganom block makes it, as loganom postfix-sasl does; name another with --db PATH or [STATE] db")
			return nil, statecmd.ErrSilent
		}
	}
	return statecmd.Open(ctx, &statecmd.Flags{DB: c.DB}, cfg, log, true, true)
}

func whoami() string {
	if me, err := user.Current(); err == nil {
		return me.Username
	}
	return "unknown"
}

const dateFormat = "2006-01-02 15:04"

// stateTimeout bounds a command's work on the state, its open included: a
// PostgreSQL that accepts and never answers is an error, not a hang.
var stateTimeout = 30 * time.Second

// stateContext is the context of a command's work on the state.
func stateContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), stateTimeout)
}

// timedOut says that the state did not answer in time, when ctx's
// deadline is why err came.
func timedOut(ctx context.Context, err error) error {
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("the state did not answer within %s: %w", stateTimeout, err)
	}
	return err
}

func date(t time.Time) string { return t.Local().Format(dateFormat) }

func until(b state.Block) string {
	if b.Expires.IsZero() {
		return "until unblocked"
	}
	return "until " + date(b.Expires)
}

// Block runs loganom block.
func Block(env cli.Env, log *cli.Logger, c *BlockCmd) int {
	cfg, err := statecmd.LoadConfig(c.Config, log, c)
	if err != nil {
		return statecmd.Fail(log, err)
	}
	now := time.Now()
	b := state.Block{User: record.CanonicalUser(c.User, c.CaseSensitiveUsers), Reason: c.Reason, Source: "manual", By: whoami(), Created: now}
	if b.User == "" {
		return statecmd.Fail(log, cli.Usagef("USER is empty"))
	}
	// as the API checks them: what both backends can keep
	if err := api.CheckUser(b.User); err != nil {
		return statecmd.Fail(log, cli.Usagef("USER %s: %v", report.Escape(b.User), err))
	}
	if err := api.CheckReason(b.Reason); err != nil {
		return statecmd.Fail(log, cli.Usagef("--reason: %v", err))
	}
	if c.For != "" {
		d, err := statecmd.ParseAge(c.For)
		if err != nil {
			return statecmd.Fail(log, cli.Usagef("--for %q: %v", c.For, err))
		}
		b.Expires = now.Add(d)
	}
	ctx, cancel := stateContext()
	defer cancel()
	s, err := open(ctx, &c.Common, cfg, log, true)
	if err != nil {
		return statecmd.Fail(log, timedOut(ctx, err))
	}
	defer s.Close()
	old, err := s.Store.PutBlock(ctx, b)
	if err != nil {
		return statecmd.Fail(log, timedOut(ctx, err))
	}
	fmt.Fprintf(env.Stdout, "blocked %s %s", report.Escape(b.User), until(b))
	if old != nil {
		fmt.Fprintf(env.Stdout, " (it was blocked since %s, %s)", date(old.Created), until(*old))
	}
	fmt.Fprintln(env.Stdout)
	return cli.ExitOK
}

// Unblock runs loganom unblock.
func Unblock(env cli.Env, log *cli.Logger, c *UnblockCmd) int {
	cfg, err := statecmd.LoadConfig(c.Config, log, c)
	if err != nil {
		return statecmd.Fail(log, err)
	}
	ctx, cancel := stateContext()
	defer cancel()
	s, err := open(ctx, &c.Common, cfg, log, false)
	if err != nil {
		return statecmd.Fail(log, timedOut(ctx, err))
	}
	defer s.Close()
	u := record.CanonicalUser(c.User, c.CaseSensitiveUsers)
	ok, err := s.Store.RemoveBlock(ctx, u, whoami(), c.Reason, time.Now())
	if err != nil {
		return statecmd.Fail(log, timedOut(ctx, err))
	}
	if !ok {
		log.Errorf("%s is not blocked", report.Escape(u))
		log.Hintf("loganom blocks lists the blocks; names are compared in lower case unless --case-sensitive-users")
		return cli.ExitError
	}
	fmt.Fprintf(env.Stdout, "unblocked %s; its open alert, if any, is closed\n", report.Escape(u))
	return cli.ExitOK
}

// Blocks runs loganom blocks.
func Blocks(env cli.Env, log *cli.Logger, c *BlocksCmd) int {
	cfg, err := statecmd.LoadConfig(c.Config, log, c)
	if err != nil {
		return statecmd.Fail(log, err)
	}
	var since time.Time
	switch {
	case c.Since != "" && !c.Audit:
		return statecmd.Fail(log, cli.Usagef("--since goes with --audit"))
	case c.Audit && c.Format == "postmap":
		return statecmd.Fail(log, cli.Usagef("--audit is text or json, not postmap"))
	case c.Since != "":
		d, err := statecmd.ParseAge(c.Since)
		if err != nil {
			return statecmd.Fail(log, cli.Usagef("--since %q: %v", c.Since, err))
		}
		since = time.Now().Add(-d)
	}
	ctx, cancel := stateContext()
	defer cancel()
	s, err := open(ctx, &c.Common, cfg, log, false)
	if err != nil {
		return statecmd.Fail(log, timedOut(ctx, err))
	}
	defer s.Close()
	now := time.Now()
	if c.Audit {
		return audit(ctx, env, log, s.Store, c, since)
	}
	bl, err := s.Store.Blocks(ctx, now)
	if err != nil {
		return statecmd.Fail(log, timedOut(ctx, err))
	}
	bw := bufio.NewWriter(env.Stdout)
	switch c.Format {
	case "json":
		err = blocksJSON(bw, bl)
	case "postmap":
		postmap(bw, log, bl, now)
	default:
		blocksText(bw, bl)
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return statecmd.Fail(log, fmt.Errorf("write output: %w", err))
	}
	return cli.ExitOK
}

func blocksText(w io.Writer, bl []state.Block) {
	if len(bl) == 0 {
		fmt.Fprintln(w, "No account is blocked.")
		return
	}
	for _, b := range bl {
		fmt.Fprintf(w, "%s: blocked %s by %s (%s), %s", report.Escape(b.User), date(b.Created), report.Escape(dash(b.By)), report.Escape(b.Source), until(b))
		if b.Reason != "" {
			fmt.Fprintf(w, ": %s", report.Escape(b.Reason))
		}
		fmt.Fprintln(w)
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func blocksJSON(w io.Writer, bl []state.Block) error {
	enc := report.InertEncoder(w)
	for _, b := range bl {
		if err := enc(wire.NewBlockJSON(b)); err != nil {
			return err
		}
	}
	return nil
}

// PostmapText is the reject text of a block without a reason.
const PostmapText = "account temporarily blocked"

// postmap writes a check_sasl_access table: "user REJECT text" a line. A
// key cannot hold white space, and must not start a comment: such a user
// is left out, with a warning. The text is made one line of printable
// ASCII (anything else becomes "?"), at most 200 bytes.
func postmap(w io.Writer, log *cli.Logger, bl []state.Block, now time.Time) {
	var lines []string
	for _, b := range bl {
		if b.User == "" || b.User[0] == '#' || !utf8.ValidString(b.User) || strings.ContainsFunc(b.User, func(r rune) bool { return r <= ' ' || r == 0x7f || r >= 0x80 && report.Suspicious(r) }) {
			log.Warnf("%s left out of the table: a postmap key cannot hold white space, control characters or invalid UTF-8, or start with #", report.Escape(b.User))
			continue
		}
		text := b.Reason
		if strings.TrimSpace(text) == "" {
			text = PostmapText
		}
		lines = append(lines, b.User+" REJECT "+SafeText(text, 200))
	}
	fmt.Fprintf(w, "# loganom blocks --format postmap, %s: %s (for check_sasl_access; run postmap on it)\n", date(now), cli.Plural(int64(len(lines)), "account", "accounts"))
	fmt.Fprintln(w, "# blocks that expire stay here until this table is made again")
	for _, l := range lines {
		fmt.Fprintln(w, l)
	}
}

// SafeText makes s one line of printable ASCII for an SMTP reply: line
// breaks and tabs become spaces, runs of spaces one, each other character
// outside printable ASCII (a control, a non-ASCII letter) "?"; cut at n
// bytes.
func SafeText(s string, n int) string {
	var b strings.Builder
	space := false
	for _, r := range strings.TrimSpace(s) {
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		if r < ' ' || r > '~' {
			r = '?'
		}
		b.WriteRune(r)
		if b.Len() >= n {
			break
		}
	}
	out := b.String()
	if len(out) > n {
		out = out[:n]
	}
	return out
}

type changeJSON struct {
	At      time.Time  `json:"at"`
	Action  string     `json:"action"`
	User    string     `json:"user"`
	By      string     `json:"by"`
	Reason  string     `json:"reason,omitempty"`
	Source  string     `json:"source,omitempty"`
	Expires *time.Time `json:"expires,omitempty"`
}

// audit writes the audit trail of the blocks.
func audit(ctx context.Context, env cli.Env, log *cli.Logger, st state.Store, c *BlocksCmd, since time.Time) int {
	changes, err := st.BlockAudit(ctx, since)
	if err != nil {
		return statecmd.Fail(log, timedOut(ctx, err))
	}
	bw := bufio.NewWriter(env.Stdout)
	if c.Format == "json" {
		enc := report.InertEncoder(bw)
		for _, ch := range changes {
			j := changeJSON{At: ch.At, Action: ch.Action, User: ch.User, By: ch.By, Reason: ch.Reason, Source: ch.Source}
			if !ch.Expires.IsZero() {
				j.Expires = &ch.Expires
			}
			if err = enc(j); err != nil {
				break
			}
		}
	} else {
		if len(changes) == 0 {
			fmt.Fprintln(bw, "No change to the blocks.")
		}
		for _, ch := range changes {
			fmt.Fprintf(bw, "%s %s %s by %s", date(ch.At), ch.Action, report.Escape(ch.User), report.Escape(dash(ch.By)))
			if ch.Action == "block" {
				fmt.Fprintf(bw, " (%s), %s", report.Escape(ch.Source), until(state.Block{Expires: ch.Expires}))
			}
			if ch.Reason != "" {
				fmt.Fprintf(bw, ": %s", report.Escape(ch.Reason))
			}
			fmt.Fprintln(bw)
		}
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return statecmd.Fail(log, fmt.Errorf("write output: %w", err))
	}
	return cli.ExitOK
}
