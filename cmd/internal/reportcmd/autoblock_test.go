package reportcmd

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/config"
	"github.com/loganom/loganom/cmd/internal/statecmd"
	"github.com/loganom/loganom/pkg/detect"
	"github.com/loganom/loganom/pkg/record"
	"github.com/loganom/loganom/pkg/report"
	"github.com/loganom/loganom/pkg/state"
)

func loadINI(t *testing.T, text string) *config.Config {
	t.Helper()
	ini := filepath.Join(t.TempDir(), "config.ini")
	if err := os.WriteFile(ini, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.LoadConfig(ini)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// The [BLOCK] keys: auto off is nothing; the defaults (high, 24h); a
// threshold below the alert, a bad severity, a negative time, and the
// original rule without countries are config errors (exit 2).
func TestBlockKeys(t *testing.T) {
	for _, c := range []struct {
		name, ini string
		want      string // "" : fine
		alert     string // --alert
		sev       detect.Severity
		forD      time.Duration
		countries int
		off       bool
	}{
		{name: "off", ini: "[BLOCK]\nfor = 2h\n", off: true},
		{name: "defaults", ini: "[BLOCK]\nauto = true\n", sev: detect.High, forD: 24 * time.Hour},
		{name: "medium", ini: "[BLOCK]\nauto = true\nmin_severity = medium\nfor = 2d\nmin_countries = 3\n", sev: detect.Medium, forD: 48 * time.Hour, countries: 3},
		{name: "below the alert", ini: "[DETECT]\nalert = high\n[BLOCK]\nauto = true\nmin_severity = medium\n", want: "config.ini:2: [DETECT] alert high): an account is blocked only for an alert"},
		{name: "below the default alert", ini: "[BLOCK]\nauto = true\nmin_severity = low\n", want: "below the alert's severity ([DETECT] alert medium, the default)"},
		{name: "below --alert", ini: "[DETECT]\nalert = low\n[BLOCK]\nauto = true\nmin_severity = medium\n", alert: "high", want: "below the alert's severity (--alert high)"},
		{name: "bad severity", ini: "[BLOCK]\nauto = true\nmin_severity = huge\n", want: `[BLOCK] min_severity "huge": must be low, medium or high`},
		{name: "negative countries", ini: "[BLOCK]\nauto = true\nmin_countries = -1\n", want: "[BLOCK] min_countries -1: must not be negative"},
		{name: "original without countries", ini: "[REPORT]\nrule = original\n[BLOCK]\nauto = true\n", want: "needs [BLOCK] min_countries of 2 or more"},
		{name: "original with countries", ini: "[REPORT]\nrule = original\n[BLOCK]\nauto = true\nmin_countries = 3\n", sev: detect.None, forD: 24 * time.Hour, countries: 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := loadINI(t, c.ini)
			f := ReportFlags{Alert: c.alert}
			if err := cfg.Fill(&f); err != nil {
				t.Fatal(err)
			}
			_, err := f.Rule(cfg)
			if c.want != "" {
				if err == nil || !strings.Contains(err.Error(), c.want) || cli.ExitCodeOf(err) != cli.ExitUsage {
					t.Fatalf("err %v, want %q (usage)", err, c.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			ab := f.AutoBlock()
			if c.off {
				if ab != nil {
					t.Fatalf("auto off, got %+v", ab)
				}
				return
			}
			if ab == nil || ab.MinSeverity != c.sev || ab.For != c.forD || ab.MinCountries != c.countries {
				t.Fatalf("got %+v, want %s %s %d", ab, c.sev, c.forD, c.countries)
			}
			// without a state: an error
			if err := f.Apply(nil); err == nil || !strings.Contains(err.Error(), "[BLOCK] auto needs the state") {
				t.Errorf("Apply(nil): %v", err)
			}
		})
	}
}

// autoBlockState reads the report's keys from ini and opens a fresh
// SQLite state with them, closed at the test's end.
func autoBlockState(t *testing.T, ini string) (*ReportFlags, *statecmd.State) {
	t.Helper()
	return autoBlockStateAt(t, ini, filepath.Join(t.TempDir(), "state.db"))
}

// Block: an alert that passes blocks its account (by loganom
// auto-block, the reasons as the reason, until now + for), once: an
// account already blocked (by hand, or by an earlier alert) is left as it
// is and marked; below the threshold, or whitelisted, nothing is blocked.
func TestAutoBlockBlock(t *testing.T) {
	ctx := context.Background()
	f, st := autoBlockState(t, "[BLOCK]\nauto = true\nfor = 3h\nmin_countries = 2\nmin_severity = medium\n")
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	st.Now = func() time.Time { return now }
	st.Whitelist = func(r *record.Record) string {
		if r.User == "boss@example.test" {
			return "email_skip: boss@example.test"
		}
		return ""
	}
	if err := f.Apply(st); err != nil {
		t.Fatal(err)
	}
	ab := f.AutoBlock()
	if err := st.Store.AddBlock(ctx, state.Block{User: "carol@example.test", Reason: "by hand", Source: "manual", By: "root", Created: now}); err != nil {
		t.Fatal(err)
	}
	acct := func(user, sev string, countries ...string) *report.Account {
		return &report.Account{User: user, Severity: sev, Countries: countries,
			Reasons: []detect.Reason{{Detector: detect.ManyPlaces, Severity: detect.High, Text: "6 new countries\nand a line break"}}}
	}
	for _, c := range []struct {
		name     string
		a        *report.Account
		made     bool
		marked   bool
		markedBy string
	}{
		{"high, 2 countries", acct("bob@example.test", "high", "BA", "ES"), true, true, AutoBlockBy},
		{"bob again: already blocked", acct("bob@example.test", "high", "BA", "ES", "HU"), false, true, AutoBlockBy},
		{"low: below", acct("dave@example.test", "low", "BA", "ES"), false, false, ""},
		{"medium", acct("frank@example.test", "medium", "BA", "ES"), true, true, AutoBlockBy},
		{"frank medium again: left", acct("frank@example.test", "medium", "BA", "ES", "HU"), false, true, AutoBlockBy},
		{"one country: below", acct("erin@example.test", "high", "BA"), false, false, ""},
		{"whitelisted", acct("boss@example.test", "high", "BA", "ES"), false, false, ""},
		{"blocked by hand: left as it is", acct("carol@example.test", "high", "BA", "ES"), false, true, "root"},
	} {
		made, err := ab.Block(ctx, st, c.a)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if made != c.made || (c.a.Blocked != nil) != c.marked || c.marked && c.a.Blocked.By != c.markedBy {
			t.Errorf("%s: made %v, mark %+v; want %v, %v by %q", c.name, made, c.a.Blocked, c.made, c.marked, c.markedBy)
		}
	}
	// frank's more severe alert, an hour later: blocked again, from then
	now = now.Add(time.Hour)
	if made, err := ab.Block(ctx, st, acct("frank@example.test", "high", "BA", "ES", "HU")); err != nil || !made {
		t.Fatalf("frank, high after medium: made %v, %v", made, err)
	}
	if made, err := ab.Block(ctx, st, acct("carol@example.test", "high", "BA", "ES", "HU")); err != nil || made {
		t.Fatalf("carol, blocked by hand, high: made %v, %v", made, err)
	}
	now = now.Add(-time.Hour)
	blocks, err := st.Store.Blocks(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	var bob, frank *state.Block
	for i := range blocks {
		switch blocks[i].User {
		case "bob@example.test":
			bob = &blocks[i]
		case "frank@example.test":
			frank = &blocks[i]
		}
	}
	if frank == nil || !frank.Expires.Equal(now.Add(4*time.Hour)) || !strings.HasPrefix(frank.Reason, "automatic: severity high: ") {
		t.Errorf("frank's block, made again for the high alert: %+v", frank)
	}
	if len(blocks) != 3 || bob == nil || bob.By != AutoBlockBy || bob.Source != "automatic" || !bob.Expires.Equal(now.Add(3*time.Hour)) ||
		bob.Reason != "automatic: severity high: many places (high): 6 new countries and a line break" {
		t.Fatalf("blocks %+v", blocks)
	}
	// it expires by itself
	if later, err := st.Store.Blocks(ctx, now.Add(4*time.Hour+time.Second)); err != nil || len(later) != 1 || later[0].User != "carol@example.test" {
		t.Errorf("after for: %+v, %v", later, err)
	}
	audit, err := st.Store.BlockAudit(ctx, time.Time{})
	if err != nil || len(audit) != 4 {
		t.Errorf("audit %+v, %v: want carol's, bob's and frank's two blocks", audit, err)
	}
}
