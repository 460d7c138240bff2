package report

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/detect"
	"github.com/loganom/loganom/pkg/record"
)

type place struct {
	ip, cc   string
	asn      uint32
	lat, lon float64
}

var (
	home   = place{"200.158.1.34", "BR", 27699, -23.55, -46.63}
	office = place{"187.32.0.10", "BR", 28573, -23.56, -46.65}
	thiefs = []place{
		{"176.63.95.227", "HU", 6830, 47.5, 19.04},
		{"118.69.201.136", "VN", 18403, 10.82, 106.63},
		{"105.112.9.241", "NG", 36873, 6.45, 3.39},
		{"36.110.1.1", "CN", 4134, 39.9, 116.4},
	}
)

func loginAt(user string, p place, t time.Time) *record.Record {
	return &record.Record{Type: record.TypeLogin, User: user, IP: p.ip, Time: t, Country: p.cc, ASN: p.asn,
		HasLoc: true, Lat: p.lat, Lon: p.lon, AccuracyKM: 10, City: "c-" + p.cc}
}

// TestLiveAlertsAtOnce: a botnet's logins after a week at home alert on
// the login that makes the account anomalous, once per severity, and
// the batch report flags the same account; the owner alone is never
// alerted.
func TestLiveAlertsAtOnce(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	var recs []*record.Record
	for d := 0; d < 7; d++ {
		for h := 0; h < 3; h++ {
			p := home
			if h == 1 {
				p = office
			}
			recs = append(recs, loginAt("ana@x.test", p, t0.Add(time.Duration(d)*24*time.Hour+time.Duration(h)*3*time.Hour)))
			recs = append(recs, loginAt("bob@x.test", p, t0.Add(time.Duration(d)*24*time.Hour+time.Duration(h)*3*time.Hour+time.Minute)))
		}
	}
	attack := t0.Add(7*24*time.Hour + 2*time.Hour)
	first := len(recs)
	for i, p := range thiefs {
		recs = append(recs, loginAt("bob@x.test", p, attack.Add(time.Duration(i)*5*time.Minute)))
	}

	l := NewLive(Rule{})
	var alerts []string
	var at []int
	l.OnAlert = func(a *Account) error {
		alerts = append(alerts, a.User+" "+a.Severity)
		at = append(at, len(alerts))
		return nil
	}
	var emitted []*record.Record
	for i, r := range recs {
		n := len(alerts)
		if err := l.Process(r, func(r *record.Record) error { emitted = append(emitted, r); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(alerts) > n && i < first {
			t.Fatalf("login %d (%s from %s) alerted before the attack: %v", i, r.User, r.IP, alerts)
		}
	}
	if len(alerts) != 1 || alerts[0] != "bob@x.test high" {
		t.Fatalf("alerts %v, want one for bob, high", alerts)
	}
	if len(emitted) != 1 || emitted[0].Type != TypeAlert || emitted[0].User != "bob@x.test" {
		t.Fatalf("emitted %v", emitted)
	}
	// the batch flags the same account
	rep := New(Rule{})
	for _, r := range recs {
		if err := rep.Process(r, nil); err != nil {
			t.Fatal(err)
		}
	}
	got := rep.Anomalies()
	if len(got) != 1 || got[0].User != "bob@x.test" || got[0].Severity != "high" {
		t.Fatalf("batch: %v", got)
	}
	// the history's rows add up to every login
	n := 0
	for _, d := range l.TakeDeltas() {
		n += d.IP.Count
	}
	if n != len(recs) {
		t.Errorf("deltas count %d logins, want %d", n, len(recs))
	}
	if d := l.TakeDeltas(); len(d) != 0 {
		t.Errorf("taken twice: %v", d)
	}
	// a commit that fails puts its deltas back: they add up with the
	// logins after, a row per account and address
	l.Process(loginAt("ana@x.test", home, attack.Add(time.Hour)), nil)
	d1 := l.TakeDeltas()
	l.PutBack(d1)
	l.Process(loginAt("ana@x.test", home, attack.Add(2*time.Hour)), nil)
	d2 := l.TakeDeltas()
	if len(d2) != 1 || d2[0].IP.Count != 2 || !d2[0].IP.First.Equal(attack.Add(time.Hour)) || !d2[0].IP.Last.Equal(attack.Add(2*time.Hour)) {
		t.Errorf("put back and taken again: %+v", d2)
	}
}

// TestLiveSeverityRises: a low verdict, then a high one, alert twice
// (with the alert at low); more findings of the same severity do not.
func TestLiveSeverityRises(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	l := NewLive(Rule{Alert: detect.Low})
	var alerts []string
	l.OnAlert = func(a *Account) error { alerts = append(alerts, a.Severity); return nil }
	feed := func(r *record.Record) {
		t.Helper()
		if err := l.Process(r, nil); err != nil {
			t.Fatal(err)
		}
	}
	for d := 0; d < 5; d++ {
		feed(loginAt("c@x.test", home, t0.Add(time.Duration(d)*24*time.Hour)))
	}
	// a trip: a new country a day later, reachable by plane (low)
	trip := t0.Add(5*24*time.Hour + 20*time.Hour)
	feed(loginAt("c@x.test", thiefs[0], trip))
	feed(loginAt("c@x.test", thiefs[0], trip.Add(time.Hour)))
	if fmt.Sprint(alerts) != "[low]" {
		t.Fatalf("alerts %v, want [low]", alerts)
	}
	// then Vietnam 10 minutes later: impossible travel (high)
	feed(loginAt("c@x.test", thiefs[1], trip.Add(time.Hour+10*time.Minute)))
	if fmt.Sprint(alerts) != "[low high]" {
		t.Fatalf("alerts %v, want [low high]", alerts)
	}
	feed(loginAt("c@x.test", thiefs[2], trip.Add(time.Hour+20*time.Minute)))
	if fmt.Sprint(alerts) != "[low high]" {
		t.Fatalf("alerts %v: a third country is no new alert at the same severity", alerts)
	}
	if ch := l.Changed(); len(ch) != 1 || ch[0].User != "c@x.test" || len(ch[0].Countries) != 3 {
		t.Fatalf("changed %v, want c with 3 countries within the window", ch)
	}
}

// TestLiveBounded: a reader that runs for 200 days over many accounts
// keeps, per account, the addresses of the window only, and forgets the
// accounts idle for longer than the window (with a state to give them
// back); without a state, it keeps their places as history rows, until
// older than learn.
func TestLiveBounded(t *testing.T) {
	for _, withState := range []bool{true, false} {
		t.Run(fmt.Sprint("state=", withState), func(t *testing.T) {
			l := NewLive(Rule{})
			asked := 0
			if withState {
				l.History = func(string) ([]detect.Known, error) { asked++; return nil, nil }
			}
			t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			maxIPs, maxKnown := 0, 0
			for day := 0; day < 200; day++ {
				for u := 0; u < 50; u++ {
					if (u+day)%3 == 0 {
						continue // idle days
					}
					user := fmt.Sprintf("u%d@x.test", u+(day/20)*50) // a new set of accounts every 20 days
					for k := 0; k < 4; k++ {
						// a new address every day (a rotating ISP)
						p := home
						p.ip = fmt.Sprintf("10.%d.%d.%d", day%200, u, k)
						if err := l.Process(loginAt(user, p, t0.Add(time.Duration(day)*24*time.Hour+time.Duration(k)*time.Hour)), nil); err != nil {
							t.Fatal(err)
						}
					}
				}
				l.TakeDeltas()
				l.Tick(time.Time{})
				for _, la := range l.accounts {
					maxIPs = max(maxIPs, len(la.acct.byIP))
					maxKnown = max(maxKnown, len(la.known))
				}
			}
			if withState && l.Tracked() > 50 {
				t.Errorf("%d accounts tracked, want at most the 50 active in the window", l.Tracked())
			}
			if !withState && l.Tracked() > 100 {
				t.Errorf("%d accounts tracked without a state, want those with places younger than learn", l.Tracked())
			}
			// 4 addresses a day, within a window of a day (and the day before)
			if maxIPs > 12 {
				t.Errorf("an account held %d addresses, want those of the window", maxIPs)
			}
			// 30 days of learn, 4 a day
			if maxKnown > 4*31 {
				t.Errorf("an account held %d history rows, want those younger than learn", maxKnown)
			}
			if withState && asked == 0 {
				t.Error("History never asked")
			}
		})
	}
}

// TestLiveFailuresThenSuccess: failures from an address, then a login
// from it, alert.
func TestLiveFailuresThenSuccess(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	l := NewLive(Rule{})
	var got []*Account
	l.OnAlert = func(a *Account) error { got = append(got, a); return nil }
	for d := 0; d < 5; d++ {
		if err := l.Process(loginAt("d@x.test", home, t0.Add(time.Duration(d)*24*time.Hour)), nil); err != nil {
			t.Fatal(err)
		}
	}
	at := t0.Add(5*24*time.Hour + 12*time.Hour)
	for i := 0; i < 4; i++ {
		l.Process(&record.Record{Type: record.TypeAuthFailure, IP: thiefs[3].ip, Time: at.Add(time.Duration(i) * time.Minute)}, nil)
	}
	if err := l.Process(loginAt("d@x.test", thiefs[3], at.Add(10*time.Minute)), nil); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("alerts %d, want 1", len(got))
	}
	if !hasReason(got[0], detect.FailuresThenSuccess) {
		t.Errorf("reasons %v: no failures_then_success", got[0].Reasons)
	}
}

// hasReason tells whether the detector is among a's reasons.
func hasReason(a *Account, detector string) bool {
	for _, r := range a.Reasons {
		if r.Detector == detector {
			return true
		}
	}
	return false
}

// BenchmarkLive: the cost of a login on the live path.
func BenchmarkLive(b *testing.B) {
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	l := NewLive(Rule{})
	recs := make([]*record.Record, 1000)
	for i := range recs {
		p := home
		p.ip = fmt.Sprintf("10.0.%d.%d", i/250, i%250)
		recs[i] = loginAt(fmt.Sprintf("u%d@x.test", i%100), p, t0)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r := *recs[i%len(recs)]
		r.Time = t0.Add(time.Duration(i) * time.Second)
		if err := l.Process(&r, nil); err != nil {
			b.Fatal(err)
		}
		if i%10000 == 0 {
			l.TakeDeltas()
			l.Tick(time.Time{})
		}
	}
}

// TestNewClientLiveAndBatch: a login from a new country with a SASL
// mechanism the account never used is medium, with the same words, live
// and in the batch (one by one, and queued by AddrID); the history's rows
// carry the mechanisms.
func TestNewClientLiveAndBatch(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	var recs []*record.Record
	for d := 0; d < 7; d++ {
		for h := 0; h < 3; h++ {
			r := loginAt("bob@x.test", home, t0.Add(time.Duration(d)*24*time.Hour+time.Duration(h)*3*time.Hour))
			r.Method = "PLAIN"
			recs = append(recs, r)
		}
	}
	// Hanoi, 22 hours after the last login at home: a possible flight
	thief := loginAt("bob@x.test", thiefs[1], t0.Add(6*24*time.Hour+6*time.Hour+22*time.Hour))
	thief.Method = "LOGIN"
	recs = append(recs, thief)
	// (live, the account's days are "of history": its detector restarts
	// from the rows of the logins before the window)
	const want = "; new client: SASL LOGIN, where the account used PLAIN only (7 days, 21 logins)"
	check := func(what string, a *Account) {
		t.Helper()
		if a.Severity != "medium" || len(a.Reasons) == 0 || !strings.HasPrefix(a.Reasons[0].Text, "new country VN, c-VN (7 days ") || !strings.HasSuffix(a.Reasons[0].Text, want) {
			t.Errorf("%s: %s %+v", what, a.Severity, a.Reasons)
		}
	}
	l := NewLive(Rule{})
	var alerted []*Account
	l.OnAlert = func(a *Account) error { alerted = append(alerted, a); return nil }
	for _, r := range recs {
		if err := l.Process(r, func(*record.Record) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if len(alerted) != 1 {
		t.Fatalf("live alerts: %d", len(alerted))
	}
	check("live", alerted[0])
	methods := map[string]uint8{}
	for _, d := range l.TakeDeltas() {
		methods[d.IP.IP] |= d.IP.Methods
	}
	if methods[home.ip] != detect.MethodPlain || methods[thiefs[1].ip] != detect.MethodLogin {
		t.Errorf("deltas' methods: %v", methods)
	}
	for _, byID := range []bool{false, true} {
		rep := batchOf(t, recs, byID)
		got := rep.Anomalies()
		if len(got) != 1 {
			t.Fatalf("batch (by id %v): %v", byID, got)
		}
		check(fmt.Sprintf("batch (by id %v)", byID), got[0])
	}
}

// batchOf is a batch report of recs (copies), by their addresses' text,
// or by AddrID as the wrapper's enricher gives them (home's 1, any
// other's 2).
func batchOf(t *testing.T, recs []*record.Record, byID bool) *Report {
	t.Helper()
	rep := New(Rule{})
	for _, r := range recs {
		r := *r
		if byID && r.Type == record.TypeLogin {
			r.AddrID = 1
			if r.IP != home.ip {
				r.AddrID = 2
			}
		}
		if err := rep.Process(&r, nil); err != nil {
			t.Fatal(err)
		}
	}
	return rep
}

// TestLiveKeepsMethods: the live reader's detector, started again every
// window from the account's history rows, keeps the mechanisms the state
// gave a row when the address is used again (fold ORs them, as the state
// does): the owner's laptop (LOGIN) abroad, after a day of her phone
// (PLAIN) at home, is the low new country the batch finds, not a new
// client; and deltas put back keep theirs.
func TestLiveKeepsMethods(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	known := []detect.Known{{Where: detect.Where{IP: home.ip, Country: home.cc, ASN: home.asn, HasLoc: true, Lat: home.lat, Lon: home.lon, AccuracyKM: 10,
		Methods: detect.MethodPlain | detect.MethodLogin}, First: t0.Add(-20 * 24 * time.Hour), Last: t0.Add(-time.Hour), Count: 200}}
	var recs []*record.Record
	for h := 0; h < 16; h++ {
		r := loginAt("bob@x.test", home, t0.Add(time.Duration(h)*3*time.Hour))
		r.Method = "PLAIN"
		recs = append(recs, r)
	}
	trip := loginAt("bob@x.test", place{"85.240.1.1", "PT", 3243, 38.7, -9.1}, t0.Add(60*time.Hour))
	trip.Method = "LOGIN"
	recs = append(recs, trip)
	l := NewLive(Rule{})
	l.History = func(string) ([]detect.Known, error) { return known, nil }
	l.OnAlert = func(a *Account) error { t.Errorf("live: %s %+v", a.Severity, a.Reasons); return nil }
	for _, r := range recs {
		if err := l.Process(r, nil); err != nil {
			t.Fatal(err)
		}
	}
	rep := New(Rule{})
	for _, r := range recs {
		if err := rep.Process(r, nil); err != nil {
			t.Fatal(err)
		}
	}
	rep.Know("bob@x.test", known)
	for _, a := range rep.Anomalies() {
		t.Errorf("batch: %s %+v", a.Severity, a.Reasons)
	}

	// put back, older than the logins since from the same address
	l.OnAlert = nil
	l.TakeDeltas()
	r := loginAt("bob@x.test", home, t0.Add(61*time.Hour))
	r.Method = "LOGIN"
	if err := l.Process(r, nil); err != nil {
		t.Fatal(err)
	}
	l.PutBack([]Delta{{User: "bob@x.test", IP: IP{IP: "192.0.2.99", Count: 1, First: t0, Last: t0, Methods: detect.MethodCRAMMD5}},
		{User: "bob@x.test", IP: IP{IP: home.ip, Count: 1, First: t0.Add(60 * time.Hour), Last: t0.Add(60 * time.Hour), Methods: detect.MethodCRAMMD5}}})
	for _, d := range l.TakeDeltas() {
		if d.IP.Methods&detect.MethodCRAMMD5 == 0 {
			t.Errorf("put back: %s's methods %s", d.IP.IP, detect.MethodNames(d.IP.Methods))
		}
	}
}

// TestHomeDataCentreLiveAndBatch: with country_ignore = BR, a thief in a
// data centre of Brazil (a new network, failures first, then far more
// mail than the account ever sent) is found, live and in a batch, and
// the address it logged in from is shown and recorded: the whitelist
// covers the country, not a burst from a new network there. The owner's
// own whitelisted addresses stay out of the report; the account was
// seen from whitelisted addresses only.
func TestHomeDataCentreLiveAndBatch(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	dc := place{"177.71.200.9", "BR", 16509, -23.5, -46.6}
	var recs []*record.Record
	for d := 0; d < 5; d++ {
		for h := 0; h < 3; h++ {
			recs = append(recs, loginAt("bob@x.test", home, t0.Add(time.Duration(d)*24*time.Hour+time.Duration(h)*3*time.Hour)))
		}
	}
	attack := t0.Add(6 * 24 * time.Hour)
	for i := 0; i < 5; i++ {
		recs = append(recs, &record.Record{Type: record.TypeAuthFailure, IP: dc.ip, Time: attack.Add(time.Duration(i-10) * time.Minute)})
	}
	for i := 0; i < 120; i++ {
		recs = append(recs, loginAt("bob@x.test", dc, attack.Add(time.Duration(i)*5*time.Minute)))
	}
	for _, r := range recs {
		if r.Type == record.TypeLogin {
			r.FilteredBy = "country_ignore: BR"
		}
	}
	check := func(what string, a *Account) {
		t.Helper()
		if a.Severity != "medium" || len(a.Reasons) == 0 || !strings.Contains(a.Reasons[0].Text, "new network AS16509 (BR, c-BR): ") {
			t.Errorf("%s: %s %+v", what, a.Severity, a.Reasons)
		}
		if len(a.IPs) != 1 || a.IPs[0].IP != dc.ip || a.Logins != 120 || len(a.Countries) != 1 || a.Countries[0] != "BR" {
			t.Errorf("%s: shown %d addresses (%v), %d logins, countries %v", what, len(a.IPs), a.IPs, a.Logins, a.Countries)
		}
	}
	l := NewLive(Rule{})
	var alerted []*Account
	l.OnAlert = func(a *Account) error { alerted = append(alerted, a); return nil }
	for _, r := range recs {
		r := *r
		if err := l.Process(&r, func(*record.Record) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if len(alerted) != 1 {
		t.Fatalf("live alerts: %d", len(alerted))
	}
	if a := alerted[0]; a.Severity != "medium" || len(a.IPs) != 1 || a.IPs[0].IP != dc.ip || a.Logins < 10 {
		t.Errorf("live: %s, shown %v, %d logins", a.Severity, a.IPs, a.Logins)
	}
	if n := l.Accounts(); n != 1 { // as the batch's, below: the account shown counts
		t.Errorf("live: Accounts() = %d, want 1", n)
	}
	l.Tick(time.Time{})
	changed := l.Changed()
	if len(changed) != 1 || len(changed[0].IPs) != 1 || changed[0].IPs[0].IP != dc.ip {
		t.Errorf("live: the state's evidence: %v", changed)
	}
	for _, byID := range []bool{false, true} {
		rep := batchOf(t, recs, byID)
		got := rep.Anomalies()
		if len(got) != 1 {
			t.Fatalf("batch (by id %v): %v", byID, got)
		}
		check(fmt.Sprintf("batch (by id %v)", byID), got[0])
		n := 0
		rep.Each(func(a *Account) { n++ })
		if n != 1 || rep.Accounts() != 1 {
			t.Errorf("batch (by id %v): Each saw %d accounts, Accounts() = %d", byID, n, rep.Accounts())
		}
	}
	// at the owner's pace, nothing
	rep := New(Rule{})
	for _, r := range recs[:15+5+3] {
		r := *r
		if err := rep.Process(&r, nil); err != nil {
			t.Fatal(err)
		}
	}
	if got := rep.Anomalies(); len(got) != 0 {
		t.Errorf("three logins from the data centre: %v", got[0].Reasons)
	}
}

// An account forgotten (idle for longer than the window with a state,
// its places older than learn without one) and met again is counted once
// in Accounts, as a batch over the same logins counts it.
func TestLiveAccountsOnce(t *testing.T) {
	for _, withState := range []bool{true, false} {
		t.Run(fmt.Sprint("state=", withState), func(t *testing.T) {
			l := NewLive(Rule{})
			if withState {
				l.History = func(string) ([]detect.Known, error) { return nil, nil }
			}
			t0 := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)
			login := func(user string, day int) {
				t.Helper()
				if err := l.Process(loginAt(user, home, t0.Add(time.Duration(day)*24*time.Hour)), nil); err != nil {
					t.Fatal(err)
				}
				l.TakeDeltas()
				l.Tick(time.Time{})
			}
			login("back@x.test", 0)
			for day := 1; day <= 60; day++ {
				login("daily@x.test", day) // the reader's time goes on
			}
			if _, held := l.accounts["back@x.test"]; held {
				t.Fatalf("back@x.test still held after 60 idle days")
			}
			login("back@x.test", 61)
			if n := l.Accounts(); n != 2 {
				t.Errorf("Accounts() = %d, want 2", n)
			}
		})
	}
}

// TestSharedLiveAndBatch: [DETECT] shared (Rule.Shared) weighs an
// account's impossible trip low in the live reader as in the batch, by
// its address in any case, its domain or its local part; an account not
// named keeps it high.
func TestSharedLiveAndBatch(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	var recs []*record.Record
	for _, u := range []string{"info@x.test", "Bob@X.test"} {
		for d := 0; d < 5; d++ {
			recs = append(recs, loginAt(u, home, t0.Add(time.Duration(d)*24*time.Hour)))
		}
		// Budapest 30 minutes after home: out of reach
		recs = append(recs, loginAt(u, home, t0.Add(5*24*time.Hour)), loginAt(u, thiefs[0], t0.Add(5*24*time.Hour+30*time.Minute)))
	}
	sev := func(accounts []*Account) map[string]string {
		out := map[string]string{}
		for _, a := range accounts {
			out[a.User] = a.Severity
			if a.Severity == "low" && (len(a.Reasons) == 0 || !strings.Contains(a.Reasons[0].Text, "weighed low: the account is shared ([DETECT] shared)")) {
				t.Errorf("%s: %+v", a.User, a.Reasons)
			}
		}
		return out
	}
	for _, c := range []struct {
		shared []string
		want   map[string]string
	}{
		{nil, map[string]string{"info@x.test": "high", "bob@x.test": "high"}},
		{[]string{"info@"}, map[string]string{"info@x.test": "low", "bob@x.test": "high"}},
		{[]string{"BOB@x.TEST"}, map[string]string{"info@x.test": "high", "bob@x.test": "low"}},
		{[]string{"@X.test"}, map[string]string{"info@x.test": "low", "bob@x.test": "low"}},
		{[]string{"bob@", "info@y.test", "@x.tes"}, map[string]string{"info@x.test": "high", "bob@x.test": "low"}},
	} {
		rule := Rule{Alert: detect.Low, Shared: c.shared}
		l := NewLive(rule)
		var alerted []*Account
		l.OnAlert = func(a *Account) error { alerted = append(alerted, a); return nil }
		for _, r := range recs {
			if err := l.Process(r, func(*record.Record) error { return nil }); err != nil {
				t.Fatal(err)
			}
		}
		// live: the last alert of each account is its verdict
		last := map[string]*Account{}
		for _, a := range alerted {
			last[a.User] = a
		}
		var live []*Account
		for _, a := range last {
			live = append(live, a)
		}
		if got := sev(live); fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("shared %q, live: %v, want %v", c.shared, got, c.want)
		}
		rep := New(rule)
		for _, r := range recs {
			r := *r
			if err := rep.Process(&r, nil); err != nil {
				t.Fatal(err)
			}
		}
		if got := sev(rep.Anomalies()); fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("shared %q, batch: %v, want %v", c.shared, got, c.want)
		}
	}
}
