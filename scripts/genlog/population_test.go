package main

import (
	"bufio"
	"bytes"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/enrich"
	"github.com/loganom/loganom/pkg/filter"
	"github.com/loganom/loganom/pkg/parse"
	"github.com/loganom/loganom/pkg/record"
)

var testStart = time.Date(2026, 11, 2, 0, 0, 0, 0, time.FixedZone("CET", 3600))

func testConfig(t *testing.T, accounts, days int, seed uint64, out io.Writer) popConfig {
	dir := t.TempDir()
	return popConfig{accounts: accounts, days: days, start: testStart, seed: seed, compromised: 50,
		labels: filepath.Join(dir, "labels.tsv"), geodb: filepath.Join(dir, "geo"), serverZone: "Europe/Berlin",
		out: bufio.NewWriter(out), statsTo: io.Discard}
}

// generated: a population of 600 accounts over 14 days, its log, and the
// paths of its labels and databases.
func generated(t *testing.T) (*pop, []byte, popConfig) {
	t.Helper()
	var log bytes.Buffer
	cfg := testConfig(t, 600, 14, 3, &log)
	p := newPop(cfg)
	p.generate()
	if err := p.output(); err != nil {
		t.Fatal(err)
	}
	return p, log.Bytes(), cfg
}

func TestPopulationSameSeedSameOutput(t *testing.T) {
	run := func(seed uint64) (log, labels, city, asn []byte) {
		var buf bytes.Buffer
		cfg := testConfig(t, 150, 5, seed, &buf)
		if err := runPopulation(cfg); err != nil {
			t.Fatal(err)
		}
		read := func(p string) []byte {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
		return buf.Bytes(), read(cfg.labels), read(filepath.Join(cfg.geodb, "genlog-city.mmdb")), read(filepath.Join(cfg.geodb, "genlog-asn.mmdb"))
	}
	l1, b1, c1, a1 := run(1)
	l2, b2, c2, a2 := run(1)
	l3, _, _, _ := run(2)
	for _, c := range []struct {
		name string
		x, y []byte
	}{{"log", l1, l2}, {"labels", b1, b2}, {"city database", c1, c2}, {"AS database", a1, a2}} {
		if len(c.x) == 0 || !bytes.Equal(c.x, c.y) {
			t.Errorf("%s: not the same for the same seed (%d and %d bytes)", c.name, len(c.x), len(c.y))
		}
	}
	if bytes.Equal(l1, l3) {
		t.Error("seeds 1 and 2 gave the same log")
	}
}

// Every line is one loganom-parse reads without complaint, every address
// is one the filter keeps (public, not reserved), and the databases place
// and name every one: a country, a location with its accuracy radius, an AS.
func TestPopulationLogParsesAndDatabasesKnowEveryAddress(t *testing.T) {
	p, log, cfg := generated(t)
	path := filepath.Join(t.TempDir(), "maillog")
	if err := os.WriteFile(path, log, 0o644); err != nil {
		t.Fatal(err)
	}
	var logins, failures int
	ips := map[string]bool{}
	var debug []string
	src := &parse.Source{Names: []string{path}, Opts: parse.Options{Year: 2026, Loc: time.FixedZone("CET", 3600),
		Debug: func(s string) {
			if strings.Contains(s, "malformed") {
				debug = append(debug, s)
			}
		}}}
	err := src.Run(func(r *record.Record) error {
		switch r.Type {
		case "login":
			logins++
		case "auth_failure":
			failures++
		default:
			t.Errorf("record of type %s: %+v", r.Type, r)
		}
		ips[r.IP] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if src.Stats.Malformed != 0 || src.Stats.TooLong != 0 {
		t.Errorf("%d malformed lines, %d too long: %q", src.Stats.Malformed, src.Stats.TooLong, debug)
	}
	var wantLogins, wantFailures int
	for _, s := range p.sessions {
		if s.fail {
			wantFailures++
		} else {
			wantLogins++
		}
	}
	if logins != wantLogins || failures != wantFailures || logins < 10000 {
		t.Errorf("parsed %d logins and %d failures, generated %d and %d", logins, failures, wantLogins, wantFailures)
	}

	f, err := filter.New(filter.Rules{}, false)
	if err != nil {
		t.Fatal(err)
	}
	city, err := enrich.OpenGeoDB(filepath.Join(cfg.geodb, "genlog-city.mmdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer city.Close()
	asn, err := enrich.OpenGeoDB(filepath.Join(cfg.geodb, "genlog-asn.mmdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer asn.Close()
	v6 := 0
	for ip := range ips {
		if why := f.Why(&record.Record{Type: "login", User: "x@example.com", IP: ip}); why != "" {
			t.Errorf("%s: the filter drops it: %s", ip, why)
		}
		a := netip.MustParseAddr(ip)
		if a.Is6() {
			v6++
		}
		g, found, err := city.Lookup(a)
		if err != nil || !found || len(g.Country) != 2 || !g.HasLoc || g.AccuracyKM == 0 {
			t.Errorf("%s: city database: %+v found=%v err=%v", ip, g, found, err)
		}
		g, found, err = asn.Lookup(a)
		if err != nil || !found || g.ASN == 0 || g.Org == "" {
			t.Errorf("%s: AS database: %+v found=%v err=%v", ip, g, found, err)
		}
	}
	if v6 == 0 || v6 == len(ips) {
		t.Errorf("%d IPv6 addresses of %d", v6, len(ips))
	}
}

// No two networks share addresses, and none is special.
func TestWorldRanges(t *testing.T) {
	f, err := filter.New(filter.Rules{}, false)
	if err != nil {
		t.Fatal(err)
	}
	type owned struct {
		p   netip.Prefix
		key string
	}
	var all []owned
	for _, n := range networks {
		for _, p := range append(append([]netip.Prefix{}, n.p4...), n.p6...) {
			for _, o := range all {
				if o.p.Overlaps(p) {
					t.Errorf("%s %s overlaps %s %s", n.key, p, o.key, o.p)
				}
			}
			all = append(all, owned{p, n.key})
			for _, a := range []netip.Addr{p.Addr(), lastAddr(p)} {
				if why := f.Why(&record.Record{Type: "login", IP: a.String()}); why != "" {
					t.Errorf("%s %s: %s is dropped by the filter: %s", n.key, p, a, why)
				}
			}
		}
		for _, v6 := range []bool{false, true} {
			if v6 && len(n.p6) == 0 {
				continue
			}
			for _, i := range []int{0, n.blocks(v6) - 1} {
				b := n.block(v6, i)
				in := false
				for _, p := range append(append([]netip.Prefix{}, n.p4...), n.p6...) {
					in = in || p.Contains(b.Addr()) && p.Bits() <= b.Bits()
				}
				if !in {
					t.Errorf("%s: block %d %s is outside its ranges", n.key, i, b)
				}
			}
		}
		for i := range n.locs {
			at := n.loc(i)
			if at.radius == 0 || len(at.cc) != 2 {
				t.Errorf("%s: block %d: %+v", n.key, i, at)
			}
		}
	}
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	bits := p.Bits()
	for i := range b {
		for j := 0; j < 8; j++ {
			if i*8+j >= bits {
				b[i] |= 0x80 >> j
			}
		}
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// People move no faster than planes: between two of a person's messages,
// where the person really was is never farther apart than 1,000 km/h
// allows (the databases may say otherwise: that is the point).
func TestPopulationPeopleTravelPossibly(t *testing.T) {
	p, _, _ := generated(t)
	last := map[*person]session{}
	moved := map[string]int{}
	for _, s := range p.sessions {
		if s.who == nil {
			continue
		}
		if s.at == nil {
			t.Fatalf("%s at %s: a session in transit", s.user, s.t)
		}
		if l, ok := last[s.who]; ok && l.at != s.at {
			km := distance(l.at.lat, l.at.lon, s.at.lat, s.at.lon)
			if h := s.t.Sub(l.t).Hours(); km/h > 1000 {
				t.Errorf("%s: %s at %s, %s at %s: %.0f km in %.1f h", s.user, l.at.name, l.t, s.at.name, s.t, km, h)
			}
			moved[s.at.cc]++
		}
		last[s.who] = s
	}
	if len(moved) < 10 {
		t.Errorf("people went to %d countries only: %v", len(moved), moved)
	}
	// and the journeys themselves take the time a train or a plane takes
	trips := 0
	for _, a := range p.accounts {
		for _, pe := range a.persons {
			for _, st := range pe.stays {
				trips++
				km := distance(pe.home.lat, pe.home.lon, st.dest.lat, st.dest.lon)
				for _, leg := range [][2]time.Time{{st.leave, st.arrive}, {st.depart, st.back}} {
					if h := leg[1].Sub(leg[0]).Hours(); h <= 0 || km/h > 800 {
						t.Errorf("%s: %s to %s, %.0f km in %.1f h", a.user, pe.home.name, st.dest.name, km, h)
					}
				}
			}
			if mv := pe.move; mv != nil {
				if h := mv.arrive.Sub(mv.leave).Hours(); h < 24 {
					t.Errorf("%s: moved from %s to %s in %.1f h", a.user, pe.home.name, mv.to.name, h)
				}
			}
		}
	}
	if trips < 30 {
		t.Errorf("%d trips among 600 accounts", trips)
	}
}

// The labels: one line per account, one in 50 compromised, each with its
// attack, which begins after the owner's first day and shows in the log;
// the innocent have the behaviours of the brief.
func TestPopulationLabels(t *testing.T) {
	p, _, cfg := generated(t)
	b, err := os.ReadFile(cfg.labels)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	label := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		c := strings.Split(line, "\t")
		if len(c) != 4 {
			t.Fatalf("line %q: %d columns", line, len(c))
		}
		label[c[0]] = c[1]
		kinds[c[2]]++
		if c[1] == "compromised" && !strings.HasPrefix(c[3], "attack="+c[2]+"(") {
			t.Errorf("%s: compromised, but its behaviour does not begin with its attack: %s", c[0], c[3])
		}
	}
	if len(label) != 600 {
		t.Errorf("%d accounts labelled, want 600", len(label))
	}
	for _, k := range []string{"botnet", "heavy-single", "two-in-country", "country-a-night", "far-single",
		"traveller-roaming", "traveller", "holiday", "abroad-staff", "vpn-abroad-daily", "gmail-send-as", "outlook-app", "typos", "shared-mailbox"} {
		if kinds[k] == 0 {
			t.Errorf("no account of kind %s: %v", k, kinds)
		}
	}
	attacked := map[string]time.Time{}
	for _, s := range p.sessions {
		if !s.attack {
			continue
		}
		if label[s.user] != "compromised" {
			t.Errorf("%s: an attack on an account labelled %q", s.user, label[s.user])
		}
		if f, ok := attacked[s.user]; !ok || s.t.Before(f) {
			attacked[s.user] = s.t
		}
	}
	n := 0
	for _, a := range p.accounts {
		if a.label != "compromised" {
			continue
		}
		n++
		f, ok := attacked[a.user]
		switch {
		case !ok:
			t.Errorf("%s (%s): no attack in the log", a.user, a.attack)
		case !a.first.IsZero() && f.Sub(a.first) < 24*time.Hour:
			t.Errorf("%s (%s): attacked at %s, %s after the owner's first login", a.user, a.attack, f, f.Sub(a.first))
		}
	}
	if n != 12 {
		t.Errorf("%d compromised of 600, want 12", n)
	}
}

// The lines look like Postfix's.
func TestPopulationLineShapes(t *testing.T) {
	_, log, _ := generated(t)
	re := regexp.MustCompile(`^[A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d mail postfix/(submission|smtps)/smtpd\[\d+\]: ` +
		`(connect from \S+\[[0-9a-f.:]+\]` +
		`|[0-9A-F]{10}: client=\S+\[[0-9a-f.:]+\], sasl_method=(PLAIN|LOGIN), sasl_username=\S+@example\.com` +
		`|warning: \S+\[[0-9a-f.:]+\]: SASL (PLAIN|LOGIN) authentication failed: (UGFzc3dvcmQ6|authentication failure, sasl_username=\S+@example\.com)` +
		`|disconnect from \S+\[[0-9a-f.:]+\] .*commands=\S+)$`)
	prev := ""
	for i, line := range strings.Split(strings.TrimSuffix(string(log), "\n"), "\n") {
		if !re.MatchString(line) {
			t.Fatalf("line %d: %q", i+1, line)
		}
		if stamp := line[:15]; stamp < prev {
			t.Fatalf("line %d: %s after %s", i+1, stamp, prev)
		} else {
			prev = stamp
		}
	}
}

// -two-clients changes nothing but the mechanism of the phones' logins of
// the people whose computer uses LOGIN (and the labels that say so): the
// rest of the log is the same bytes, and without it every person keeps one
// mechanism.
func TestPopulationTwoClients(t *testing.T) {
	gen := func(share float64) *pop {
		cfg := testConfig(t, 600, 14, 5, io.Discard)
		cfg.twoClients = share
		p := newPop(cfg)
		p.generate()
		return p
	}
	one, two := gen(0), gen(1)
	if len(one.sessions) != len(two.sessions) {
		t.Fatalf("%d sessions, %d with two clients", len(one.sessions), len(two.sessions))
	}
	changed, phones := 0, 0
	methods := map[*person]map[string]bool{}
	for i := range one.sessions {
		a, b := one.sessions[i], two.sessions[i]
		if a.who != nil && !a.attack && !a.noUser {
			if methods[a.who] == nil {
				methods[a.who] = map[string]bool{}
			}
			methods[a.who][a.method] = true
		}
		if b.who != nil && b.who.phoneMethod != "" && b.phone && !b.attack {
			phones++
		}
		if a.method == b.method {
			continue
		}
		changed++
		a.method = b.method
		a.who, b.who = nil, nil
		if a != b {
			t.Fatalf("session %d differs beyond its mechanism:\n%+v\n%+v", i, a, b)
		}
		if !b.phone || b.attack || a.method != "PLAIN" || one.sessions[i].method != "LOGIN" {
			t.Fatalf("session %d: %s became %s (phone %v, attack %v)", i, one.sessions[i].method, b.method, b.phone, b.attack)
		}
	}
	if changed == 0 || changed != phones {
		t.Fatalf("%d sessions changed, %d phone sessions of two-client people", changed, phones)
	}
	for _, ms := range methods {
		if len(ms) != 1 {
			t.Errorf("without -two-clients a person used %v", ms)
		}
	}
}
