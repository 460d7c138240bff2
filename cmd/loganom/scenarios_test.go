package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/loganomcmd"
	"github.com/loganom/loganom/pkg/enrich"
	"github.com/loganom/loganom/pkg/enrich/dnstest"
	"github.com/loganom/loganom/pkg/state"
)

const scenarioDir = "../../testdata/scenarios"

// scenario is a row of the table in testdata/scenarios/README.md: the
// labelled truth of a log, and what the original rule does with it.
type scenario struct {
	name        string
	log         string
	account     string // local part; the domain is example.test
	compromised bool
	detectors   []string            // that must be among a compromised account's reasons
	original    map[string][]string // config -> accounts the original rule flags
}

// TestScenarios runs loganom postfix-sasl --no-db on each labelled log of
// testdata/scenarios, with the home country ignored (home.ini) and with no
// country ignored (open.ini), reverse DNS served on loopback from the
// suite's zone. With the default detection, the accounts flagged must be
// exactly the compromised one (never an innocent account, never a
// colleague), and its reasons must name the detectors of the table. With
// --rule original, the accounts flagged must be those the table records:
// that is what the original rule does (not what is right), which rule =
// original must keep doing.
func TestScenarios(t *testing.T) {
	rows := readScenarioTable(t)
	zone, err := os.ReadFile(filepath.Join(scenarioDir, "dns.zone"))
	if err != nil {
		t.Fatal(err)
	}
	z, err := dnstest.ParseZone(string(zone))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := dnstest.Start(z, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	for _, sc := range rows {
		t.Run(strings.TrimSuffix(sc.log, ".log"), func(t *testing.T) {
			logins := countLogins(t, filepath.Join(scenarioDir, sc.log))
			want := []string{}
			if sc.compromised {
				want = []string{sc.account}
			}
			for _, cfg := range []string{"home", "open"} {
				t.Run(cfg, func(t *testing.T) {
					flagged, stderr := runScenario(t, srv.Addr, cfg, sc.log, logins)
					got := slices.Sorted(maps.Keys(flagged))
					if !slices.Equal(got, want) {
						t.Errorf("%s (%s, %s.ini): flagged %v, want %v\n%s", sc.name, sc.log, cfg, got, want, describe(flagged, got))
						t.Logf("stderr:\n%s", stderr)
					}
					if reasons, ok := flagged[sc.account]; ok && sc.compromised {
						for _, d := range sc.detectors {
							if !slices.ContainsFunc(reasons, func(r reason) bool { return r.Detector == d }) {
								t.Errorf("%s (%s.ini): %s's reasons %v do not name %s", sc.name, cfg, sc.account, reasons, d)
							}
						}
					}
				})
				t.Run(cfg+"-original", func(t *testing.T) {
					flagged, stderr := runScenario(t, srv.Addr, cfg, sc.log, logins, "--rule", "original")
					got := slices.Sorted(maps.Keys(flagged))
					if want := sc.original[cfg]; !slices.Equal(got, want) {
						t.Errorf("%s (%s, %s.ini, --rule original): flagged %v; the README records %v", sc.name, sc.log, cfg, got, want)
						t.Logf("stderr:\n%s", stderr)
					}
				})
			}
		})
	}
}

type reason struct {
	Detector string `json:"detector"`
	Severity string `json:"severity"`
	Text     string `json:"text"`
}

// runScenario runs the wrapper on a log and returns the accounts it
// flags (local parts) with their reasons. Every login of the log must have
// been read.
func runScenario(t *testing.T, dns, cfg, log string, logins int, extra ...string) (map[string][]reason, string) {
	t.Helper()
	args := append([]string{"postfix-sasl", "-c", filepath.Join(scenarioDir, cfg+".ini"), "-l", filepath.Join(scenarioDir, log),
		"--no-db", "--no-cache", "--dns", dns, "--year", "2026", "--tz", "America/Sao_Paulo", "--format", "json", "--stats"}, extra...)
	var stdout, stderr bytes.Buffer
	code := loganomcmd.Main(cli.Env{Args: args, Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr,
		Getenv: func(string) string { return "" }})
	if code != 0 {
		t.Fatalf("loganom %s: exit %d\n%s", strings.Join(args, " "), code, stderr.String())
	}
	if m := regexp.MustCompile(` login=(\d+) `).FindStringSubmatch(stderr.String()); m == nil || m[1] != strconv.Itoa(logins) {
		t.Fatalf("the log has %d logins; stats:\n%s", logins, stderr.String())
	}
	if !strings.Contains(stderr.String(), " malformed=0 ") {
		t.Fatalf("malformed lines:\n%s", stderr.String())
	}
	flagged := map[string][]reason{}
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		if line == "" {
			continue
		}
		var a struct {
			User    string   `json:"user"`
			Reasons []reason `json:"reasons"`
		}
		if err := json.Unmarshal([]byte(line), &a); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		local, domain, _ := strings.Cut(a.User, "@")
		if domain != "example.test" {
			t.Fatalf("flagged %q: not an account of example.test", a.User)
		}
		flagged[local] = a.Reasons
	}
	return flagged, stderr.String()
}

// countLogins counts the successful SASL logins of a log: Postfix's
// "client=NAME[IP], sasl_method=..., sasl_username=..." lines.
func countLogins(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := sc.Text(); strings.Contains(l, ": client=") && strings.Contains(l, ", sasl_username=") {
			n++
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatalf("%s: no logins", path)
	}
	return n
}

func describe(flagged map[string][]reason, users []string) string {
	var b strings.Builder
	for _, u := range users {
		b.WriteString("  " + u + ":")
		for _, r := range flagged[u] {
			b.WriteString(" [" + r.Detector + " " + r.Severity + ": " + r.Text + "]")
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// readScenarioTable reads the table of testdata/scenarios/README.md:
//
//	| # | Scenario | Log | Account | Truth | Detectors | original, home.ini | original, open.ini |
//
// and checks that it names every log of the directory once.
func readScenarioTable(t *testing.T) []scenario {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(scenarioDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	list := func(cell string) []string {
		out := []string{}
		if cell == "—" || cell == "none" {
			return out
		}
		for _, f := range strings.Split(cell, ",") {
			out = append(out, strings.Trim(strings.TrimSpace(f), "`"))
		}
		slices.Sort(out)
		return out
	}
	link := regexp.MustCompile("^\\[`?([^`\\]]+)`?\\]\\([^)]*\\)$")
	var rows []scenario
	seen := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "| ") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "| "), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if _, err := strconv.Atoi(cells[0]); err != nil {
			continue // the header
		}
		if len(cells) != 8 {
			t.Fatalf("README.md: a row of %d cells, want 8: %s", len(cells), line)
		}
		sc := scenario{name: cells[1], log: cells[2], account: strings.Trim(cells[3], "`"),
			detectors: list(cells[5]), original: map[string][]string{"home": list(cells[6]), "open": list(cells[7])}}
		if m := link.FindStringSubmatch(sc.log); m != nil {
			sc.log = m[1]
		}
		switch cells[4] {
		case "compromised":
			sc.compromised = true
			if len(sc.detectors) == 0 {
				t.Fatalf("README.md: %s is compromised but names no detector", sc.log)
			}
		case "innocent":
		default:
			t.Fatalf("README.md: %s: truth %q, want compromised or innocent", sc.log, cells[4])
		}
		if seen[sc.log] {
			t.Fatalf("README.md: %s twice", sc.log)
		}
		seen[sc.log] = true
		rows = append(rows, sc)
	}
	logs, err := filepath.Glob(filepath.Join(scenarioDir, "*.log"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range logs {
		if !seen[filepath.Base(l)] {
			t.Errorf("README.md has no row for %s", filepath.Base(l))
		}
		delete(seen, filepath.Base(l))
	}
	for l := range seen {
		t.Errorf("README.md names %s, which is not there", l)
	}
	if len(rows) == 0 {
		t.Fatal("README.md: no scenarios")
	}
	return rows
}

// The bundled city database gives each network of the suite its accuracy
// radius, and no city to one located only to its country, as GeoLite2
// does: the suite's mobile networks depend on it.
func TestScenarioGeo(t *testing.T) {
	db, err := enrich.OpenGeoDB("../../testdata/geo/example-city.mmdb")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, c := range []struct {
		ip, country, city string
		km                int
	}{
		{"177.48.10.1", "BR", "", 1000},              // TIM, located to Brazil only
		{"177.121.200.1", "BR", "Rio de Janeiro", 5}, // TIM, a pool placed in Rio
		{"152.244.3.3", "BR", "São Paulo", 20},       // Vivo's mobile network
		{"60.56.41.7", "JP", "Osaka", 20},
		{"187.45.12.9", "BR", "São Paulo", 50}, // the older illustrative data
	} {
		g, found, err := db.Lookup(netip.MustParseAddr(c.ip))
		if err != nil || !found {
			t.Fatalf("%s: found %v, %v", c.ip, found, err)
		}
		if g.Country != c.country || g.City != c.city || g.AccuracyKM != c.km || !g.HasLoc {
			t.Errorf("%s: %+v, want %s %q %d km", c.ip, g, c.country, c.city, c.km)
		}
	}
}

// TestScenarioHourly runs three scenarios as cron does: the log grows an
// hour of lines at a time, and each hourly run reads what is new with
// --resume and the state of the runs before. The thief is alerted once,
// as the theft goes on (a quiet account's burst across runs; a trip from
// the last run's login, also to a login the whitelist covers), and the
// traveller whose phone roams, or the shared mailbox, never is.
// scripts/scenarios-hourly runs the whole suite so.
func TestScenarioHourly(t *testing.T) {
	for _, c := range []struct{ log, want string }{
		{"quiet-account.log", "helena.castro"},
		{"far-away-20-minutes.log", "lucas.ferreira"},
		{"traveller-roaming.log", ""},
		// the login from Hanoi, then the owner at home, whitelisted
		// (country_ignore = BR): the next hour's run has only whitelisted
		// logins of the account, and judges the trip from the history
		{"far-between-home.log", "lucia.ramos"},
		// the line's address of the day, then Lagos in the same hour: the
		// next runs know her line from the state's history
		{"line-of-the-day.log", "marina.teixeira"},
		// Hanoi with a SASL mechanism she never used: the runs after
		// the first know her mechanisms from the state's history
		{"far-between-phone.log", "sofia.ribeiro"},
		// one login from Hanoi, then none from there for a day: the
		// first run with her logins after that day finds it in the
		// state's history (the checker's row, her phone's before it)
		{"checked-once.log", "beatriz.lima"},
		{"shared-mailbox.log", ""},
	} {
		t.Run(strings.TrimSuffix(c.log, ".log"), func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(scenarioDir, c.log))
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			mail, db := filepath.Join(dir, "mail.log"), filepath.Join(dir, "state.db")
			if err := os.WriteFile(mail, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			var alerts []string
			lines := strings.SplitAfter(string(data), "\n")
			for i := 0; i < len(lines); {
				hour := lines[i][:min(len(lines[i]), 9)] // "Nov 10 20"
				j := i
				for j < len(lines) && strings.HasPrefix(lines[j], hour) {
					j++
				}
				f, err := os.OpenFile(mail, os.O_APPEND|os.O_WRONLY, 0)
				if err != nil {
					t.Fatal(err)
				}
				f.WriteString(strings.Join(lines[i:j], ""))
				f.Close()
				i = j
				var stdout, stderr bytes.Buffer
				args := []string{"postfix-sasl", "-c", filepath.Join(scenarioDir, "home.ini"), "-l", mail, "--resume", "--db", db,
					"--no-rdns", "--year", "2026", "--tz", "America/Sao_Paulo", "--format", "json", "--exit-code"}
				code := loganomcmd.Main(cli.Env{Args: args, Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr,
					Getenv: func(string) string { return "" }})
				switch code {
				case cli.ExitOK:
				case cli.ExitAnomalies:
					for _, m := range regexp.MustCompile(`"user":"([^"@]+)@`).FindAllStringSubmatch(stdout.String(), -1) {
						alerts = append(alerts, m[1]+" at "+hour)
					}
				default:
					t.Fatalf("at %s: exit %d\n%s", hour, code, stderr.String())
				}
			}
			want := 0
			if c.want != "" {
				want = 1
			}
			if len(alerts) != want || want == 1 && !strings.HasPrefix(alerts[0], c.want+" ") {
				t.Errorf("alerts %v, want %q once", alerts, c.want)
			}
		})
	}
}

// TestScenariosLive runs each labelled log through the live path
// (loganom postfix-sasl --follow, reading the log as a stream on stdin):
// the accounts alerted, as the logins come, must be those the batch flags
// (TestScenarios): exactly the compromised one, in both configurations,
// with the detectors of the table among its reasons.
func TestScenariosLive(t *testing.T) {
	rows := readScenarioTable(t)
	zone, err := os.ReadFile(filepath.Join(scenarioDir, "dns.zone"))
	if err != nil {
		t.Fatal(err)
	}
	z, err := dnstest.ParseZone(string(zone))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := dnstest.Start(z, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	for _, sc := range rows {
		t.Run(strings.TrimSuffix(sc.log, ".log"), func(t *testing.T) {
			want := []string{}
			if sc.compromised {
				want = []string{sc.account}
			}
			for _, cfg := range []string{"home", "open"} {
				t.Run(cfg, func(t *testing.T) {
					flagged, stderr := runLive(t, srv.Addr, cfg, sc.log)
					got := slices.Sorted(maps.Keys(flagged))
					if !slices.Equal(got, want) {
						t.Errorf("%s (%s, %s.ini): alerted %v, want %v\n%s", sc.name, sc.log, cfg, got, want, describe(flagged, got))
						t.Logf("stderr:\n%s", stderr)
					}
					if reasons, ok := flagged[sc.account]; ok && sc.compromised {
						for _, d := range sc.detectors {
							if !slices.ContainsFunc(reasons, func(r reason) bool { return r.Detector == d }) {
								t.Errorf("%s (%s.ini): %s's reasons %v do not name %s", sc.name, cfg, sc.account, reasons, d)
							}
						}
					}
				})
			}
		})
	}
}

// runLive runs loganom postfix-sasl --follow on a log given on stdin,
// with a state of its own, and returns the accounts alerted (local parts)
// with the reasons that the state's alert holds at the end (the first
// alert's, and what the logins after it added). The accounts alerted on
// stdout must be the same.
func runLive(t *testing.T, dns, cfg, log string, extra ...string) (map[string][]reason, string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(scenarioDir, log))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "state.db")
	// a channel, so that the state keeps each alert's account to send
	script := filepath.Join(dir, "alert.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\ncat >/dev/null\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"postfix-sasl", "--follow", "-c", filepath.Join(scenarioDir, cfg+".ini"), "-l", "-",
		"--db", db, "-e", script, "--no-cache", "--dns", dns, "--year", "2026", "--tz", "America/Sao_Paulo", "--format", "json"}, extra...)
	var stdout, stderr bytes.Buffer
	code := loganomcmd.Main(cli.Env{Args: args, Stdin: bytes.NewReader(b), Stdout: &stdout, Stderr: &stderr,
		Getenv: func(string) string { return "" }})
	if code != 0 {
		t.Fatalf("loganom %s: exit %d\n%s", strings.Join(args, " "), code, stderr.String())
	}
	local := func(user string) string {
		l, domain, _ := strings.Cut(user, "@")
		if domain != "example.test" {
			t.Fatalf("alerted %q: not an account of example.test", user)
		}
		return l
	}
	printed := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		if line == "" {
			continue
		}
		var a struct {
			User string `json:"user"`
		}
		if err := json.Unmarshal([]byte(line), &a); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		printed[local(a.User)] = true
	}
	st, err := state.Open(context.Background(), db, state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	alerts, err := st.Alerts(context.Background(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	flagged := map[string][]reason{}
	for _, al := range alerts {
		if len(al.Deliveries) != 1 || al.Deliveries[0].Status != state.DeliverySent {
			t.Fatalf("alert %d for %s: deliveries %+v, want one, sent", al.ID, al.User, al.Deliveries)
		}
		var a struct {
			User    string   `json:"user"`
			Reasons []reason `json:"reasons"`
		}
		if err := json.Unmarshal(al.Deliveries[0].Payload, &a); err != nil {
			t.Fatalf("alert %d: payload: %v", al.ID, err)
		}
		flagged[local(a.User)] = append(flagged[local(a.User)], a.Reasons...)
	}
	if p, f := slices.Sorted(maps.Keys(printed)), slices.Sorted(maps.Keys(flagged)); !slices.Equal(p, f) {
		t.Errorf("alerts printed for %v, recorded for %v", p, f)
	}
	return flagged, stderr.String()
}
