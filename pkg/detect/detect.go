// Package detect tells a thief from a traveller. It learns each account's
// usual places (countries and networks, from its history or, without one,
// from its first day in the logs read) and judges each login against them:
//
//   - new place: a country the account has not used (a network alone is
//     noted, not alerted: phones and friends' wifi change networks daily),
//     and either sending far more than the account ever did (a burst);
//   - impossible travel: two logins farther apart than a plane flies in
//     the time between them (the distance less both locations' accuracy,
//     over the time), unless both ends are usual places, or one is a
//     place of a usual country located vaguely (a phone's carrier) whose
//     address was not held across two new countries (a line), nor in
//     the range of a network where the account's addresses last all day
//     (its line's: lineNet);
//   - failures, then success: failed logins from an address, then a
//     successful one from it, from a new place;
//   - many places: several new countries or networks within the window,
//     as a botnet on a brand-new account shows.
//
// A login from a new place with a SASL mechanism the account never used
// from its usual places, once those showed its clients' mechanisms for
// long enough, corroborates the place: a low finding is then medium (see
// client). A new mechanism alone is no finding.
//
// A place is usual once the account has used it for longer than the window
// (a day by default), so that a thief's country does not become usual
// while the theft goes on, and a traveller's does within a day; and until
// it is unused for longer than Config.Learn. A whitelisted login (trusted)
// is always usual and never a finding. An address without a country is
// unknown, never foreign: it is an address, not a country.
//
// The same code serves a batch (the report replays each account's logins in
// time order at the end) and a live reader (which feeds logins as they
// come): an Account takes events one at a time, in amortised constant time
// per event, and its Verdict is the findings so far.
package detect

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Severity orders verdicts. The zero value is None: nothing to say.
type Severity int8

const (
	None   Severity = iota
	Low             // worth a look (a new country with a possible trip): not alerted by default
	Medium          // likely stolen
	High            // stolen: impossible travel, a botnet, a guessed password
)

var severityNames = [...]string{"none", "low", "medium", "high"}

func (s Severity) String() string {
	if s < None || s > High {
		return "severity(" + strconv.Itoa(int(s)) + ")"
	}
	return severityNames[s]
}

// MarshalText writes the name ("high").
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	*s = v
	return err
}

// ParseSeverity reads "low", "medium" or "high" (or "none").
func ParseSeverity(s string) (Severity, error) {
	for i, n := range severityNames {
		if strings.EqualFold(strings.TrimSpace(s), n) {
			return Severity(i), nil
		}
	}
	return None, fmt.Errorf("%q is not a severity (low, medium or high)", s)
}

// Detector names, as the reasons carry them.
const (
	NewPlace            = "new_place"
	ImpossibleTravel    = "impossible_travel"
	FailuresThenSuccess = "failures_then_success"
	ManyPlaces          = "many_places"
)

// Config holds the detectors' settings ([DETECT] in config.ini). The zero
// value of a field means its default.
type Config struct {
	// Learn: a place unused for longer is forgotten (default 30 days).
	Learn time.Duration
	// FirstDay: an account without history learns its places from its
	// first logins in the logs read, for this long (default 24h).
	FirstDay time.Duration
	// Window: a place is new until used for longer; many places are
	// counted within it; failures count within it (default 24h).
	Window time.Duration
	// MaxSpeed in km/h: faster is impossible travel (default 1000).
	MaxSpeed float64
	// MinTravelKM: trips shorter than this (after the accuracy radii) are
	// never impossible: a country's networks geolocate to their hubs
	// (default 500).
	MinTravelKM float64
	// Failures: failed logins from an address before a success from it
	// (default 3; -1 turns the detector off).
	Failures int
	// ManyCountries, ManyNetworks: new countries or networks within the
	// window that make a botnet (defaults 3 and 5; -1 turns one off).
	ManyCountries, ManyNetworks int
	// Burst: logins from a new country (or a new network) within the
	// window that, when also five times the account's usual logins in a
	// window, make the new place medium: a thief sending mail, not a
	// traveller (default 10; -1 turns it off).
	Burst int
	// LineHold: an address of a usual place located vaguely held this
	// long, just before or after a login from a new place out of its
	// reach, is a line (default 3h; see pinUsual); and a range of a
	// network whose addresses the account held this long, each, none
	// giving way to another sooner, is its line (see lineNet).
	LineHold time.Duration
	// SharedDays: an account whose own usual places were in use at once,
	// out of reach of each other, on this many days is shared, and its
	// impossible trips are weighed low (default 1; see shared).
	SharedDays int
	// FamiliarSite: the least accounts of a site for the networks none
	// of them used for long to say something (default 100; see burst).
	FamiliarSite int
	// Scattered: new countries within ScatteredSpan, each used for less
	// than the window and each far from the one before, that make a
	// thief's "new country a night" (default 4; -1 turns it off; see
	// countScattered). ScatteredSpan: default 7 days.
	Scattered     int
	ScatteredSpan time.Duration
	// LoneFar in km: a login from a new country this far or farther from
	// the account's login from a usual country just before, and the only
	// one from there for the window after, is medium (default 5000; -1
	// turns it off; see maybeLone).
	LoneFar float64
}

// Defaults fills the fields left zero.
func (c Config) Defaults() Config {
	if c.Learn <= 0 {
		c.Learn = 30 * 24 * time.Hour
	}
	if c.FirstDay <= 0 {
		c.FirstDay = 24 * time.Hour
	}
	if c.Window <= 0 {
		c.Window = 24 * time.Hour
	}
	if c.MaxSpeed <= 0 {
		c.MaxSpeed = 1000
	}
	if c.MinTravelKM <= 0 {
		c.MinTravelKM = 500
	}
	if c.Failures == 0 {
		c.Failures = 3
	}
	if c.ManyCountries == 0 {
		c.ManyCountries = 3
	}
	if c.ManyNetworks == 0 {
		c.ManyNetworks = 5
	}
	if c.Burst == 0 {
		c.Burst = 10
	}
	if c.LineHold <= 0 {
		c.LineHold = lineHold
	}
	if c.SharedDays <= 0 {
		c.SharedDays = sharedDays
	}
	if c.FamiliarSite <= 0 {
		c.FamiliarSite = familiarSite
	}
	if c.Scattered == 0 {
		c.Scattered = scattered
	}
	if c.ScatteredSpan <= 0 {
		c.ScatteredSpan = scatteredSpan
	}
	if c.LoneFar == 0 {
		c.LoneFar = loneFarKM
	}
	return c
}

// Where is an address with what enrichment found of it.
type Where struct {
	IP         string
	Country    string // ISO code; "" unknown
	City       string
	ASN        uint32 // 0 unknown
	Org        string
	HasLoc     bool
	Lat, Lon   float64
	AccuracyKM int
	// Trusted: the whitelist covers the address (country_ignore,
	// ip_ignore, private): a usual place for every account, never a
	// finding, but for Home.
	Trusted bool
	// Home: Trusted by its country alone (country_ignore: where the
	// site's people are). The country is usual for every account; its
	// network is not, by that: a new network there sending far more than
	// the account ever did (burst), or logging in after failures from its
	// address, is found as in any usual country (a thief in a data
	// centre of the home country), whatever the whitelist says of the
	// country.
	Home bool
	// Relay: the whitelist covers the address as a provider's server
	// (pattern_ip, pattern_org: Gmail's "send mail as", Microsoft's
	// cloud) that logs in for the user from wherever it is: no finding,
	// and not the user's place either (neither usual nor a trip's end).
	Relay bool
	// Methods: the SASL mechanisms of the logins (MethodBit; a history
	// row's: all its logins'); 0 unknown.
	Methods uint8
}

// The SASL mechanisms, as bits of Where.Methods: a person's mail client
// keeps one (Thunderbird and Apple Mail PLAIN, Outlook LOGIN); a thief's
// tool may use another.
const (
	MethodPlain uint8 = 1 << iota
	MethodLogin
	MethodCRAMMD5
	MethodDigestMD5
	MethodSCRAM // SCRAM-SHA-1, SCRAM-SHA-256, their -PLUS
	MethodOAuth // XOAUTH2, OAUTHBEARER
	MethodNTLM  // NTLM, GSSAPI, GSS-SPNEGO
	MethodOther
)

var methodNames = [8]string{"PLAIN", "LOGIN", "CRAM-MD5", "DIGEST-MD5", "SCRAM", "OAUTH", "NTLM/GSSAPI", "other"}

// MethodBit is the bit of a SASL mechanism's name (any case); 0 for "".
func MethodBit(name string) uint8 {
	switch name {
	case "":
		return 0
	case "PLAIN":
		return MethodPlain
	case "LOGIN":
		return MethodLogin
	case "CRAM-MD5":
		return MethodCRAMMD5
	case "DIGEST-MD5":
		return MethodDigestMD5
	case "XOAUTH2", "OAUTHBEARER":
		return MethodOAuth
	case "NTLM", "GSSAPI", "GSS-SPNEGO":
		return MethodNTLM
	}
	if strings.HasPrefix(name, "SCRAM-") {
		return MethodSCRAM
	}
	if u := strings.ToUpper(name); u != name {
		return MethodBit(u)
	}
	return MethodOther
}

// MethodList is a mask's mechanisms, by name, in the order of the bits
// (nil for 0: unknown).
func MethodList(mask uint8) []string {
	var ns []string
	for i, n := range methodNames {
		if mask&(1<<i) != 0 {
			ns = append(ns, n)
		}
	}
	return ns
}

// MethodNames is a mask's mechanisms in words: "PLAIN", "PLAIN and LOGIN".
func MethodNames(mask uint8) string {
	ns := MethodList(mask)
	switch len(ns) {
	case 0:
		return "none"
	case 1:
		return ns[0]
	}
	return strings.Join(ns[:len(ns)-1], ", ") + " and " + ns[len(ns)-1]
}

// Known is a place from the account's history: an address it used from
// First to Last (an earlier run's, from the state).
type Known struct {
	Where
	First, Last time.Time
	Count       int64
	// Cut: the row is the history as it was at Last, a time its address
	// was in use through, not a login (the history read as of a run's or
	// a reader's start, of an address used since): two such rows end at
	// the same time, and their places were not in use at once then
	Cut bool
}

// Reason is one detector's finding, in words.
type Reason struct {
	Detector string   `json:"detector"`
	Severity Severity `json:"severity"`
	Text     string   `json:"text"`
	// At is the log time of the login that made the finding.
	At time.Time `json:"at"`
	// IP is that login's address.
	IP string `json:"ip,omitempty"`
}

// Verdict is an account's severity with its reasons, the most severe first.
type Verdict struct {
	Severity Severity `json:"severity"`
	Reasons  []Reason `json:"reasons"`
}

// String is the verdict in one line: "high: impossible travel …; new country RU".
func (v Verdict) String() string {
	if len(v.Reasons) == 0 {
		return v.Severity.String()
	}
	var b strings.Builder
	b.WriteString(v.Severity.String())
	b.WriteString(": ")
	for i, r := range v.Reasons {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(r.Text)
	}
	return b.String()
}

// Failures remembers failed logins by address, for all accounts (a thief
// may guess several accounts' passwords from one address). Safe for one
// goroutine.
type Failures struct {
	window time.Duration
	byIP   map[string]*failRuns
	last   *failRuns // the last address added to: bots try a few in a row
	lastIP string
	// Deferred: Add only notes the failure, and Keep (or the first
	// Before) files them: a batch files only the addresses that logged
	// in too, out of the bots' thousands. A failure noted is 40 bytes
	// without a pointer: the garbage collector does not look at them.
	Deferred bool
	pending  [][]failure // in blocks of 4096: no copying as they grow
	loc      *time.Location
	// Record: Keep also keeps the runs of all the failures noted (Noted),
	// of every address, for a state to remember: an address that did
	// not log in yet may in a later run's logs.
	Record bool
	noted  []FailureRun
	// own: the runs that this reader's mail server recorded in earlier
	// runs (KnownOwn), by address: a failure read again within one (a
	// log read again, or read from a point before the last run's end) is
	// counted once, and not recorded again
	own map[[16]byte][]failSpan
}

// failSpan is a stored run's first and last failure, in Unix nanoseconds.
type failSpan struct{ first, last int64 }

// FailureRun is a run of failed logins from an address, each within
// minutes of the one before: what a state keeps of them (Noted, Known).
type FailureRun struct {
	IP          string
	First, Last time.Time
	N           int
	// Source: the instance that recorded the run, when a state gave it
	// ("": this reader's); the detectors do not read it, a reader that
	// asks the state again tells a run grown from a new one by it
	Source string
}

type failure struct {
	addr        [16]byte
	first, last int64 // Unix nanoseconds
	n           int64
}

type failRuns struct{ runs []failRun }

// failRun is a run of failures from one address, each within failGap of
// the one before.
type failRun struct {
	first, last time.Time
	n           int
}

// failGap: failures closer than this make one run (a bot's attempts come
// seconds apart): memory grows with the runs, not the failures.
const failGap = 5 * time.Minute

// FailGap is the most time between two failures of one run (FailureRun).
const FailGap = failGap

// NewFailures makes the failures' memory for cfg's window.
func NewFailures(cfg Config) *Failures {
	cfg = cfg.Defaults()
	return &Failures{window: cfg.Window, byIP: map[string]*failRuns{}}
}

// Add records n failed logins from ip, the first at first and the last at
// last (the same time for one).
func (f *Failures) Add(ip string, first, last time.Time, n int) {
	if f.Deferred || len(f.own) > 0 {
		if a, err := netip.ParseAddr(ip); err == nil {
			if f.covered(a.As16(), first.UnixNano(), last.UnixNano()) {
				return
			}
			if !f.Deferred {
				f.add(ip, first, last, n)
				return
			}
			f.loc = first.Location()
			if k := len(f.pending) - 1; k < 0 || len(f.pending[k]) == cap(f.pending[k]) {
				f.pending = append(f.pending, make([]failure, 0, 4096))
			}
			k := len(f.pending) - 1
			f.pending[k] = append(f.pending[k], failure{a.As16(), first.UnixNano(), last.UnixNano(), int64(n)})
			return
		}
	}
	f.add(ip, first, last, n)
}

// canonical is an address as netip writes it (IPv4-mapped IPv6 as IPv4),
// so that a failure and a login match however their producer spelled them.
func canonical(ip string) string {
	if a, err := netip.ParseAddr(ip); err == nil {
		if s := a.Unmap().String(); s != ip {
			return s
		}
	}
	return ip
}

// Keep files the failures noted (Deferred) from the addresses ips (nil:
// all), in the order added, and drops the others for good: a batch calls
// it once, when all was read (a reader that goes on calls Add without
// Deferred).
func (f *Failures) Keep(ips []string) {
	var want map[[16]byte]bool
	if ips != nil {
		want = make(map[[16]byte]bool, len(ips))
		for _, ip := range ips {
			if a, err := netip.ParseAddr(ip); err == nil {
				want[a.As16()] = true
			}
		}
	}
	blocks := f.pending
	f.pending = nil
	if len(f.own) > 0 {
		for i, b := range blocks {
			blocks[i] = slices.DeleteFunc(b, func(p failure) bool { return f.covered(p.addr, p.first, p.last) })
		}
	}
	if f.Record {
		f.note(blocks)
	}
	for _, b := range blocks {
		for _, p := range b {
			if want == nil || want[p.addr] {
				f.add(netip.AddrFrom16(p.addr).Unmap().String(), time.Unix(0, p.first).In(f.loc), time.Unix(0, p.last).In(f.loc), int(p.n))
			}
		}
	}
}

// note keeps the runs of the failures noted in blocks, by address, in
// the order noted (Noted).
func (f *Failures) note(blocks [][]failure) {
	gap := int64(min(f.window, failGap))
	last := map[[16]byte]int{} // an address's last run in noted
	for _, b := range blocks {
		for _, p := range b {
			if k, ok := last[p.addr]; ok {
				r := &f.noted[k]
				if l := r.Last.UnixNano(); p.first >= l && p.first-l <= gap {
					if p.last > l {
						r.Last = time.Unix(0, p.last).In(f.loc)
					}
					r.N += int(p.n)
					continue
				}
			}
			last[p.addr] = len(f.noted)
			f.noted = append(f.noted, FailureRun{IP: netip.AddrFrom16(p.addr).Unmap().String(),
				First: time.Unix(0, p.first).In(f.loc), Last: time.Unix(0, p.last).In(f.loc), N: int(p.n)})
		}
	}
}

// Noted returns the runs of the failures that Add noted (Deferred) of
// every address, once Keep filed them, when Record was set before: the
// failures read, for a state to remember. Not those Known gave.
func (f *Failures) Noted() []FailureRun { return f.noted }

// Known files the failures a state remembers from earlier runs (Noted
// then), whatever Deferred: failures before the logins read, to pair
// with them (failures, then success).
func (f *Failures) Known(runs []FailureRun) {
	for _, r := range runs {
		if r.IP == "" || r.N <= 0 || r.First.IsZero() {
			continue
		}
		last := r.Last
		if last.Before(r.First) {
			last = r.First
		}
		f.add(r.IP, r.First, last, r.N)
	}
}

// KnownOwn files, as Known, the failures that this reader's own mail
// server recorded in earlier runs, and remembers them: a failure read
// now that lies within one of them, from the same address, is one read
// again (the log given again, or read from before where the last run
// ended), neither counted again nor recorded (Noted). Call it before the
// failures are filed (Keep).
func (f *Failures) KnownOwn(runs []FailureRun) {
	f.Known(runs)
	for _, r := range runs {
		a, err := netip.ParseAddr(r.IP)
		if err != nil || r.N <= 0 || r.First.IsZero() {
			continue
		}
		if f.own == nil {
			f.own = map[[16]byte][]failSpan{}
		}
		k := a.As16()
		f.own[k] = append(f.own[k], failSpan{r.First.UnixNano(), max(r.Last.UnixNano(), r.First.UnixNano())})
	}
}

// covered tells whether failures from addr between first and last (Unix
// nanoseconds) lie within a run the mail server recorded before (KnownOwn).
func (f *Failures) covered(addr [16]byte, first, last int64) bool {
	if len(f.own) == 0 {
		return false
	}
	// (As16 of an IPv4 address is its IPv4-mapped form: 1.2.3.4 and
	// ::ffff:1.2.3.4 are one key)
	for _, sp := range f.own[addr] {
		if first >= sp.first && last <= sp.last {
			return true
		}
	}
	return false
}

func (f *Failures) add(ip string, first, last time.Time, n int) {
	ip = canonical(ip)
	fr := f.last
	if fr == nil || ip != f.lastIP {
		if fr = f.byIP[ip]; fr == nil {
			ip = strings.Clone(ip)
			fr = &failRuns{}
			f.byIP[ip] = fr
		}
		f.last, f.lastIP = fr, ip
	}
	if k := len(fr.runs) - 1; k >= 0 && !first.Before(fr.runs[k].last) && first.Sub(fr.runs[k].last) <= min(f.window, failGap) {
		fr.runs[k].last = last
		fr.runs[k].n += n
		return
	}
	fr.runs = append(fr.runs, failRun{first, last, n})
}

// Before counts the failures from ip in the window before t.
func (f *Failures) Before(ip string, t time.Time) int {
	if len(f.pending) > 0 {
		f.Keep(nil)
	}
	ip = canonical(ip)
	n := 0
	from := t.Add(-f.window)
	fr := f.byIP[ip]
	if fr == nil {
		return 0
	}
	for _, r := range fr.runs {
		if r.last.Before(from) || !r.first.Before(t) {
			continue
		}
		n += r.n
	}
	return n
}

// Forget drops the failures older than the window before t (for a reader
// that runs for good).
func (f *Failures) Forget(t time.Time) {
	from := t.Add(-f.window)
	f.last, f.lastIP = nil, ""
	for ip, fr := range f.byIP {
		k := 0
		for k < len(fr.runs) && fr.runs[k].last.Before(from) {
			k++
		}
		if k == len(fr.runs) {
			delete(f.byIP, ip)
		} else if k > 0 {
			fr.runs = slices.Clone(fr.runs[k:])
		}
	}
}

// Len is the number of addresses remembered.
func (f *Failures) Len() int { return len(f.byIP) }

// Site is what the accounts of one mail server share: the failed logins by
// address, and the places that many of its accounts use, usual for all
// (the company's country and its people's networks, even without
// country_ignore).
type Site struct {
	Failures  *Failures            // nil: failures are not judged
	countries map[string]time.Time // common since
	networks  map[uint32]time.Time
	exits     map[uint32]bool // common networks that are exits (see Census)
	// exits known by their addresses: of these, only the gates are exits
	// (see Common.Gated)
	gated map[uint32]bool
	// exit addresses: prefixes (IPv4 /24, IPv6 /48) that several
	// accounts use, each for long, from elsewhere (see Census), since when
	gates map[netip.Prefix]time.Time
	// familiar: the networks that some account used for longer than the
	// window (nil: not counted, all familiar)
	familiar map[uint32]bool
	// familiarBy: of those, by whom and since when (Common.FamiliarBy)
	familiarBy map[uint32][]FamiliarUse
	// lines: the ranges that the site's accounts use as lines
	// (Common.Lines)
	lines map[netFam]bool
}

// lineRange: w is in a range that the site's accounts use as lines
// (Common.Lines).
func (s *Site) lineRange(w *Where) bool {
	if s == nil || len(s.lines) == 0 {
		return false
	}
	f, ok := netKey(w)
	return ok && s.lines[f]
}

// unfamiliar: no account of the site used the network for long (a
// colleague's hotel, a branch, a customer's site are familiar; a thief's
// network, used for hours, is not). Unknown (0), or not counted: familiar.
func (s *Site) unfamiliar(asn uint32) bool { return s.familiar != nil && asn != 0 && !s.familiar[asn] }

// unfamiliarToOthers: no account of the site but user (when it is named)
// had used the network for long at t: a thief who stays more than the
// window on his own network does not make it familiar to his victim, nor,
// when a spray found several passwords, to his other victims (live, the
// census at his first logins knows none of their stays: the batch, whose
// census holds the whole log, judges as of then too).
func (s *Site) unfamiliarToOthers(asn uint32, user string, t time.Time) bool {
	if s.unfamiliar(asn) {
		return true
	}
	uses := s.familiarBy[asn]
	if s.familiar == nil || asn == 0 || user == "" || len(uses) == 0 {
		return false
	}
	for _, u := range uses {
		if u.User != user {
			return t.Before(u.Since)
		}
	}
	return true // this account's alone
}

// gatePrefix is the prefix of ip that Census counts as one gateway: its
// /24 (IPv4) or /48 (IPv6): a VPN's or an office's exit addresses are
// next to each other. It is also the range of a burst's turns (see turn):
// a hotel behind a few addresses, or a site's IPv6 addresses, are of one
// range; a dual-stack line's IPv4 and IPv6 addresses are two ranges of
// one client, and so IPv6 ranges are only compared with IPv6 ranges (a
// turn is from the last range of the address's family).
func gatePrefix(ip string) (netip.Prefix, bool) {
	ad, err := netip.ParseAddr(ip)
	if err != nil {
		return netip.Prefix{}, false
	}
	ad = ad.Unmap().WithZone("")
	bits := 24
	if ad.Is6() {
		bits = 48
	}
	p, err := ad.Prefix(bits)
	return p, err == nil
}

// gate: ip is in an exit prefix (at t; zero t: ever).
func (s *Site) gate(ip string, t time.Time) bool {
	if len(s.gates) == 0 {
		return false
	}
	p, ok := gatePrefix(ip)
	if !ok {
		return false
	}
	since, ok := s.gates[p]
	return ok && (t.IsZero() || !t.Before(since))
}

// commonCountry: the country was common at t.
func (s *Site) commonCountry(cc string, t time.Time) bool {
	since, ok := s.countries[cc]
	return ok && !t.Before(since)
}

// commonNetwork: the network was common at t.
func (s *Site) commonNetwork(asn uint32, t time.Time) bool {
	since, ok := s.networks[asn]
	return ok && !t.Before(since)
}

// exit: w's network was common at t, as an exit, and w is one of its
// exit's addresses (all of them, unless the exit is known by its gates).
func (s *Site) exit(w *Where, t time.Time) bool {
	return w.ASN != 0 && s.exits[w.ASN] && s.commonNetwork(w.ASN, t) && (!s.gated[w.ASN] || s.gate(w.IP, time.Time{}))
}

// exitNet: w's network is an exit (whenever it became common), and w is
// one of its exit's addresses; a gate's address is one by itself.
func (s *Site) exitNet(w *Where) bool {
	return w.ASN != 0 && s.exits[w.ASN] && (!s.gated[w.ASN] || s.gate(w.IP, time.Time{}))
}

// NewSite makes a site, with a Failures for cfg's window.
func NewSite(cfg Config) *Site { return &Site{Failures: NewFailures(cfg)} }

// Common is what the accounts of a site share: the countries and the
// networks that many of them use, and, among those networks, the exits.
type Common struct {
	Countries []string
	Networks  []uint32
	// Since: when each became common (the least-th account's use
	// became long); zero: from the start. By country code, and by "AS"
	// and the number for networks.
	Since map[string]time.Time
	// Exits are common networks that their users reach from elsewhere:
	// a VPN's exits, a provider's cloud, located where their users are
	// not. A login from one is usual, but no trip's end, and its country
	// is not the account's.
	Exits []uint32
	// Gates are exits found by address rather than by network: a
	// prefix (IPv4 /24, IPv6 /48) that at least three accounts use,
	// each for longer than the window, most of them from another
	// country (a corporate VPN's exit on a provider whose network is
	// too little used on the site to be common), with when the third
	// one's use became long.
	Gates map[netip.Prefix]time.Time
	// Familiar: the networks that an account used for longer than the
	// window, not as a botnet's victim (nil: not counted).
	Familiar []uint32
	// FamiliarBy: for each network of Familiar, the first two accounts
	// whose use of it became long, the earliest first.
	FamiliarBy map[uint32][]FamiliarUse
	// Gated: exits that hold gates: their exit is the gates, and their
	// other addresses are lines of their own country (a provider that
	// sells a company's VPN its exit in Zurich, and homes and hotels
	// their lines there).
	Gated []uint32
	// Lines: the ranges of networks (IPv4 /12, IPv6 /20, as Account's
	// lineNet) that the site's accounts use as lines: three accounts or
	// more held two addresses there (and half of theirs there at least),
	// each for Config.LineHold or longer, and never went from one to
	// another within LineHold; and the accounts that did (a phone's
	// carrier) are at most one for every four of those (an account that
	// did neither, logging in seldom, counts for none). An address
	// there, located vaguely (a home line's
	// provider places many of its ranges within 100 or 200 km), is no
	// roaming phone's, even for an account that logs in too seldom to
	// show it holds its addresses: a trip from or to it is judged.
	Lines []LineRange
}

// LineRange is a range of a network's addresses (Common.Lines).
type LineRange struct {
	ASN    uint32
	Prefix netip.Prefix
}

// FamiliarUse: an account's use of a network became long (longer than
// the window) at Since: its first login there plus the window.
type FamiliarUse struct {
	User  string
	Since time.Time
}

func asKey(n uint32) string { return "AS" + strconv.FormatUint(uint64(n), 10) }

// Common returns the places usual for every account.
func (s *Site) Common() Common {
	c := Common{Since: map[string]time.Time{}}
	for cc, t := range s.countries {
		c.Countries = append(c.Countries, cc)
		c.Since[cc] = t
	}
	for n, t := range s.networks {
		c.Networks = append(c.Networks, n)
		c.Since[asKey(n)] = t
	}
	for n := range s.exits {
		c.Exits = append(c.Exits, n)
	}
	if len(s.gates) > 0 {
		c.Gates = maps.Clone(s.gates)
	}
	if s.familiar != nil {
		c.Familiar = slices.Sorted(maps.Keys(s.familiar))
		c.FamiliarBy = cloneFamiliarBy(s.familiarBy)
	}
	c.Gated = slices.Sorted(maps.Keys(s.gated))
	for f := range s.lines {
		c.Lines = append(c.Lines, LineRange{f.asn, f.pfx})
	}
	sortLines(c.Lines)
	slices.Sort(c.Countries)
	slices.Sort(c.Networks)
	slices.Sort(c.Exits)
	return c
}

// SetCommon sets the places usual for every account (see Census).
func (s *Site) SetCommon(c Common) {
	s.countries, s.networks, s.exits = map[string]time.Time{}, map[uint32]time.Time{}, map[uint32]bool{}
	for _, cc := range c.Countries {
		s.countries[cc] = c.Since[cc]
	}
	for _, n := range c.Networks {
		s.networks[n] = c.Since[asKey(n)]
	}
	for _, n := range c.Exits {
		s.exits[n] = true
	}
	s.gates = maps.Clone(c.Gates)
	s.gated = nil
	for _, n := range c.Gated {
		if s.gated == nil {
			s.gated = map[uint32]bool{}
		}
		s.gated[n] = true
	}
	s.lines = nil
	for _, l := range c.Lines {
		if s.lines == nil {
			s.lines = map[netFam]bool{}
		}
		s.lines[netFam{l.ASN, l.Prefix}] = true
	}
	s.familiar, s.familiarBy = nil, nil
	if c.Familiar != nil {
		s.familiar = make(map[uint32]bool, len(c.Familiar))
		for _, n := range c.Familiar {
			s.familiar[n] = true
		}
		s.familiarBy = cloneFamiliarBy(c.FamiliarBy)
	}
}

func cloneFamiliarBy(m map[uint32][]FamiliarUse) map[uint32][]FamiliarUse {
	if m == nil {
		return nil
	}
	out := make(map[uint32][]FamiliarUse, len(m))
	for n, us := range m {
		out[n] = slices.Clone(us)
	}
	return out
}

// Census counts the accounts that use each place, for Site.SetCommon: a
// place is common when at least three accounts, and one in fifty of all,
// have each used it for longer than the window (a botnet uses an account
// for hours, from places of its own). A common network is an exit when
// most of its users use another country through other networks, each for
// longer than the window too (a habit: a thief's moment abroad, even on
// half the accounts at once, makes no home network an exit), and
// fewer than half use its own country through another (a VPN's exit in
// Amsterdam for a company in Munich; the home ISPs of a country are used
// along with its other networks, an office's alone); a country is common
// only through networks that are not exits.
type Census struct {
	accounts map[string]bool
	uses     map[censusKey]map[string]*use
	gates    map[netip.Prefix]*gateUse
	// addrs: each account's addresses in each range (netFam), from their
	// first use to their last (Common.Lines)
	addrs map[netFam]map[string]map[[16]byte]*use
}

// gateUse: who used a prefix (in the order added: an account's
// addresses come together, merged), and from which country it is located.
type gateUse struct {
	cc    string
	asn   uint32
	users []userUse
}

type userUse struct {
	user string
	use
}

type censusKey struct {
	cc  string
	asn uint32
}

type use struct{ first, last time.Time }

func (u *use) widen(first, last time.Time) {
	if first.Before(u.first) {
		u.first = first
	}
	if last.After(u.last) {
		u.last = last
	}
}

// Add records that user used w from first to last.
func (c *Census) Add(user string, w *Where, first, last time.Time) {
	if c.accounts == nil {
		c.accounts, c.uses = map[string]bool{}, map[censusKey]map[string]*use{}
	}
	c.accounts[user] = true
	if w.Country == "" && w.ASN == 0 {
		return
	}
	if p, ok := gatePrefix(w.IP); ok && w.Country != "" {
		if c.gates == nil {
			c.gates = map[netip.Prefix]*gateUse{}
		}
		g := c.gates[p]
		if g == nil {
			g = &gateUse{cc: strings.Clone(w.Country), asn: w.ASN}
			c.gates[p] = g
		}
		if k := len(g.users) - 1; k >= 0 && g.users[k].user == user {
			g.users[k].widen(first, last)
		} else {
			g.users = append(g.users, userUse{user, use{first, last}})
		}
	}
	if f, ok := netKey(w); ok {
		if key, ok := heldKey(w.IP); ok {
			if c.addrs == nil {
				c.addrs = map[netFam]map[string]map[[16]byte]*use{}
			}
			byUser := c.addrs[f]
			if byUser == nil {
				byUser = map[string]map[[16]byte]*use{}
				c.addrs[f] = byUser
			}
			as := byUser[user]
			if as == nil {
				as = map[[16]byte]*use{}
				byUser[user] = as
			}
			if u := as[key]; u != nil {
				u.widen(first, last)
			} else {
				as[key] = &use{first, last}
			}
		}
	}
	k := censusKey{w.Country, w.ASN}
	m := c.uses[k]
	if m == nil {
		m = map[string]*use{}
		c.uses[k] = m
	}
	if u := m[user]; u != nil {
		u.widen(first, last)
	} else {
		m[user] = &use{first, last}
	}
}

// Common returns the common places, in time linear in what was added.
func (c *Census) Common(cfg Config) Common {
	cfg = cfg.Defaults()
	least := max(3, (len(c.accounts)+49)/50)
	merge := func(m map[string]*use, user string, u *use) {
		if b := m[user]; b != nil {
			b.widen(u.first, u.last)
		} else {
			m[user] = &use{u.first, u.last}
		}
	}
	// since: when the least-th account's use became long (its first
	// plus the window), or false when fewer than least were long
	since := func(users map[string]*use) (time.Time, bool) {
		var ts []time.Time
		for _, u := range users {
			if u.last.Sub(u.first) > cfg.Window {
				ts = append(ts, u.first.Add(cfg.Window))
			}
		}
		if len(ts) < least {
			return time.Time{}, false
		}
		slices.SortFunc(ts, func(x, y time.Time) int { return x.Compare(y) })
		return ts[least-1], true
	}
	byNet := map[uint32]map[string]*use{} // per network, per user: merged
	where := map[uint32]map[string]bool{} // a network's countries
	type userCC struct {
		user string
		cc   string
	}
	perCC := map[userCC]int{}  // keys of a user in a country
	withCC := map[string]int{} // long uses of a user with a country
	longCC := map[userCC]int{} // long uses of a user in a country
	for k, m := range c.uses {
		if k.asn != 0 {
			if byNet[k.asn] == nil {
				byNet[k.asn], where[k.asn] = map[string]*use{}, map[string]bool{}
			}
			if k.cc != "" {
				where[k.asn][k.cc] = true
			}
		}
		for user, u := range m {
			if k.asn != 0 {
				merge(byNet[k.asn], user, u)
			}
			if k.cc != "" {
				perCC[userCC{user, k.cc}]++
				if u.last.Sub(u.first) > cfg.Window {
					longCC[userCC{user, k.cc}]++
					withCC[user]++
				}
			}
		}
	}
	out := Common{Since: map[string]time.Time{}}
	if len(c.accounts) >= cfg.FamiliarSite {
		out.Familiar = []uint32{}
	}
	exit := map[uint32]bool{}
	for asn, users := range byNet {
		t, ok := since(users)
		if !ok {
			continue
		}
		out.Networks = append(out.Networks, asn)
		out.Since[asKey(asn)] = t
		// local: the user uses the network's country through another
		// network too; elsewhere: another country through another
		own := map[string]int{} // the network's own keys per country, for a user
		local, elsewhere, n := 0, 0, 0
		for user, u := range users {
			if u.last.Sub(u.first) <= cfg.Window {
				continue
			}
			n++
			clear(own)
			for cc := range where[asn] {
				if c.uses[censusKey{cc, asn}][user] != nil {
					own[cc] = 1
				}
			}
			l := false
			for cc := range where[asn] {
				if perCC[userCC{user, cc}]-own[cc] > 0 {
					l = true
					break
				}
			}
			// long uses with a country outside where[asn], through other
			// networks: a habit, not a moment (a thief's login abroad,
			// even on half the site's accounts at once, makes no one's
			// home network an exit)
			inWhere := 0
			for cc := range where[asn] {
				inWhere += longCC[userCC{user, cc}]
			}
			if l {
				local++
			}
			if withCC[user]-inWhere > 0 {
				elsewhere++
			}
		}
		if 2*local < n && 2*elsewhere >= n {
			exit[asn] = true
			out.Exits = append(out.Exits, asn)
		}
	}
	// gates: a prefix that three accounts or more use, each for long,
	// most of them using another country for long too, and fewer than
	// half its own country through other networks
	for p, g := range c.gates {
		if len(g.users) < 3 {
			continue
		}
		users := map[string]*use{} // (an account's addresses may not all have come together)
		for i := range g.users {
			merge(users, g.users[i].user, &g.users[i].use)
		}
		t, n, local, elsewhere := time.Time{}, 0, 0, 0
		var ts []time.Time
		for user, u := range users {
			if u.last.Sub(u.first) <= cfg.Window {
				continue
			}
			n++
			ts = append(ts, u.first.Add(cfg.Window))
			if withCC[user]-longCC[userCC{user, g.cc}] > 0 {
				elsewhere++
			}
			if longCC[userCC{user, g.cc}] > 1 {
				local++
			}
		}
		if n < 3 || 2*local >= n || 2*elsewhere < n {
			continue
		}
		slices.SortFunc(ts, func(x, y time.Time) int { return x.Compare(y) })
		t = ts[2]
		if out.Gates == nil {
			out.Gates = map[netip.Prefix]time.Time{}
		}
		out.Gates[p] = t
		if exit[g.asn] && !slices.Contains(out.Gated, g.asn) {
			out.Gated = append(out.Gated, g.asn)
		}
	}
	byCountry := map[string]map[string]*use{}
	for k, m := range c.uses {
		if k.cc == "" || exit[k.asn] {
			continue
		}
		if byCountry[k.cc] == nil {
			byCountry[k.cc] = map[string]*use{}
		}
		for user, u := range m {
			merge(byCountry[k.cc], user, u)
		}
	}
	for cc, users := range byCountry {
		if t, ok := since(users); ok {
			out.Countries = append(out.Countries, cc)
			out.Since[cc] = t
		}
	}
	if out.Familiar != nil {
		c.familiar(cfg, &out, byNet)
	}
	out.Lines = c.lines(cfg)
	slices.Sort(out.Countries)
	slices.Sort(out.Networks)
	slices.Sort(out.Exits)
	slices.Sort(out.Familiar)
	slices.Sort(out.Gated)
	return out
}

// lines finds the ranges that the site's accounts use as lines
// (Common.Lines). An account's addresses in a range are taken in the
// order of their first use; it went from one to another (hopped) when one
// began less than LineHold after the last use of those before it, or
// during it (a carrier gateway's addresses come back in turn, and a row
// of the history spans all of an address's uses).
func (c *Census) lines(cfg Config) []LineRange {
	var out []LineRange
	var spans []use
	for f, users := range c.addrs {
		line, hop := 0, 0
		for _, as := range users {
			if len(as) < 2 {
				continue // one address says nothing of the range
			}
			spans = spans[:0]
			for _, u := range as {
				spans = append(spans, *u)
			}
			slices.SortFunc(spans, func(x, y use) int { return x.first.Compare(y.first) })
			holds, hopped := 0, false
			var upTo time.Time // the last use of the addresses so far
			for i, u := range spans {
				if u.last.Sub(u.first) >= cfg.LineHold {
					holds++
				}
				if i > 0 && u.first.Sub(upTo) < cfg.LineHold {
					hopped = true
				}
				upTo = later(upTo, u.last)
			}
			switch {
			case hopped:
				hop++
			case holds >= 2 && 2*holds >= len(spans):
				line++
			}
		}
		if line >= 3 && 4*hop <= line {
			out = append(out, LineRange{f.asn, f.pfx})
		}
	}
	sortLines(out)
	return out
}

func sortLines(ls []LineRange) {
	slices.SortFunc(ls, func(x, y LineRange) int {
		if x.ASN != y.ASN {
			return cmp.Compare(x.ASN, y.ASN)
		}
		if c := x.Prefix.Addr().Compare(y.Prefix.Addr()); c != 0 {
			return c
		}
		return cmp.Compare(x.Prefix.Bits(), y.Prefix.Bits())
	})
}

// familiar finds the networks familiar to the site (Common.Familiar): used
// by an account for longer than the window; not by an account that took up
// many countries (Config.ManyCountries, besides the site's common ones)
// within the window of that use's first login: a botnet's victim, whose
// thieves' networks are nobody's stay.
func (c *Census) familiar(cfg Config, out *Common, byNet map[uint32]map[string]*use) {
	var took map[string]map[string]time.Time // user: country: first use
	many := func(user string, t time.Time) bool {
		if cfg.ManyCountries <= 0 {
			return false
		}
		if took == nil {
			took = map[string]map[string]time.Time{}
			for k, m := range c.uses {
				if k.cc == "" || slices.Contains(out.Countries, k.cc) {
					continue
				}
				for u, x := range m {
					if took[u] == nil {
						took[u] = map[string]time.Time{}
					}
					if f, ok := took[u][k.cc]; !ok || x.first.Before(f) {
						took[u][k.cc] = x.first
					}
				}
			}
		}
		n := 0
		for _, f := range took[user] {
			if d := f.Sub(t); d <= cfg.Window && d >= -cfg.Window {
				n++
			}
		}
		return n >= cfg.ManyCountries
	}
	for asn, users := range byNet {
		var by []FamiliarUse // the first two, the earliest first
		for user, u := range users {
			if u.last.Sub(u.first) > cfg.Window && !many(user, u.first) {
				by = append(by, FamiliarUse{user, u.first.Add(cfg.Window)})
				slices.SortFunc(by, func(x, y FamiliarUse) int { return cmp.Or(x.Since.Compare(y.Since), strings.Compare(x.User, y.User)) })
				by = by[:min(len(by), 2)]
			}
		}
		if len(by) > 0 {
			out.Familiar = append(out.Familiar, asn)
			if out.FamiliarBy == nil {
				out.FamiliarBy = map[uint32][]FamiliarUse{}
			}
			out.FamiliarBy[asn] = by
		}
	}
}

// familiarSite: the least accounts for a network that none of them uses
// to say something (Site.unfamiliar): a small site's people have been to
// few places, and its travellers' hotels are all new (the default of
// Config.FamiliarSite).
const familiarSite = 100

// place is what the account knows of a country or a network.
type place struct {
	first, last time.Time
	trusted     bool // seen from a whitelisted address (but Home, for a network)
	home        bool // a network seen from a Home address
	learned     bool // used on the account's first day
	// A new country's logins within the window from its first (burst).
	burstFrom time.Time
	burstN    int
	burstRate float64  // the account's usual logins in a window, at burstFrom
	strange   bool     // the burst's logins all from networks unfamiliar to the site
	burst     *finding // found
	burstDesc string
	// the burst's address ranges (gatePrefix), the last one's and its
	// last login, and how often a login came from one of them within
	// quickTurn of another's (turns): two clients at once (see burst)
	ranges    []netip.Prefix
	lastRange [2]netip.Prefix // IPv4's, IPv6's
	lastAt    [2]time.Time
	lastFirst [2]time.Time // its first (a login given as first and last)
	turns     int
	inTurn    bool      // found for its turns
	hist      []histRow // the history's rows of a country
	// a country's location: its first login's since it was new (see
	// countScattered)
	lat, lon float64
	located  bool
	// back: a new country's, the owner's last login from a usual place
	// located precisely (lastHome) before the country's first login: the
	// owner was back there in between, when it came after the country
	// before's last (see countScattered): when, and where (not the
	// login's strings, which a country would keep alive)
	back backHome
}

type backHome struct {
	at       time.Time
	lat, lon float64
	valid    bool
}

// histRow is a row of the history: its first login and how many; last
// and asn, its last login and network (a country's rows: whether a burst
// that an earlier run saw begin was strange, see burst).
type histRow struct {
	first, last time.Time
	n           int64
	asn         uint32
	ip          string // a country's rows: for the burst's turns
	cut         bool   // last is no login (Known.Cut)
}

// login is the last login, for the travel check.
type login struct {
	Where
	at    time.Time // its last time
	usual bool      // its place was usual then
	valid bool
	gate  bool // its address is an exit's (Site.gate)
	// checked: a trip from it across vague logins was judged
	checked bool
	// cut: at is a cut row's end (Known.Cut), not a login: no place is
	// in use at once with it (concurrent)
	cut bool
}

// Account judges one account's logins. Feed them in time order.
type Account struct {
	cfg      *Config
	site     *Site
	failures *Failures
	total    int64 // logins so far, the history's included (burst)
	// rows: the history's rows counted in total, their first login and
	// count, oldest first (burst: the account's pace before a burst that
	// an earlier run saw begin)
	rows      []histRow
	countries map[string]*place
	networks  map[uint32]*place
	history   time.Time // when the known history begins (zero: none)
	relayed   bool      // logins through a relay seen (Where.Relay)
	learnTill time.Time // first-day learning: logins before it are usual
	started   bool
	last      login
	// lastHome: the last login from a usual place located precisely (a
	// fixed line: the owner was there); lastOdd: the last from a place
	// not usual. A trip is judged between them too, across the logins
	// in between that are too vague to tell (a phone).
	lastHome, lastOdd login
	// held: the addresses of usual places located vaguely that the
	// account holds (see pinUsual), the most recent few
	held  []held
	lines int // how many of them are pinned: lines
	// nets: per network and address family, how the account's addresses
	// on it last (see lineNet)
	nets map[netFam]*netRun
	// towns: per network and address family, where the account's
	// addresses on it were located (see oneNetwork)
	towns map[townFam]*townRun

	findings map[string]*finding // by detector and key
	order    []*finding
	// several: the account's own usual places, located precisely, in
	// use at once from farther apart than anyone travels: several people
	// share it (info@, a team's mailbox), and an impossible trip is weak
	// evidence on it (see shared)
	// declared: the account is shared by the config (SetShared)
	declared bool
	// user: the account's name, as the site's census knows it (SetUser)
	user    string
	several struct {
		n int
		// far: out of reach (impossible travel); near: by road only
		// (apart)
		far, near sharedCount
		recent    [4]login // the last logins from the most recent precise usual places
		// line: the last login from a usual place located vaguely on a
		// line (the account's or the site's), compared with the precise
		// ones (concurrent), never one of recent: a line's address of
		// a day is located to another town of its region each day, and
		// would push the precise places out of what everywhere reads
		line login
	}
	many struct{ countries, networks, scattered int } // the most found in a window (a span)
	// lastUsual: the last login from a usual country, located (a phone's
	// too); lastRelay: the last through a relay; lone: the lone far logins
	// pending (see maybeLone)
	lastUsual, lastRelay login
	lone                 []lonely
	// methods: the SASL mechanisms the account used from its usual
	// places, since first, in n logins with a known mechanism (see client)
	methods struct {
		mask  uint8
		first time.Time
		n     int64
		// unknownUntil: a usual place of the history has logins whose
		// mechanisms are not known (recorded before the state kept
		// them): its clients may be any, until the place is forgotten
		unknownUntil time.Time
	}
}

// methodLogins: the least logins with a known SASL mechanism, over the
// window at least, for an account's mechanisms to say which clients it
// has (see client). Fewer, and a person whose phone and computer use
// different mechanisms may not have shown the second yet: on generated
// populations where every Outlook user's phone uses PLAIN (genlog
// -two-clients), 5 logins alerted travellers whose other client first
// showed abroad; 7 alerted none that 10 did not, and corroborates a quiet
// account's thief (scripts/bench-detect, seeds 1 to 16). On seeds 1 to
// 64, 4 caught 3 more thieves and alerted 16 more such travellers (61
// false alarms, was 45).
const methodLogins = 7

// sharedCount: the days with usual places in use at once, and the first pair.
type sharedCount struct {
	days int
	day  int64 // the last day counted (Unix days)
	pair string
	// known: the last day that earlier runs counted (KnowSharing): a
	// pair of that day or before is in their days already (a log read
	// again), not a day more
	known int64
}

type finding struct {
	Reason
	n int // how many times it was found
	// everywhere: an impossible trip to a place out of reach of each of
	// the places the account was last used from (see shared)
	everywhere bool
	// client: the login used a SASL mechanism new to the account, in
	// words (see client): a low finding is then medium
	client string
	// lone: the country's only login, far from the one from a usual
	// country (or through a relay) just before it, in words (see
	// maybeLone): medium
	lone string
}

// NewAccount starts judging an account whose history is known (nil: no
// history), on site (shared by the accounts; nil: a site of its own with
// no failures known). The account's first day (Config.FirstDay from its first login
// known, in the history or else in the logins fed) is its learning: the
// places it uses then are usual, whether one run or several read it.
func NewAccount(cfg *Config, known []Known, site *Site) *Account {
	a := new(Account)
	a.Reset(cfg, known, site)
	return a
}

// Reset makes a, whatever it judged before, the account that NewAccount
// makes: a judge of many accounts in turn (the batch report's) reuses
// one. Its memory is then in the cache, and mapped: a new Account's last
// fields (methods), on a page no one had written, were read before they
// were written, which costs two page faults and, the second, a flush of
// every core's TLB; on a virtual machine, judging the 2,000 accounts of
// a large log spent a fifth of its time there.
func (a *Account) Reset(cfg *Config, known []Known, site *Site) {
	if site == nil {
		site = &Site{}
	}
	*a = Account{cfg: cfg, site: site, failures: site.Failures, countries: map[string]*place{}, networks: map[uint32]*place{},
		findings: map[string]*finding{}}
	// oldest first: a place forgotten and used again starts anew
	known = slices.Clone(known)
	slices.SortStableFunc(known, func(x, y Known) int { return cmp.Or(x.First.Compare(y.First), x.Last.Compare(y.Last)) })
	var lastK *Known
	for i := range known {
		// (a relay's too: the account logged in then, through its
		// provider; a first day that started at the first login not
		// relayed would take a thief's first login for the owner's)
		if k := &known[i]; !k.First.IsZero() && (a.history.IsZero() || k.First.Before(a.history)) {
			a.history = k.First
		}
	}
	if !a.history.IsZero() {
		a.learnTill = a.history.Add(cfg.FirstDay)
	}
	for i := range known {
		k := &known[i]
		if k.Relay {
			a.total += k.Count
			a.rows = append(a.rows, histRow{first: k.First, n: k.Count})
			a.relayed = true
		}
		if k.First.IsZero() || k.Last.IsZero() || k.Relay {
			continue
		}
		// an exit's country says nothing of the account's, as Login
		// takes each login: through the exit from the row's first login
		// on, none of its country; from a later one only (its network
		// became common since), the country's as far as the row tells
		// (its first login, the only one known to be before)
		seen, cc := k.Where, k.Country
		if a.site.exit(&k.Where, k.First) || a.site.gate(k.IP, time.Time{}) {
			seen.Country, cc = "", ""
		} else if a.site.exit(&k.Where, k.Last) {
			seen.Country = ""
			before := Where{Country: k.Country, Lat: k.Lat, Lon: k.Lon, HasLoc: k.HasLoc, Trusted: k.Trusted}
			a.see(&before, k.First, k.First, k.First.Before(a.learnTill))
		}
		a.see(&seen, k.First, k.Last, k.First.Before(a.learnTill))
		a.total += k.Count
		a.rows = append(a.rows, histRow{first: k.First, n: k.Count})
		if p := a.countries[cc]; p != nil {
			p.hist = append(p.hist, histRow{first: k.First, last: k.Last, n: k.Count, asn: k.ASN, ip: turnIP(&k.Where), cut: k.Cut})
		}
		if p := a.networks[k.ASN]; p != nil && k.ASN != 0 {
			p.hist = append(p.hist, histRow{first: k.First, n: k.Count})
		}
		if lastK == nil || k.Last.After(lastK.Last) {
			lastK = k
		}
	}
	// the SASL mechanisms of the history's rows from usual places (a
	// thief's, from a place new then, never are the account's)
	// A usual place's row that knows none (logins recorded before the
	// state kept them: a state upgraded from schema 3) may hold another
	// client (the office's laptop): no login is corroborated until that
	// place is forgotten; used again, its row learns them.
	for i := range known {
		k := &known[i]
		if k.Relay || k.First.IsZero() || k.Last.IsZero() || !a.usual(&k.Where, k.Last) {
			continue
		}
		if k.Methods == 0 {
			if until := k.Last.Add(a.cfg.Learn); until.After(a.methods.unknownUntil) {
				a.methods.unknownUntil = until
			}
			continue
		}
		a.learnMethods(k.Methods, k.First, k.Count)
	}
	if lastK != nil {
		a.last = login{Where: lastK.Where, at: lastK.Last, valid: true, gate: site.gate(lastK.IP, time.Time{})}
		a.last.usual = a.usual(&lastK.Where, lastK.Last)
	}
	// the addresses of usual places located vaguely that the history
	// holds (see pinUsual), the most recent first: a detector started
	// anew (an hourly run, the live reader's next window) knows since
	// when its line has been in use
	if lastK != nil {
		a.recallHeld(known)
	}
	// how long the account's addresses on each network lasted (see
	// lineNet), in the order first used: a detector started anew (an
	// hourly run) knows the account's line
	for i := range known {
		k := &known[i]
		if k.Relay || k.First.IsZero() || k.Last.IsZero() || k.ASN == 0 ||
			site.exitNet(&k.Where) || site.gate(k.IP, time.Time{}) || !a.usual(&k.Where, k.Last) {
			continue
		}
		a.holdNet(&k.Where, k.First, k.Last)
		a.locate(&k.Where, k.First)
	}
	// the last login from a place that was not usual, and the trips to it
	// from the held addresses used before it (see pinOdd): a detector
	// started anew (an hourly run) judges the owner's next login from
	// such an address as one run over the whole log would
	for i := range known {
		k := &known[i]
		if k.Relay || k.Last.IsZero() || a.lastOdd.valid && !k.Last.After(a.lastOdd.at) {
			continue
		}
		if l := (login{Where: k.Where, at: k.Last, valid: true, usual: a.usual(&k.Where, k.Last), gate: site.gate(k.IP, time.Time{})}); !l.usual && a.end(&l) {
			l.Where.IP = strings.Clone(k.IP)
			a.lastOdd = l
		}
	}
	if o := &a.lastOdd; o.valid {
		for i := range a.held {
			if h := &a.held[i]; !h.last.After(o.at) && a.impossibleHeld(&h.where, h.last, &o.Where, o.at, true, false) {
				h.pend = append(h.pend, trip{x: h.where, ta: h.last, y: o.Where, tb: o.at})
			}
		}
	}
	// the history's usual places located precisely that were in use at
	// once, out of reach of each other (their first or last logins), or
	// with one on a line located vaguely (ls, as Login takes them): an
	// account shared (see concurrent), for a detector started anew
	if lastK != nil {
		var ps, ls []*Known
		for i := range known {
			k := &known[i]
			if k.Relay || k.Last.IsZero() || !k.HasLoc ||
				site.exitNet(&k.Where) || site.gate(k.IP, time.Time{}) || !a.usual(&k.Where, k.Last) {
				continue
			}
			switch {
			case !vague(&k.Where):
				ps = append(ps, k)
			case a.lineNet(&k.Where) || a.siteLine(&k.Where):
				ls = append(ls, k)
			}
		}
		slices.SortStableFunc(ps, func(x, y *Known) int { return y.Last.Compare(x.Last) })
		ps = ps[:min(len(ps), maxHeld)]
		slices.SortStableFunc(ls, func(x, y *Known) int { return y.Last.Compare(x.Last) })
		ls = ls[:min(len(ls), maxHeld)]
		if len(ls) > 0 {
			a.several.line = login{Where: ls[0].Where, at: ls[0].Last, usual: true, valid: true, cut: ls[0].Cut}
			a.several.line.IP = strings.Clone(ls[0].IP)
		}
		// the last logins from the most recent of them (see concurrent)
		r, k := &a.several.recent, 0
		for _, p := range ps {
			if k == len(r) {
				break
			}
			if !slices.ContainsFunc(r[:k], func(l login) bool { return l.Lat == p.Lat && l.Lon == p.Lon }) {
				r[k] = login{Where: p.Where, at: p.Last, usual: true, valid: true, cut: p.Cut}
				r[k].IP = strings.Clone(p.IP)
				k++
			}
		}
	pairs:
		for i, x := range slices.Concat(ps, ls) {
			ys := ps[min(i+1, len(ps)):] // (a line's row: with each precise one)
			if i >= len(ps) {
				ys = ps
			}
			for _, y := range ys {
				if x.Lat == y.Lat && x.Lon == y.Lon {
					continue
				}
				// (a row cut: its first login only)
				tx, ty := [2]time.Time{x.First, x.Last}, [2]time.Time{y.First, y.Last}
				for _, ta := range tx[:2-b2i(x.Cut)] {
					for _, tb := range ty[:2-b2i(y.Cut)] {
						if far, near := a.impossible(&x.Where, ta, &y.Where, tb), a.apart(&x.Where, ta, &y.Where, tb); far || near && !a.oneNetwork(&x.Where, &y.Where, later(ta, tb)) && !a.oneNetwork(&y.Where, &x.Where, later(ta, tb)) {
							a.sharing(&x.Where, ta, &y.Where, tb, !far, false)
							if a.shared() {
								break pairs
							}
						}
					}
				}
			}
		}
	}
	// the owner's last precise usual place, from the history, or one
	// located vaguely on its line or the site's (lineNet, siteLine), as
	// Login takes it: the trip from the line of the hour before, across
	// a phone's login since, is judged as in one run
	for i := range known {
		k := &known[i]
		if k.Relay || k.Last.IsZero() || vague(&k.Where) && !a.lineNet(&k.Where) && !a.siteLine(&k.Where) || a.lastHome.valid && !k.Last.After(a.lastHome.at) {
			continue
		}
		if l := (login{Where: k.Where, at: k.Last, valid: true, usual: a.usual(&k.Where, k.Last), gate: site.gate(k.IP, time.Time{})}); l.usual && a.end(&l) {
			a.lastHome = l
		}
	}
	// and, for each new country of the history, the last such login
	// before its first (place.back), as Login records it: an hourly run
	// chains the countries of a thief's nights as one run does, as far
	// as the rows tell. A row is an address's first and last login; of
	// an address in use across the country's first login, its first.
	// (Of one used before and after the thief's nights, an office's
	// fixed address, the rows do not say which nights the owner was
	// back between: the chain is then measured from the country before.)
	for _, p := range a.countries {
		if p.learned || p.trusted || !p.located {
			continue
		}
		for i := range known {
			k := &known[i]
			at, across := k.Last, false
			if !at.Before(p.first) {
				at, across = k.First, true
			}
			if k.Relay || at.IsZero() || !at.Before(p.first) || p.back.valid && !at.After(p.back.at) ||
				vague(&k.Where) && !a.lineNet(&k.Where) && !a.siteLine(&k.Where) {
				continue
			}
			usual := a.usual(&k.Where, at)
			if usual && across {
				usual = a.usualBefore(&k.Where, at, known)
			}
			if l := (login{Where: k.Where, at: at, valid: true, usual: usual, gate: site.gate(k.IP, time.Time{})}); l.usual && a.end(&l) {
				p.back = backHome{l.at, l.Lat, l.Lon, true}
			}
		}
	}
	// the lone far logins the history leaves pending
	a.recallLone(known)
}

// usualBefore is usual for the history's login from w at t, its row's
// first, with w's country and network as the rows before t left them: a
// place's last login is then its rows' last before t (or their first,
// for a row in use across t). usual takes the places as the whole
// history left them, and a network used once days before, then from this
// row on, was usual at t for it, not for one run (which had not seen the
// row's later logins yet).
func (a *Account) usualBefore(w *Where, t time.Time, known []Known) bool {
	if w.Trusted || a.site.exit(w, t) || a.site.gate(w.IP, t) {
		return a.usual(w, t)
	}
	then := func(p *place, match func(k *Known) bool) *place {
		if p == nil {
			return nil
		}
		q := *p
		q.last = time.Time{}
		for i := range known {
			k := &known[i]
			if k.Relay || k.First.IsZero() || !k.First.Before(t) || !match(k) {
				continue
			}
			at := k.Last
			if !at.Before(t) {
				at = k.First
			}
			q.last = later(q.last, at)
		}
		return &q
	}
	cc := w.Country == "" || a.site.commonCountry(w.Country, t) ||
		a.usualAt(then(a.countries[w.Country], func(k *Known) bool { return k.Country == w.Country }), t)
	asn := w.ASN == 0 || a.site.commonNetwork(w.ASN, t) && !a.site.exits[w.ASN] ||
		a.usualAt(then(a.networks[w.ASN], func(k *Known) bool { return k.ASN == w.ASN }), t)
	return cc && asn
}

// see records that the account used w's places from first to last.
func (a *Account) see(w *Where, first, last time.Time, learned bool) {
	if w.Country != "" {
		p := a.countries[w.Country]
		if p == nil {
			p = &place{first: first, last: last, learned: learned}
			a.countries[strings.Clone(w.Country)] = p
		}
		a.forget(p, first)
		p.widen(first, last)
		p.trusted = p.trusted || w.Trusted
		p.learned = p.learned || learned
		if !p.located && w.HasLoc {
			p.lat, p.lon, p.located = w.Lat, w.Lon, true
		}
	}
	if w.ASN != 0 {
		p := a.networks[w.ASN]
		if p == nil {
			p = &place{first: first, last: last, learned: learned}
			a.networks[w.ASN] = p
		}
		a.forget(p, first)
		p.widen(first, last)
		if w.Home {
			p.home = true
		} else {
			p.trusted = p.trusted || w.Trusted
		}
		p.learned = p.learned || learned
	}
}

// forget starts a place anew when it is used again at t after being
// unused for longer than Learn: it is new again, for more than one login.
func (a *Account) forget(p *place, t time.Time) {
	if p.last.Before(t.Add(-a.cfg.Learn)) {
		*p = place{first: t, last: t, hist: p.hist}
	}
}

func (p *place) widen(first, last time.Time) {
	if first.Before(p.first) {
		p.first = first
	}
	if last.After(p.last) {
		p.last = last
	}
}

// usualAt: the place was usual at t: trusted, learned on the first day,
// or used since before the window, and not forgotten.
func (a *Account) usualAt(p *place, t time.Time) bool {
	return p != nil && (p.trusted || p.home || a.usedAt(p, t))
}

// usedAt: the account's own use made p usual at t, whatever the
// whitelist says.
func (a *Account) usedAt(p *place, t time.Time) bool {
	if p == nil {
		return false
	}
	if p.trusted {
		return true
	}
	// used for longer than the window (not one login long ago: a thief's
	// quiet first visit), or on the first day; and not forgotten
	long := p.first.Before(t.Add(-a.cfg.Window)) && p.last.Sub(p.first) > a.cfg.Window
	return (p.learned || long) && !p.last.Before(t.Add(-a.cfg.Learn))
}

// usual: w is trusted; or w's country and network were both usual at t
// (an unknown one counts as usual: it tells nothing), a network common on
// the site counting as usual in a usual country; or w is an exit (a
// VPN's) that the account itself uses.
func (a *Account) usual(w *Where, t time.Time) bool {
	if w.Trusted {
		return true
	}
	if a.site.exit(w, t) || a.site.gate(w.IP, t) {
		return a.usualAt(a.networks[w.ASN], t)
	}
	return a.countryUsual(w.Country, t) && a.networkUsual(w.ASN, t)
}

// homeCountry: cc is unknown, or a country the account has used for a
// week or more by t (or from its first day, or whitelisted): its phone's
// carrier's country, whose addresses a phone roaming home-routed keeps
// abroad. A country usual for a stay of days (a holiday's hotel), or
// common on the site only, is not: an address of its networks places
// the device there.
func (a *Account) homeCountry(cc string, t time.Time) bool {
	if cc == "" {
		return true
	}
	p := a.countries[cc]
	return p != nil && (p.trusted || p.home || p.learned || p.first.Before(t.Add(-7*24*time.Hour)) && a.usedAt(p, t))
}

// countryUsual: the country was usual at t, or common on the site, or
// unknown ("").
func (a *Account) countryUsual(cc string, t time.Time) bool {
	return cc == "" || a.site.commonCountry(cc, t) || a.usualAt(a.countries[cc], t)
}

// networkUsual: the network was usual at t for the account, or common on
// the site (an exit: for the account only), or unknown (0).
func (a *Account) networkUsual(asn uint32, t time.Time) bool {
	return asn == 0 || a.site.commonNetwork(asn, t) && !a.site.exits[asn] || a.usualAt(a.networks[asn], t)
}

// homeNetwork: w is a Home login (see Where.Home) from a network that is
// not usual at t but for the whitelist: the account has not used it
// long, nor on its first day, and it is not common on the site.
func (a *Account) homeNetwork(w *Where, t time.Time) bool {
	return w.Trusted && w.Home && w.ASN != 0 && !(a.site.commonNetwork(w.ASN, t) && !a.site.exits[w.ASN]) && !a.usedAt(a.networks[w.ASN], t)
}

// Login judges n successful logins from w, the first at first and the last
// at last (the same time for one): a batch gives a run of logins from one
// address at once.
func (a *Account) Login(w *Where, first, last time.Time, n int) {
	// The first day starts at the account's first login, relayed or not
	// (NewAccount).
	if !a.started {
		a.started = true
		if a.learnTill.IsZero() {
			a.learnTill = first.Add(a.cfg.FirstDay)
		}
	}
	if w.Relay {
		a.settleLone(nil, first)
		a.noteRelay(w, last)
		a.total += int64(n)
		a.relayed = true
		return
	}
	learning := first.Before(a.learnTill)
	// an exit's country says nothing of the account's: its network does
	gate := a.site.gate(w.IP, time.Time{})
	exit := a.site.exit(w, first) || gate
	if exit {
		// nor of where the owner is, as a relay's: no return to a
		// lone far login's place
		a.settleLone(nil, first)
	} else {
		a.settleLone(w, first)
	}
	newCountry := !w.Trusted && !exit && !learning && !a.countryUsual(w.Country, first)
	newNetwork := !w.Trusted && !learning && !a.networkUsual(w.ASN, first)
	usual := w.Trusted || learning || !newCountry && !newNetwork
	// whitelisted by its country, and usual for all else, but watched
	// for a burst and for failures first (Where.Home)
	homeNew := !learning && a.homeNetwork(w, first)

	// Impossible travel: from the last login to this one, and, across
	// vague logins in between, from the owner's last precise usual place
	// to a place not usual, or back.
	cur := login{Where: *w, at: first, usual: usual, valid: true, gate: gate}
	// (a place located vaguely on a line, the account's or the site's, is
	// a trip's end where it is located: one person there, as at a precise
	// place, and a shared mailbox's other person travelling is no trip
	// from it)
	// (where its network's addresses were located, this one's included:
	// as Reset has it from the history's rows)
	if usual && !exit && w.ASN != 0 {
		a.locate(w, first)
	}
	if usual && a.end(&cur) {
		switch {
		case !vague(w):
			a.concurrent(&cur, last, false)
		case a.lineNet(w) || a.siteLine(w):
			a.concurrent(&cur, last, true)
		}
	}
	if a.last.valid && a.last.IP != w.IP && !(a.last.usual && usual) && a.end(&a.last) && a.end(&cur) {
		a.travel(&a.last.Where, a.last.at, w, first, usual)
	}
	// (once each: the first login after is the nearest in time)
	if !usual && a.end(&cur) && a.lastHome.valid && !a.lastHome.checked && !a.lastHome.same(&a.last) {
		a.lastHome.checked = true
		a.travel(&a.lastHome.Where, a.lastHome.at, w, first, false)
	}
	if usual && a.end(&cur) && (!vague(w) || a.lineNet(w) || a.siteLine(w)) && a.lastOdd.valid && !a.lastOdd.checked && !a.lastOdd.same(&a.last) && a.end(&a.lastOdd) {
		a.lastOdd.checked = true
		a.travel(&a.lastOdd.Where, a.lastOdd.at, w, first, true)
	}
	// and from the last place not usual to this one, also not usual,
	// across the vague logins between (a traveller's roaming phone at the
	// hotel, a thief's login elsewhere minutes later): each pair once, as
	// this login becomes the last such place
	if !usual && a.end(&cur) && a.lastOdd.valid && a.lastOdd.IP != w.IP && !a.lastOdd.same(&a.last) && a.end(&a.lastOdd) {
		a.travel(&a.lastOdd.Where, a.lastOdd.at, w, first, false)
	}
	// Addresses held across new countries (pinOdd, pinUsual).
	if newCountry && a.end(&cur) {
		a.pinOdd(&cur)
	}
	if usual && w.HasLoc && vague(w) && !exit {
		a.pinUsual(&cur, last)
	}
	// Failures, then success.
	if a.failures != nil && (!usual || homeNew) && a.cfg.Failures > 0 {
		if f := a.failures.Before(w.IP, first); f >= a.cfg.Failures {
			sev, what := Low, "new network "+a.network(w)
			switch {
			case newCountry:
				sev, what = High, "new country "+countryCity(w)
			case a.site.unfamiliarToOthers(w.ASN, a.user, first):
				// guessed, then used, from where nobody of the company
				// logs in (a data centre of the home country), not a
				// colleague's hotel or a branch, where the owner may
				// mistype his password
				sev, what = Medium, what+", that no account of the site uses"
			}
			fd := a.find(FailuresThenSuccess, w.IP, sev, first, w.IP,
				fmt.Sprintf("%d failed logins from %s, then a login from there (%s)", f, w.IP, what))
			if fd.client == "" {
				fd.client = a.client(w, first)
			}
		}
	}
	// New place: said before the place is recorded, with the history as it was.
	if newCountry {
		f := a.find(NewPlace, "c "+w.Country, Low, first, w.IP, "")
		if f.Text == "" {
			f.Text = "new country " + countryCity(w) + " (" + a.describe(first) + ")"
		}
		if f.client == "" {
			f.client = a.client(w, first)
		}
		a.maybeLone(f, w, first, n)
	} else if newNetwork {
		if f := a.find(NewPlace, "n "+strconv.FormatUint(uint64(w.ASN), 10), None, first, w.IP, ""); f.Text == "" {
			f.Text = "new network " + a.network(w)
		}
	}
	before := a.total // the logins before this one (burst)
	if exit {
		seen := *w
		seen.Country = ""
		a.see(&seen, first, last, learning)
	} else {
		a.see(w, first, last, learning)
	}
	a.total += int64(n)
	if usual && w.Methods != 0 {
		a.learnMethods(w.Methods, first, int64(n))
	}
	if p := a.countries[w.Country]; newCountry && p != nil && p.first.Equal(first) {
		if h := &a.lastHome; h.valid {
			p.back = backHome{h.at, h.Lat, h.Lon, true}
		}
	}
	switch {
	case newCountry:
		a.burst(a.countries[w.Country], "c "+w.Country, "new country "+countryCity(w), w, first, last, n, before, a.site.unfamiliarToOthers(w.ASN, a.user, first))
	case newNetwork || homeNew:
		// a new network sending far more than the account ever did is
		// a thief too, in a usual country (a data centre there, the
		// whitelisted home country's included) or from an exit's
		// network the account does not use
		a.burst(a.networks[w.ASN], "n "+strconv.FormatUint(uint64(w.ASN), 10), "new network "+a.network(w)+" ("+countryCity(w)+")", w, first, last, n, before, false)
	}
	if !usual || learning {
		a.countMany(first, w)
	}
	if newCountry {
		a.countScattered(first, w)
	}
	if a.cfg.LoneFar > 0 && w.HasLoc && !exit && w.Country != "" && (w.Trusted || a.countryUsual(w.Country, first)) {
		a.noteUsual(w, last)
	}
	a.last = login{Where: *w, at: last, usual: usual, valid: true, gate: gate}
	switch {
	case !usual:
		a.lastOdd = a.last
	case a.end(&a.last) && (!vague(w) || a.lineNet(w) || a.siteLine(w)):
		a.lastHome = a.last
	}
	if usual && !exit && w.ASN != 0 {
		a.holdNet(w, first, last)
	}
}

// netFam is a network and a range of its addresses (IPv4 /12, IPv6 /20):
// a provider's lines and its phones come out of different ranges
// (Deutsche Telekom's lines out of 79.192.0.0/10 and 2003::/19, its
// phones out of 80.187.0.0/16 and 2a01:598::/32), and a line's IPv4 and
// IPv6 addresses last differently.
type netFam struct {
	asn uint32
	pfx netip.Prefix
}

// netKey is w's netFam.
func netKey(w *Where) (netFam, bool) {
	ad, err := netip.ParseAddr(w.IP)
	if err != nil || w.ASN == 0 {
		return netFam{}, false
	}
	ad = ad.Unmap().WithZone("")
	bits := 12
	if ad.Is6() {
		bits = 20
	}
	p, err := ad.Prefix(bits)
	return netFam{w.ASN, p}, err == nil
}

// netRun is the account's use of a network (in one address family): the
// address in use (IPv4, or IPv6 /64) from first to last (held: for
// Config.LineHold or longer); how many addresses it used there, one after
// the other, and how many of them it held; hop: it went from one of them
// to another within LineHold.
type netRun struct {
	key          [16]byte
	first, last  time.Time
	held, hop    bool
	addrs, holds int
}

// townFam is a network and an address family (townKey).
type townFam struct {
	asn uint32
	v6  bool
}

// townKey is w's townFam: its network, the whole of it (a provider's
// lines in a region come out of several of its ranges, a /12 each).
func townKey(w *Where) (townFam, bool) {
	ad, err := netip.ParseAddr(w.IP)
	if err != nil || w.ASN == 0 {
		return townFam{}, false
	}
	return townFam{w.ASN, !ad.Unmap().Is4()}, true
}

// townRun: where the account's addresses on a network were located
// precisely, per address family (townKey), the first few towns (see
// oneNetwork).
type townRun struct {
	towns  [8]town
	ntowns int
}

// town: a place (see locate) that n of the addresses were located to
// (counted up to townAddrs), each once however often it is used (keys),
// and their first logins (ats).
type town struct {
	lat, lon float64
	acc      int
	n        int
	keys     [townAddrs][16]byte
	ats      [townAddrs]time.Time
}

// count is how many of t's addresses were first used by then.
func (t *town) count(by time.Time) int {
	c := 0
	for _, at := range t.ats[:min(t.n, len(t.ats))] {
		if !at.After(by) {
			c++
		}
	}
	return c
}

// locate records where w, a usual place's address (not an exit's), was
// located, when first: each address once per town, however often it is
// used and whatever comes between (Reset reads a row per address: an
// address used, another, then the first again is one address there too).
func (a *Account) locate(w *Where, first time.Time) {
	if !w.HasLoc || vague(w) {
		return
	}
	ad, err := netip.ParseAddr(w.IP)
	if err != nil || w.ASN == 0 {
		return
	}
	ad = ad.Unmap()
	f, k := townFam{w.ASN, !ad.Is4()}, addrKey(ad)
	r := a.towns[f]
	if r == nil {
		if a.towns == nil {
			a.towns = map[townFam]*townRun{}
		}
		r = &townRun{}
		a.towns[f] = r
	}
	// (a town: the place its first address was located to, and those
	// apart never tells from it, nearer than apartKM after the radii: a
	// provider's blocks in one town are located each to its postal
	// area, a kilometre or two from the others)
	i := -1
	for j := range r.towns[:r.ntowns] {
		if t := &r.towns[j]; t.lat == w.Lat && t.lon == w.Lon || Distance(t.lat, t.lon, w.Lat, w.Lon)-float64(t.acc+w.AccuracyKM) < apartKM {
			i = j
			break
		}
	}
	if i < 0 {
		if r.ntowns == len(r.towns) {
			return
		}
		i = r.ntowns
		r.towns[i] = town{lat: w.Lat, lon: w.Lon, acc: w.AccuracyKM}
		r.ntowns++
	}
	if t := &r.towns[i]; t.n < len(t.ats) && !slices.Contains(t.keys[:t.n], k) {
		t.keys[t.n], t.ats[t.n] = k, first
		t.n++
	}
}

// holdNet records a login from w (a usual place, not an exit) from first
// to last, for lineNet.
func (a *Account) holdNet(w *Where, first, last time.Time) {
	k, ok := heldKey(w.IP)
	if !ok {
		return
	}
	f, ok := netKey(w)
	if !ok {
		return
	}
	r := a.nets[f]
	if r == nil {
		if a.nets == nil {
			a.nets = map[netFam]*netRun{}
		}
		r = &netRun{key: k, first: first, last: last, addrs: 1}
		a.nets[f] = r
	} else if r.key != k {
		if first.Sub(r.last) < a.cfg.LineHold {
			r.hop = true
		}
		r.key, r.first, r.last, r.held = k, first, last, false
		r.addrs++
	}
	r.last = later(r.last, last)
	if !r.held && r.last.Sub(r.first) >= a.cfg.LineHold {
		r.held = true
		r.holds++
	}
}

// oneNetwork: x and y, in use apart by road (apart), are on two networks,
// and the account's addresses on x's (townKey) were located where y is
// too: a line's address of a day located to another town of its region
// (GeoLite2 puts a Hamburg line's addresses in Hanover on some days), and
// the owner going from home to the office, not two people. A town counts
// once townAddrs of the addresses were located there (the line's, not a
// day's mistake: two colleagues on two providers' lines in two towns,
// the first's located once to the other's town, are still two people),
// and as of the pair's later login (by; Reset records the whole
// history's towns before it judges its pairs: a town located later is no
// evidence one run had). Two colleagues on one provider's lines in two
// towns are on one network: still two places.
func (a *Account) oneNetwork(x, y *Where, by time.Time) bool {
	f, ok := townKey(x)
	if !ok || x.ASN == y.ASN {
		return false
	}
	r := a.towns[f]
	if r == nil {
		return false
	}
	for i := range r.towns[:r.ntowns] {
		if t := &r.towns[i]; t.count(by) >= townAddrs && Distance(t.lat, t.lon, y.Lat, y.Lon)-float64(t.acc+y.AccuracyKM) < apartKM {
			return true
		}
	}
	return false
}

// townAddrs: the least addresses of a network located to a town for it
// to be the account's line's (oneNetwork).
const townAddrs = 2

// lineNet: w is on a network that is the account's line: of the
// account's addresses in w's range of it (netFam), two or more, and half of
// them at least, were each in use for Config.LineHold or longer, and the
// account never went from one of them to another within LineHold. A
// phone's carrier gives another address within the hour or two (now and
// then the same one again, out of its gateway's few); a line keeps its
// address all day and gets another only at its nightly reconnection. So
// w, even located vaguely (a home line located to its country only), is
// no roaming phone but the line, where it is located. A network that the
// account uses both as its line and as its phone's carrier (a Telekom
// line and a Telekom phone) hops, and is none.
func (a *Account) lineNet(w *Where) bool {
	if len(a.nets) == 0 || w.ASN == 0 {
		return false
	}
	f, ok := netKey(w)
	if !ok {
		return false
	}
	r := a.nets[f]
	return r != nil && !r.hop && r.holds >= 2 && 2*r.holds >= r.addrs
}

// end: the login can be a trip's end: located; not a place of a usual
// country located vaguely (to its country only, or within 100 km or more:
// a mobile network, and a phone roaming abroad goes out through its home
// carrier, located at home), unless its address is a line (pinUsual); not
// an exit (Common.Exits: a VPN's, a provider's
// cloud: where its users are, it does not say).
func (a *Account) end(l *login) bool {
	if !l.valid || !l.HasLoc {
		return false
	}
	// vague in a usual country too: a new network there located vaguely is
	// a phone's carrier seen from its gateway, anywhere in the country
	if vague(&l.Where) && (l.Trusted || a.homeCountry(l.Country, l.at)) && !a.line(l.IP) && !(l.usual && a.lineNet(&l.Where)) && !a.siteLine(&l.Where) {
		return false
	}
	// an exit for the whole of what is known, even before it became
	// common: where its users are, it never says
	return !(l.gate || a.site.exitNet(&l.Where))
}

func (l *login) same(m *login) bool { return m.valid && l.IP == m.IP && l.at.Equal(m.at) }

// gateway: w is located vaguely, and is not the account's line (see end):
// it may be a mobile network's gateway, anywhere in its country.
func (a *Account) gateway(w *Where) bool {
	return vague(w) && !a.line(w.IP) && !a.lineNet(w) && !a.siteLine(w)
}

// siteLine: w is in a range that the site's accounts use as lines
// (Common.Lines), and the account did not go from one of its addresses
// there to another within LineHold (its own use says otherwise: a
// phone).
func (a *Account) siteLine(w *Where) bool {
	if !a.site.lineRange(w) {
		return false
	}
	f, _ := netKey(w)
	r := a.nets[f]
	return r == nil || !r.hop
}

// vague: the location is known to the country only, or within 100 km or
// more (GeoLite2's radius for mobile networks' gateways).
func vague(w *Where) bool { return w.City == "" || w.AccuracyKM >= 100 }

// paceLogins: the least logins known for the account's pace to be its
// own (burst); fewer are as if there were this many. Three: with none
// seen over some days, three over them is what the "rule of three" (a
// 95 % upper bound) allows.
const paceLogins = 3

// rateOf is the account's usual logins in a window, before t, with
// total logins known over the days since its first.
func (a *Account) rateOf(total int64, t time.Time) float64 {
	origin := a.history
	if origin.IsZero() {
		origin = a.learnTill.Add(-a.cfg.FirstDay)
	}
	days := max(t.Sub(origin), a.cfg.Window)
	return float64(total) * float64(a.cfg.Window) / float64(days)
}

// historyBefore is the logins of the history's rows first seen before t
// (a relay's without a time included).
func (a *Account) historyBefore(t time.Time) int64 {
	var n int64
	for _, r := range a.rows {
		if !r.first.Before(t) {
			break // oldest first
		}
		n += r.n
	}
	return n
}

// burst counts the logins from a new place (a country, or a network)
// within the window from its first; when they reach Config.Burst and five
// times the account's usual logins in a window, the new place is medium:
// someone is sending mail from there, far more than the account ever did.
// key is the place's finding (NewPlace), what its name in words, w the
// login's address (the finding names it; the turns leave it out when it
// is located vaguely: turnIP); before is the account's logins before t,
// the history's included.
//
// A new country's logins all from networks that no other account of the
// site had used for long by then (strange: not a colleague's hotel or a
// branch, but a thief's) need only reach Config.Burst and three times the
// account's usual logins: someone sends more mail than the owner does from
// where nobody of the company has been. As of then: a census of the whole
// log made the traveller's own stay, or a colleague's later one,
// familiar, and hid what the live reader and an hourly run, whose census
// holds the past only, alerted on (a traveller catches up on mail at his
// own pace, or twice it, from a hotel's network that nobody else used).
func (a *Account) burst(p *place, key, what string, w *Where, t, last time.Time, n int, before int64, strange bool) {
	if a.cfg.Burst <= 0 || p == nil {
		return
	}
	// the turns leave out an address located vaguely (turnIP)
	turnAddr := turnIP(w)
	if p.burst != nil { // found: the count goes on within the window
		if t.Sub(p.burstFrom) <= a.cfg.Window {
			p.burstN += n
			p.turn(turnAddr, t, last)
			p.burst.Text = a.burstText(what, p, last)
		}
		return
	}
	if p.burstFrom.IsZero() || t.Sub(p.burstFrom) > a.cfg.Window {
		p.burstFrom, p.burstN, p.strange = t, 0, true
		p.ranges, p.lastRange, p.lastAt, p.lastFirst, p.turns = p.ranges[:0], [2]netip.Prefix{}, [2]time.Time{}, [2]time.Time{}, 0
		// an earlier run's logins from there within the window count
		var earlier int64
		var seen []turnAt
		for _, h := range p.hist {
			if !h.first.Before(t.Add(-a.cfg.Window)) && h.first.Before(t) {
				p.burstN += int(h.n)
				earlier += h.n
				seen = append(seen, turnAt{h.first, h.ip})
				// (a cut row's last is when the history was read,
				// not a login: rows cut together would take turns)
				if h.n > 1 && !h.cut && h.last.After(h.first) && h.last.Before(t) {
					seen = append(seen, turnAt{h.last, h.ip})
				}
				// strange as one run over the whole log judged
				// these logins, each as of its time (the row's
				// last before t says for all: a network only
				// becomes familiar): a colleague's hotel an hour
				// ago is not a thief's network now
				at := h.last
				if at.IsZero() || at.After(t) {
					at = t
				}
				p.strange = p.strange && a.site.unfamiliarToOthers(h.asn, a.user, at)
				if h.first.Before(p.burstFrom) {
					p.burstFrom = h.first
				}
			}
		}
		// the account's pace before the burst: before them too, as one
		// run over the whole log has it (the history's total holds
		// them: a thief's first logins, that an hourly run before this
		// one saw, made his burst the account's usual pace). Nor the
		// logins after them, the owner's meanwhile: this run's (all
		// after the history's rows), and the history's rows first seen
		// since (a row of an address used before holds all its logins:
		// they count, as one run would count those before).
		if earlier > 0 {
			before = a.historyBefore(p.burstFrom)
		}
		p.burstRate = a.rateOf(before, p.burstFrom)
		// and their turns, as their rows' first and last logins in time
		// order took them: as many as one run would count, or fewer
		// (the logins between a row's first and last are not known)
		slices.SortStableFunc(seen, func(x, y turnAt) int { return x.at.Compare(y.at) })
		for _, s := range seen {
			p.turn(s.ip, s.at, s.at)
		}
	}
	p.burstN += n
	p.strange = p.strange && strange
	p.turn(turnAddr, t, last)
	pace := a.pace(p)
	need := 5.0
	if p.strange {
		need = 3
	}
	// two clients at once, taking turns in a new country, sending twice
	// the account's pace: not one traveller, who goes from the hotel's
	// line to a conference's and back in more than minutes, but a thief's
	// bots, each behind its own line; shared mailboxes have several
	// people, who may travel together
	inTurn := strings.HasPrefix(key, "c ") && p.turns >= burstTurns && !a.shared() && float64(p.burstN) < need*pace
	if inTurn {
		need = 2
	}
	if p.burstN < a.cfg.Burst || float64(p.burstN) < need*pace {
		return
	}
	f := a.find(NewPlace, key, Medium, t, w.IP, "")
	f.Severity = Medium
	p.burst, p.burstDesc, p.inTurn = f, a.describe(p.burstFrom), inTurn
	f.Text = a.burstText(what, p, last)
}

// pace is the account's pace that p's burst is judged by: the pace of
// fewer than paceLogins logins says little (a first day that happened to
// be quiet), as if paceLogins were known.
func (a *Account) pace(p *place) float64 {
	return max(p.burstRate, a.rateOf(paceLogins, p.burstFrom))
}

func (a *Account) burstText(what string, p *place, last time.Time) string {
	s := fmt.Sprintf("%s: %d logins within %s (usually %s in %s; %s)", what, p.burstN,
		span(last.Sub(p.burstFrom).Truncate(time.Minute)+time.Minute), strconv.FormatFloat(p.burstRate, 'f', 1, 64),
		span(a.cfg.Window), p.burstDesc)
	switch {
	case p.inTurn:
		s += fmt.Sprintf(", from %d address ranges taking turns (%d times within %s of another's login: two clients at once)", len(p.ranges), p.turns, span(quickTurn))
	case p.strange && float64(p.burstN) < 5*a.pace(p):
		s += ", from networks no account of the site uses"
	}
	return s
}

// turnIP is w's address for the burst's turns: none ("") when w is
// located vaguely, a carrier's address (a phone going from the hotel's
// Wi-Fi to its mobile data and back is one client, and a carrier's NAT
// gives it addresses out of ranges it may come back to within minutes).
func turnIP(w *Where) string {
	if vague(w) {
		return ""
	}
	return w.IP
}

// turnAt is a history's login, for the burst's turns.
type turnAt struct {
	at time.Time
	ip string
}

// turn notes a login from ip, from first to last, in the burst's ranges
// and turns.
//
// The last range's logins may end after first: logins given as their
// first and last (another server's row, a batch run's step of one log
// among others) whose span holds this one. Its login before first is
// then somewhere from that login's first to first: a turn only when that
// first is within quickTurn (as many turns as the logins took, or fewer).
func (p *place) turn(ip string, first, last time.Time) {
	r, ok := gatePrefix(ip)
	if !ok {
		return
	}
	fam := b2i(r.Addr().Is6())
	switch {
	case r == p.lastRange[fam]:
	case slices.Contains(p.ranges, r):
		prev := p.lastAt[fam]
		if first.Before(prev) {
			prev = p.lastFirst[fam]
		}
		if !first.Before(prev) && first.Sub(prev) < quickTurn {
			p.turns++
		}
	case len(p.ranges) < maxRanges:
		p.ranges = append(p.ranges, r)
	}
	p.lastRange[fam], p.lastAt[fam], p.lastFirst[fam] = r, last, first
}

// burstTurns: the turns that show two clients at once in a new country
// (see burst), a turn being a login from a range used before within
// quickTurn of another range's login. A traveller goes from the hotel's
// line to a conference's, and back, and takes more than minutes each
// time; bots behind two lines take turns all day.
const burstTurns = 3

// quickTurn: a login from one range this soon after another's is a turn.
const quickTurn = 15 * time.Minute

// maxRanges: the ranges of a burst remembered (turns between the first
// ones tell enough).
const maxRanges = 8

// held is an address (an IPv4 address, or an IPv6 /64) of a usual place
// located vaguely, as the account used it from first to last.
//
// Such a place is no trip's end (see end): it may be a phone roaming
// abroad, home-routed through its home carrier, whose address says nothing
// of where it is. But a phone that crosses a border attaches to another
// network and gets another address (and another /64); so one address held
// on both sides of logins from two different new countries cannot be a
// phone that went with its owner to both: it is a line, where it is
// located (a home line located to its region only), or a device that
// stayed behind (an account shared). Then the trips between it and those
// countries are judged, and it is a trip's end from then on.
type held struct {
	key         [16]byte
	where       Where
	first, last time.Time
	cc          string // the first new country seen since first
	two         bool   // and another one
	line        bool
	pend        []trip // impossible trips, should it be a line
	// gaveWay: since its last use, the account used another address of
	// its network's range (netFam): at its next use, it is held from
	// then on (the new countries and the trips kept before are
	// forgotten). A line's address gives way once, at its nightly
	// reconnection; a carrier gateway's few come back in turn, so one
	// seen on two days, others of its range in between, was never held
	// for days (a phone roaming home-routed, while its owner abroad
	// used the hotel's line, looked at home all along).
	gaveWay bool
	fam     netFam // its network's range (netKey of where), when known
	famOK   bool
}

type trip struct {
	x, y   Where
	ta, tb time.Time
	yUsual bool
}

// lineHold: an address held this long, just before or after a login from
// a new place out of its reach, is a line (see pinUsual): a phone's
// carrier gives it another address within the hour or two (its NAT's
// mappings expire, it attaches anew), and a phone that flew has attached
// anew (the default of Config.LineHold).
const lineHold = 3 * time.Hour

// maxHeld: the held addresses remembered, the most recently used
// (a phone's come and go; a line's is used every day).
const maxHeld = 16

// heldKey is an address's key: itself (IPv4), or its /64 (IPv6: a line's
// delegated prefix, a phone's attachment; its privacy addresses change).
func heldKey(ip string) ([16]byte, bool) {
	ad, err := netip.ParseAddr(ip)
	if err != nil {
		return [16]byte{}, false
	}
	return addrKey(ad), true
}

// addrKey is heldKey of a parsed address.
func addrKey(ad netip.Addr) [16]byte {
	ad = ad.Unmap().WithZone("")
	if ad.Is6() {
		p, _ := ad.Prefix(64)
		ad = p.Addr()
	}
	return ad.As16()
}

// recallHeld gives a detector started anew the addresses of usual places
// located vaguely that the history holds (see pinUsual), as one run over
// the whole log would hold them now: an address (an IPv6 /64: the rows
// of its privacy addresses together) is forgotten once another was first
// used when it had been unused for two windows; a hold starts again at
// its first use after that. known is sorted by First.
func (a *Account) recallHeld(known []Known) {
	type hold struct {
		key         [16]byte
		first, last time.Time
		k           *Known // its row last used
	}
	var rows []*Known
	var keys [][16]byte
	for i := range known {
		k := &known[i]
		if k.Relay || k.First.IsZero() || k.Last.IsZero() || !k.HasLoc || !vague(&k.Where) ||
			a.site.exitNet(&k.Where) || a.site.gate(k.IP, time.Time{}) || !a.usual(&k.Where, k.Last) {
			continue
		}
		key, ok := heldKey(k.IP)
		if !ok {
			continue
		}
		rows, keys = append(rows, k), append(keys, key)
	}
	// news: the rows (by First) whose key was not held at their first
	// use, which make one run forget the others (pinUsual); a row of a
	// /64 held then (a new privacy address of a line in use) is none
	var news []int
	// forgot: another address first used in (from, to] (from the first
	// news after from, the first of another key)
	forgot := func(key [16]byte, from, to time.Time) bool {
		i, _ := slices.BinarySearchFunc(news, from, func(n int, t time.Time) int {
			if rows[n].First.After(t) {
				return 1
			}
			return -1
		})
		for ; i < len(news) && !rows[news[i]].First.After(to); i++ {
			if keys[news[i]] != key {
				return true
			}
		}
		return false
	}
	far := time.Unix(1<<40, 0)
	var holds []hold
	at := make(map[[16]byte]int, len(rows)) // a key's hold in holds
	// the rows by First
	for i, k := range rows {
		j, ok := at[keys[i]]
		if !ok {
			at[keys[i]] = len(holds)
			holds = append(holds, hold{key: keys[i], first: k.First, last: k.Last, k: k})
			news = append(news, i)
			continue
		}
		h := &holds[j]
		if forgot(h.key, h.last.Add(2*a.cfg.Window), k.First) {
			h.first = k.First // forgotten meanwhile: held anew
			news = append(news, i)
		}
		if !k.Last.Before(h.last) {
			h.last, h.k = k.Last, k
		}
	}
	// those still held: not forgotten since their last use
	holds = slices.DeleteFunc(holds, func(h hold) bool { return forgot(h.key, h.last.Add(2*a.cfg.Window), far) })
	slices.SortStableFunc(holds, func(x, y hold) int { return y.last.Compare(x.last) })
	for _, hd := range holds[:min(len(holds), maxHeld)] {
		k := *hd.k
		k.First, k.Last = hd.first, hd.last
		h := held{key: hd.key, where: k.Where, last: k.Last}
		h.first, h.gaveWay = a.heldSince(known, &k, hd.key)
		h.where.IP = strings.Clone(k.IP)
		h.fam, h.famOK = netKey(&k.Where)
		a.held = append(a.held, h)
	}
}

// heldSince is since when the history's address k (of key) is known to
// have been held: its first use; or, when another address of its
// network's range (netFam) was used between its first and its last, its
// last (see held.gaveWay: a carrier gateway's addresses come back in
// turn; a row of the history spans all of an address's uses, and says
// nothing of when it came back) if that was within two windows of its
// last, else that other use: one run forgets an address unused for two
// windows (pinUsual), so one that kept coming back for longer since it
// gave way (a line that stays, after a friend's line of its provider
// was used once) was held all along. gaveWay: another was used after its
// last use, so that its next use holds it anew, as in one run. The other
// addresses count as pinUsual sees them: usual places located vaguely,
// not exits (an office on the line's provider, located precisely, never
// makes the line give way in one run).
func (a *Account) heldSince(known []Known, k *Known, key [16]byte) (since time.Time, gaveWay bool) {
	since = k.First
	var inside time.Time // the latest use of another address of its range within its span
	f, ok := netKey(&k.Where)
	if !ok {
		return since, false
	}
	for i := range known {
		o := &known[i]
		if o.Relay || o.Last.IsZero() || !o.HasLoc || !vague(&o.Where) {
			continue
		}
		if g, ok := netKey(&o.Where); !ok || g != f {
			continue
		}
		if other, valid := heldKey(o.IP); !valid || other == key {
			continue // (itself)
		}
		if a.site.exitNet(&o.Where) || a.site.gate(o.IP, time.Time{}) || !a.usual(&o.Where, o.Last) {
			continue
		}
		if o.Last.After(k.Last) {
			gaveWay = true
		}
		for _, t := range [2]time.Time{o.First, o.Last} {
			if t.After(k.First) && t.Before(k.Last) && t.After(inside) {
				inside = t
			}
		}
	}
	switch {
	case inside.IsZero():
	case k.Last.Sub(inside) <= 2*a.cfg.Window:
		since = k.Last
	default:
		since = inside
	}
	return since, gaveWay
}

// line: ip is a held address pinned as a line.
func (a *Account) line(ip string) bool {
	if a.lines == 0 {
		return false
	}
	k, ok := heldKey(ip)
	if !ok {
		return false
	}
	for i := range a.held {
		if a.held[i].key == k {
			return a.held[i].line
		}
	}
	return false
}

// pinOdd: a login o from a new country. The trip to it from each held
// address's last use is judged if that address is a line, and kept for
// when it may prove one; the country is noted on each.
func (a *Account) pinOdd(o *login) {
	for i := range a.held {
		h := &a.held[i]
		if h.last.After(o.at) {
			continue
		}
		if a.impossibleHeld(&h.where, h.last, &o.Where, o.at, true, false) {
			t := trip{x: h.where, ta: h.last, y: o.Where, tb: o.at}
			if h.line {
				// (unless the last login was this line's: judged as such)
				if k, ok := heldKey(a.last.IP); !ok || k != h.key || !a.last.at.Equal(h.last) {
					a.travel(&t.x, t.ta, &t.y, t.tb, false)
				}
			} else {
				if len(h.pend) < 8 {
					h.pend = append(h.pend, t)
				}
				// held for hours until just before: a line (see pinUsual)
				if h.last.Sub(h.first) >= a.cfg.LineHold {
					a.pinLine(h)
				}
			}
		}
		switch {
		case h.cc == "":
			h.cc = strings.Clone(o.Country)
		case h.cc != o.Country:
			h.two = true
		}
	}
}

// pinUsual: a login u from a usual place located vaguely, used until
// last. The trip from the last new place to it is kept (or judged, for a
// line); its address is a line once it was held across logins from two
// new countries.
func (a *Account) pinUsual(u *login, last time.Time) {
	k, ok := heldKey(u.IP)
	if !ok {
		return
	}
	var h *held
	for i := range a.held {
		if a.held[i].key == k {
			h = &a.held[i]
			break
		}
	}
	if h == nil {
		// forget the addresses unused for two windows, then the least
		// recently used beyond maxHeld
		a.held = slices.DeleteFunc(a.held, func(h held) bool {
			gone := h.last.Before(u.at.Add(-2 * a.cfg.Window))
			if gone && h.line {
				a.lines--
			}
			return gone
		})
		if len(a.held) >= maxHeld {
			j := 0
			for i := range a.held {
				if a.held[i].last.Before(a.held[j].last) {
					j = i
				}
			}
			if a.held[j].line {
				a.lines--
			}
			a.held = slices.Delete(a.held, j, j+1)
		}
		a.held = append(a.held, held{key: k, first: u.at})
		h = &a.held[len(a.held)-1]
	}
	if f, ok := netKey(&u.Where); ok {
		for i := range a.held {
			if o := &a.held[i]; o != h && o.famOK && o.fam == f && !o.line {
				o.gaveWay = true
			}
		}
		h.fam, h.famOK = f, true
	}
	if h.gaveWay && !h.line {
		// held anew: what was seen while it was held before (the new
		// countries, the trips kept should it be a line) is not of
		// this hold
		h.first, h.gaveWay = u.at, false
		h.cc, h.two, h.pend = "", false, nil
	}
	if o := &a.lastOdd; o.valid && o.at.After(h.last) && !o.at.After(u.at) && a.end(o) && a.impossibleHeld(&o.Where, o.at, &u.Where, u.at, false, true) {
		t := trip{x: o.Where, ta: o.at, y: u.Where, tb: u.at, yUsual: true}
		if h.line {
			if !o.same(&a.last) { // (else judged as the last login)
				a.travel(&t.x, t.ta, &t.y, t.tb, true)
			}
		} else if len(h.pend) < 8 {
			h.pend = append(h.pend, t)
		}
	}
	h.where = u.Where
	h.where.IP = strings.Clone(u.IP)
	h.last = last
	// a line: held across two new countries; or held for hours (longer
	// than a phone keeps its carrier's address), just before or just
	// after a new place out of its reach: the owner at home while someone
	// logs in from afar
	if !h.line && (h.two || len(h.pend) > 0 && last.Sub(h.first) >= a.cfg.LineHold) {
		a.pinLine(h)
	}
}

// pinLine makes the held address h a line, and judges the trips kept for
// it. Held for hours (not across two new countries), each trip's words
// say so: "meanwhile 187.8.20.30 (São Paulo, BR), in use for 5 h, before
// and after".
func (a *Account) pinLine(h *held) {
	h.line = true
	a.lines++
	for _, t := range h.pend {
		note := ""
		if !h.two {
			odd := t.tb // (the end not usual)
			if t.yUsual {
				odd = t.ta
			}
			side := "before and after"
			switch {
			case !h.first.Before(odd):
				side = "after"
			case !h.last.After(odd):
				side = "before"
			}
			note = "; meanwhile " + h.where.IP + " (" + placeName(&h.where) + "), in use for " + span(h.last.Sub(h.first).Truncate(time.Minute)) + ", " + side
		}
		a.trip(&t.x, t.ta, &t.y, t.tb, t.yUsual, note)
	}
	h.pend = nil
}

// impossible: from x (at ta) to y (at tb) is farther than a plane flies
// (see travel).
func (a *Account) impossible(x *Where, ta time.Time, y *Where, tb time.Time) bool {
	return a.impossibleHeld(x, ta, y, tb, false, false)
}

// impossibleHeld is impossible, with x (heldX) or y (heldY) a held
// address whose trip is kept for when it proves a line (pinOdd, pinUsual):
// taken for one, as pinLine judges the trip then. Not yet a line, it is
// a gateway by its location alone (a home line with a fixed address,
// located to its region, is one until a trip proves it a line): the
// trip to it from a thief's data centre in the same country would never
// be kept, and the line never proven.
func (a *Account) impossibleHeld(x *Where, ta time.Time, y *Where, tb time.Time, heldX, heldY bool) bool {
	if x.Country == y.Country && (x.City == "" || y.City == "" || !heldX && a.gateway(x) || !heldY && a.gateway(y)) {
		// a place known to its country only is anywhere in it; and so
		// is a mobile network's gateway, located vaguely (to its
		// carrier's seat, or a town of its range), unless the account
		// proved it a line (a phone in New York on T-Mobile is located
		// to Seattle)
		return false
	}
	// (a path along the meridian, then along the parallel, is no shorter
	// than the great circle: nearer than that, no need to compute it)
	radii := float64(x.AccuracyKM) + float64(y.AccuracyKM)
	if (math.Abs(x.Lat-y.Lat)+math.Abs(x.Lon-y.Lon))*kmPerDegree-radii < a.cfg.MinTravelKM {
		return false
	}
	km := Distance(x.Lat, x.Lon, y.Lat, y.Lon)
	eff := km - radii
	if eff < a.cfg.MinTravelKM {
		return false
	}
	dt := tb.Sub(ta)
	if dt < 0 {
		dt = -dt
	}
	return dt.Hours() <= 0 || eff/dt.Hours() > a.cfg.MaxSpeed
}

// travel finds an impossible trip from a (at ta) to b (at tb).
// The finding names the end that is not usual (y, unless y is usual).
func (a *Account) travel(x *Where, ta time.Time, y *Where, tb time.Time, yUsual bool) {
	note := ""
	// an end located vaguely, judged because its network is the
	// account's line (lineNet): the words say so
	for _, u := range [2]*Where{x, y} {
		if !vague(u) || a.line(u.IP) {
			continue
		}
		if a.lineNet(u) {
			note = "; " + u.IP + " (" + placeName(u) + ") is on the account's line, " + a.network(u) + ": its addresses there last all day, a phone's change within hours"
			break
		}
		if a.siteLine(u) {
			note = "; " + u.IP + " (" + placeName(u) + ") is on a line of " + a.network(u) + ": the site's accounts keep their addresses there all day, a phone's change within hours"
			break
		}
	}
	a.trip(x, ta, y, tb, yUsual, note)
}

// trip is travel, with a note to the finding's words when it is new.
func (a *Account) trip(x *Where, ta time.Time, y *Where, tb time.Time, yUsual bool, note string) {
	if !a.impossible(x, ta, y, tb) {
		return
	}
	km := Distance(x.Lat, x.Lon, y.Lat, y.Lon)
	dt := tb.Sub(ta)
	if dt < 0 {
		dt = -dt
	}
	// one finding per pair of places, either way
	key := min(placeName(x), placeName(y)) + "\x00" + max(placeName(x), placeName(y))
	odd, oddAt := y, tb
	if yUsual {
		odd, oddAt = x, ta
	}
	f := a.find(ImpossibleTravel, key, High, tb, odd.IP, "")
	if f.Text == "" {
		f.Text = fmt.Sprintf("%s → %s, %s km in %s%s", placeName(x), placeName(y), thousands(int64(math.Round(km/10)*10)), span(dt), note)
	}
	f.everywhere = f.everywhere || a.everywhere(odd, oddAt)
}

// everywhere: w at t is out of reach of each of the account's last
// logins from its most recent precise usual places (two at least): of
// several people using the account, none could have gone there.
func (a *Account) everywhere(w *Where, t time.Time) bool {
	n := 0
	for i := range a.several.recent {
		r := &a.several.recent[i]
		if !r.valid {
			continue
		}
		if !a.impossible(&r.Where, r.at, w, t) {
			return false
		}
		n++
	}
	return n >= 2
}

// concurrent notes logins from usual places, located precisely, farther
// apart than anyone travels in the time between them: two people using
// the account at once. u is such a login, its place used until last; it
// is compared with the last logins from the few precise usual places used
// before it (not only the last login: people take turns). A login on a
// line located vaguely (onLine: the account's or the site's, a trip's end
// where it is located) is compared with them too, and kept as the last
// line's (several.line), with which the precise ones are compared.
func (a *Account) concurrent(u *login, last time.Time, onLine bool) {
	r := &a.several.recent
	k := -1
	check := func(p *login) {
		dt := u.at.Sub(p.at)
		// (the farthest any two places are: no need to compute)
		if dt < 0 || dt.Hours()*a.cfg.MaxSpeed > 20040+float64(p.AccuracyKM+u.AccuracyKM) || p.IP == u.IP {
			return
		}
		far, near := a.impossible(&p.Where, p.at, &u.Where, u.at), a.apart(&p.Where, p.at, &u.Where, u.at)
		if !far && !near || a.flagged(&p.Where) || a.flagged(&u.Where) ||
			!far && (a.oneNetwork(&p.Where, &u.Where, u.at) || a.oneNetwork(&u.Where, &p.Where, u.at)) {
			return
		}
		a.sharing(&p.Where, p.at, &u.Where, u.at, !far, true)
	}
	for i := range r {
		p := &r[i]
		if !p.valid {
			continue
		}
		if p.Lat == u.Lat && p.Lon == u.Lon {
			k = i
			continue
		}
		if !p.cut {
			check(p)
		}
	}
	if onLine {
		a.several.line = *u
		a.several.line.at = last
		a.several.line.IP = strings.Clone(u.IP)
		return
	}
	if l := &a.several.line; l.valid && !l.cut && (l.Lat != u.Lat || l.Lon != u.Lon) {
		check(l)
	}
	// keep it, in place of its place's older login, or of the oldest
	if k < 0 {
		k = 0
		for i := range r {
			if !r[i].valid {
				k = i
				break
			}
			if r[i].at.Before(r[k].at) {
				k = i
			}
		}
	}
	r[k] = *u
	r[k].at = last
	r[k].IP = strings.Clone(u.IP)
}

// apartKM and groundSpeed: two places located precisely (in two towns)
// whose distance, less both accuracy radii, is apartKM or more and below
// Config.MinTravelKM, used one after the other faster than groundSpeed
// (km/h) covers it, are in use at once: nobody drives from Augsburg to
// Munich in five minutes (see apart).
const (
	apartKM     = 10
	groundSpeed = 150
)

// apart: x at ta and y at tb are two places near each other (too near
// for impossible travel: a country's mobile hubs are that far apart) but
// both located precisely, and farther apart than anyone drives in the
// time between them. Only for the account's own usual places, located
// precisely (concurrent): two colleagues' home lines in neighbouring
// towns.
func (a *Account) apart(x *Where, ta time.Time, y *Where, tb time.Time) bool {
	// (a dual-stack line's IPv4 and IPv6 addresses are often located to
	// different towns: one line, one person)
	dt := tb.Sub(ta)
	if dt < 0 {
		dt = -dt
	}
	// (longer apart than groundSpeed needs for MinTravelKM, or nearer
	// than apartKM by a bound of the distance: no need to compute it)
	radii := float64(x.AccuracyKM) + float64(y.AccuracyKM)
	if dt.Hours()*groundSpeed >= a.cfg.MinTravelKM || (math.Abs(x.Lat-y.Lat)+math.Abs(x.Lon-y.Lon))*kmPerDegree-radii < apartKM {
		return false
	}
	if x.City == "" || y.City == "" || vague(x) || vague(y) || strings.Contains(x.IP, ":") != strings.Contains(y.IP, ":") {
		return false
	}
	eff := Distance(x.Lat, x.Lon, y.Lat, y.Lon) - radii
	if eff < apartKM || eff >= a.cfg.MinTravelKM {
		return false
	}
	return dt.Hours() <= 0 || eff/dt.Hours() > groundSpeed
}

// b2i is 1 for true.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func later(x, y time.Time) time.Time {
	if y.After(x) {
		return y
	}
	return x
}

// sharing counts a pair of usual places in use at once, out of reach (near:
// out of reach by road only, see apart). onward: the pairs come in the
// order of the logins (Login's), and a pair of a day before the last day
// counted is of a day counted (a line read late), not a day more; the
// history's rows (Reset) give theirs in no order of time.
func (a *Account) sharing(x *Where, ta time.Time, y *Where, tb time.Time, near, onward bool) {
	c := &a.several.far
	if near {
		c = &a.several.near
	}
	a.several.n++
	if d := later(ta, tb).Unix() / 86400; d != c.day && d > c.known && (!onward || d > c.day) {
		c.day = d
		c.days++
	}
	if c.pair == "" {
		km := Distance(x.Lat, x.Lon, y.Lat, y.Lon)
		dt := tb.Sub(ta)
		if dt < 0 {
			dt = -dt
		}
		c.pair = fmt.Sprintf("%s ↔ %s, %s km in %s", placeName(x), placeName(y), thousands(int64(math.Round(km/10)*10)), span(dt))
	}
}

// flagged: w's country or network was found new (a thief's place that
// became usual while the theft went on is no colleague's).
func (a *Account) flagged(w *Where) bool {
	if len(a.findings) == 0 {
		return false
	}
	return a.findings[NewPlace+"\x00c "+w.Country] != nil || w.ASN != 0 && a.findings[NewPlace+"\x00n "+strconv.FormatUint(uint64(w.ASN), 10)] != nil
}

// sharedDays: an account whose usual places were in use at once, on this
// many days or more, is used by several people (see shared; the default
// of Config.SharedDays).
const sharedDays = 1

// shared: the account's own usual places were in use at once, out of
// reach of each other, on Config.SharedDays days or more, or out of reach
// by road (in neighbouring towns, see apart) on one day more: several
// people use it (a shared mailbox). Then an impossible trip is what one
// of them travelling while another is at home looks like: it is weighed
// low. (One more day by road: a home line's addresses of a day may be
// located to another town of its region.) An account declared shared
// (SetShared) is so from its first login.
func (a *Account) shared() bool {
	return a.declared || a.several.far.days >= a.cfg.SharedDays || a.several.near.days >= a.cfg.SharedDays+1
}

// SetUser names the account as the Census that found the site's common
// places knows it (after Reset, which forgets it): a network that this
// account alone used for long is not familiar to it (a thief's stay).
func (a *Account) SetUser(user string) { a.user = user }

// SetShared declares the account one that several people use ([DETECT]
// shared: the postmaster knows info@ and the team's mailboxes): its
// impossible trips are weighed low from its first login, as an account
// found shared (see shared) has them, but for one out of reach of each of
// its last places. Call it after NewAccount or Reset, before the logins.
func (a *Account) SetShared() { a.declared = true }

// Sharing is what an account's logins showed of several people using it
// (see shared): the days with usual places in use at once, out of reach
// of each other (Far) or by road only (Near), the last day counted (Unix
// days), and the first such pair, in words. A run reads the history's
// rows, which keep each address's first and last logins only, not the
// logins in between that showed two places in use at once: the state
// keeps it between runs (KnowSharing), so that hourly runs and the live
// reader count the days one run over the whole log counts.
type Sharing struct {
	FarDays, NearDays int
	FarDay, NearDay   int64
	FarPair, NearPair string
}

// Zero: nothing was shown.
func (s Sharing) Zero() bool { return s.FarDays == 0 && s.NearDays == 0 }

// Sharing returns what the account's logins showed so far of several
// people using it, what KnowSharing gave included.
func (a *Account) Sharing() Sharing {
	f, n := &a.several.far, &a.several.near
	return Sharing{FarDays: f.days, NearDays: n.days, FarDay: f.day, NearDay: n.day, FarPair: f.pair, NearPair: n.pair}
}

// KnowSharing gives the account what earlier runs' logins showed of
// several people using it (the state's; see Sharing), merged with what
// Reset found in the history's rows (Merge: the state's, unless the rows
// show more days). Call it after Reset, before the logins.
func (a *Account) KnowSharing(s Sharing) {
	m := s.Merge(a.Sharing())
	a.several.far = sharedCount{days: m.FarDays, day: m.FarDay, pair: strings.Clone(m.FarPair), known: s.FarDay}
	a.several.near = sharedCount{days: m.NearDays, day: m.NearDay, pair: strings.Clone(m.NearPair), known: s.NearDay}
}

// Merge is what s and o showed together: of each kind, the one with more
// days (s on a tie), with its last day counted, and its pair (the other's
// when it has none). Not the later day of either: days counted up to one
// day, and a later day from a count of fewer, would take the days between
// for counted (rows of the history that a live reader cut at its start
// all end then, as if their places were in use at once that day).
func (s Sharing) Merge(o Sharing) Sharing {
	m := s
	if o.FarDays > s.FarDays {
		m.FarDays, m.FarDay, m.FarPair = o.FarDays, o.FarDay, cmp.Or(o.FarPair, s.FarPair)
	}
	if o.NearDays > s.NearDays {
		m.NearDays, m.NearDay, m.NearPair = o.NearDays, o.NearDay, cmp.Or(o.NearPair, s.NearPair)
	}
	m.FarPair, m.NearPair = cmp.Or(m.FarPair, o.FarPair), cmp.Or(m.NearPair, o.NearPair)
	return m
}

// sharedBy says which places in use at once made the account shared:
// "Lisbon, PT ↔ São Paulo, BR, 7,950 km in 17 min; 7 days".
func (a *Account) sharedBy() string {
	c := &a.several.far
	if c.days < a.cfg.SharedDays {
		c = &a.several.near
	}
	return c.pair + "; " + plural(c.days, "day", "days")
}

// learnMethods records n logins from a usual place with the SASL
// mechanisms mask, the first at t.
func (a *Account) learnMethods(mask uint8, t time.Time, n int64) {
	m := &a.methods
	if m.mask == 0 || t.Before(m.first) {
		m.first = t
	}
	m.mask |= mask
	m.n += n
}

// client says, of a login from w at t from a new place, that it used a
// SASL mechanism the account never used from its usual places, when its
// logins with a known mechanism have shown its clients' for long enough:
// over the window at least (a day: a person's laptop and phone both show
// within one) and in methodLogins logins at least (a one-off login says
// little). "" otherwise: an unknown mechanism, one the account used, an
// account too young or too quiet to tell. A person's client keeps its
// mechanism (Thunderbird and Apple Mail PLAIN, Outlook LOGIN); a thief's
// tool may use another. A new mechanism alone (a new phone at home) is no
// finding: this only corroborates a new place's.
func (a *Account) client(w *Where, t time.Time) string {
	m := &a.methods
	if w.Methods == 0 || w.Methods&^m.mask == 0 || m.n < methodLogins || t.Sub(m.first) < a.cfg.Window || t.Before(m.unknownUntil) {
		return ""
	}
	days := int(t.Sub(m.first).Hours() / 24)
	return fmt.Sprintf("new client: SASL %s, where the account used %s only (%s, %s)",
		MethodNames(w.Methods&^m.mask), MethodNames(m.mask), plural(days, "day", "days"), thousands(m.n)+" logins")
}

// severity is a finding's severity as weighed: impossible travel on a
// shared account is low; a low finding from a login with a SASL
// mechanism new to the account (client) is medium, on a shared account
// too: the mechanisms are learnt from all its usual places, so each of
// its people's clients that showed from there is known (and an account
// wrongly taken for shared, one person's home line located to the next
// town, keeps this evidence).
func (a *Account) severity(f *finding) Severity {
	if (f.client != "" || f.lone != "") && f.Severity < Medium {
		return Medium
	}
	if f.Detector == ImpossibleTravel && f.Severity > Low && a.shared() && !f.everywhere {
		return Low
	}
	return f.Severity
}

// countMany counts the account's places first used within the window
// before t, and finds many places when they reach the thresholds (the
// finding then says the most found in one window). Places learned on the
// first day of an account without history count: a botnet may be all that
// a new account has.
func (a *Account) countMany(t time.Time, w *Where) {
	from := t.Add(-a.cfg.Window)
	// (a network seen from the whitelisted home country, Where.Home,
	// is watched for a burst and failures first, not counted here: the
	// whitelist's places never are)
	fresh := func(p *place) bool { return !p.trusted && !p.home && !p.first.Before(from) }
	// (the site's common places, whenever they became common: the
	// first day of the logs read is no botnet's for the company's country)
	var cs []string
	for cc, p := range a.countries {
		if _, common := a.site.countries[cc]; fresh(p) && !common {
			cs = append(cs, cc)
		}
	}
	nets := 0
	for asn, p := range a.networks {
		if _, common := a.site.networks[asn]; fresh(p) && !common {
			nets++
		}
	}
	mc, mn := a.cfg.ManyCountries, a.cfg.ManyNetworks
	hitC, hitN := mc > 0 && len(cs) >= mc, mn > 0 && nets >= mn
	if !hitC && !hitN || len(cs) <= a.many.countries && nets <= a.many.networks {
		return
	}
	a.many.countries, a.many.networks = max(a.many.countries, len(cs)), max(a.many.networks, nets)
	slices.Sort(cs)
	text := plural(len(cs), "new country", "new countries")
	if len(cs) > 0 {
		text += " (" + strings.Join(cs, " ") + ")"
	}
	text += " and " + plural(nets, "new network", "new networks") + " within " + span(a.cfg.Window)
	a.find(ManyPlaces, "", High, t, w.IP, "").Text = text
}

// The defaults of Config.Scattered and Config.ScatteredSpan, and how far
// apart a scattered country is from the one before (scatterKM: farther
// than a day's drive or train ride, so a journey's stops by road or rail
// through neighbouring countries never count).
const (
	scattered     = 4
	scatteredSpan = 7 * 24 * time.Hour
	scatterKM     = 2000
)

// countScattered finds a thief who logs in from a new country a night:
// Config.Scattered countries new to the account within
// Config.ScatteredSpan before t, each used for less than the window (no
// stay: a traveller's country, used for longer, is usual by then), each
// scatterKM or more from the one before (in the order of first use; a
// nearer one is skipped: it may be a journey's next stop), none of them
// trusted, learned on the first day or common on the site. A week's tour
// of three countries, or of a country a day by road or rail, is none of
// that; a few logins a night from VN, BR, NG and RU while the owner is at
// home is. Many places per window misses it: each window holds one or two.
func (a *Account) countScattered(t time.Time, w *Where) {
	need := a.cfg.Scattered
	if need <= 0 {
		return
	}
	from := t.Add(-a.cfg.ScatteredSpan)
	type newCountry struct {
		cc string
		p  *place
	}
	var cs []newCountry
	for cc, p := range a.countries {
		if p.trusted || p.learned || !p.located || p.first.Before(from) || p.last.Sub(p.first) >= a.cfg.Window ||
			a.site.commonCountry(cc, t) {
			continue
		}
		cs = append(cs, newCountry{cc, p})
	}
	if len(cs) < need || len(cs) <= a.many.scattered {
		return
	}
	slices.SortFunc(cs, func(x, y newCountry) int { return cmp.Or(x.p.first.Compare(y.p.first), cmp.Compare(x.cc, y.cc)) })
	chain := cs[:1:1]
	km := 0.0
	backs := 0
	for _, c := range cs[1:] {
		prev := chain[len(chain)-1].p
		d, back := Distance(prev.lat, prev.lon, c.p.lat, c.p.lon), false
		// the owner was back at a usual place in between: the thief's
		// next country is no stop of a journey from the one before, and
		// counts when it is as far from there (not on an account several
		// people use: the login between may be another's, at home while
		// one travels); or, near home, when it is far from the one
		// before, as without a login between
		if b := &c.p.back; !a.shared() && b.valid && b.at.After(prev.last) && b.at.Before(c.p.first) {
			if db := Distance(b.lat, b.lon, c.p.lat, c.p.lon); db >= scatterKM {
				d, back = db, true
			}
		}
		if d >= scatterKM {
			chain = append(chain, c)
			km += d
			backs += b2i(back)
		}
	}
	if len(chain) < need || len(chain) <= a.many.scattered {
		return
	}
	a.many.scattered = len(chain)
	names := make([]string, len(chain))
	for i, c := range chain {
		names[i] = c.cc
	}
	days := chain[len(chain)-1].p.first.Sub(chain[0].p.first)
	before := "the one before"
	if backs > 0 {
		before = fmt.Sprintf("the one before (%d of them: from the usual place the account was back at in between, and their km counted from there)", backs)
	}
	a.find(ManyPlaces, "scattered", Medium, t, w.IP, "").Text = fmt.Sprintf(
		"%d new countries in %s (%s, %s km between them in all), each used for less than %s and each %s km or more from %s: no journey's stops",
		len(chain), span(days), strings.Join(names, " → "), thousands(int64(math.Round(km/10)*10)), span(a.cfg.Window), thousands(scatterKM), before)
}

// find records a finding, and returns it; the same one again is counted.
func (a *Account) find(det, key string, sev Severity, at time.Time, ip, text string) *finding {
	k := det + "\x00" + key
	if f := a.findings[k]; f != nil {
		f.n++
		if sev > f.Severity {
			f.Severity = sev
		}
		return f
	}
	f := &finding{Reason: Reason{Detector: det, Severity: sev, Text: text, At: at, IP: strings.Clone(ip)}, n: 1}
	a.findings[k] = f
	a.order = append(a.order, f)
	return f
}

// Found counts the findings so far at least as severe as min: a live
// reader alerts when it grows (a new finding, or one grown more severe).
// It costs a step per finding, not per login.
func (a *Account) Found(min Severity) int {
	n := 0
	for _, f := range a.order {
		if a.severity(f) >= min {
			n++
		}
	}
	return n
}

// Severity is the verdict's severity, without its reasons: the most
// severe finding so far. It costs a step per finding.
func (a *Account) Severity() Severity {
	var s Severity
	for _, f := range a.order {
		s = max(s, a.severity(f))
	}
	return s
}

// Verdict is the findings so far, the most severe first, then in the
// order found. Findings of severity None are kept only when another is
// at least Low, as context. Each detector names at most three findings,
// and says how many more it made.
func (a *Account) Verdict() Verdict {
	var v Verdict
	for _, f := range a.order {
		v.Severity = max(v.Severity, a.severity(f))
	}
	if v.Severity == None {
		return v
	}
	fs := slices.Clone(a.order)
	slices.SortStableFunc(fs, func(x, y *finding) int { return cmp.Compare(a.severity(y), a.severity(x)) })
	shown := map[string]int{}
	more := map[string]int{}
	for _, f := range fs {
		if shown[f.Detector] >= 3 {
			more[f.Detector]++
			continue
		}
		shown[f.Detector]++
		r := f.Reason
		if f.n > 1 && f.Detector == ImpossibleTravel {
			r.Text += fmt.Sprintf(" (%d times)", f.n)
		}
		if sev := a.severity(f); (f.client != "" || f.lone != "") && sev > f.Severity {
			r.Severity = sev
			for _, s := range []string{f.lone, f.client} {
				if s != "" {
					r.Text += "; " + s
				}
			}
		} else if sev != f.Severity {
			r.Severity = sev
			r.Text += "; weighed low: " + a.sharedWhy()
		} else if f.Detector == ImpossibleTravel && a.shared() {
			them := "them" // the places at once
			if a.declared {
				them = "its last places"
			}
			r.Text += "; " + a.sharedWhy() + ", and none of " + them + " was within reach"
		}
		v.Reasons = append(v.Reasons, r)
	}
	for i := len(v.Reasons) - 1; i >= 0; i-- {
		d := v.Reasons[i].Detector
		if n := more[d]; n > 0 {
			v.Reasons[i].Text += fmt.Sprintf("; and %d more", n)
			more[d] = 0
		}
	}
	return v
}

// describe says what the account's usual countries were at t:
// "30 days of history: BR only", "first day learned: BR", "no history",
// "4 days in the logs read: through whitelisted providers only" (relays:
// Gmail's servers, say).
func (a *Account) describe(t time.Time) string {
	var cs []string
	for cc := range a.countries {
		if a.countryUsual(cc, t) {
			cs = append(cs, cc)
		}
	}
	slices.Sort(cs)
	where := "none"
	switch len(cs) {
	case 0:
		if a.relayed {
			where = "through whitelisted providers only"
		}
	case 1:
		where = cs[0] + " only"
	default:
		where = strings.Join(cs, " ")
	}
	origin, of := a.history, "of history"
	if origin.IsZero() {
		origin, of = a.learnTill.Add(-a.cfg.FirstDay), "in the logs read"
	}
	days := int(t.Sub(origin).Hours() / 24)
	if lim := int(a.cfg.Learn.Hours() / 24); days > lim {
		days = lim
	}
	if days == 0 {
		return "less than a day " + of + ": " + where
	}
	return plural(days, "day", "days") + " " + of + ": " + where
}

func (a *Account) network(w *Where) string {
	s := "AS" + strconv.FormatUint(uint64(w.ASN), 10)
	if w.Org != "" {
		s += " " + w.Org
	}
	return s
}

func countryCity(w *Where) string {
	if w.City != "" {
		return w.Country + ", " + w.City
	}
	return w.Country
}

func placeName(w *Where) string {
	switch {
	case w.City != "" && w.Country != "":
		return w.City + ", " + w.Country
	case w.Country != "":
		return w.Country
	}
	return w.IP
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// thousands writes n with commas: 18,700.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// span writes a duration for people: "20 min", "3 h 5 min", "2 days".
func span(d time.Duration) string {
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d.Seconds())) + " s"
	case d < time.Hour:
		return strconv.Itoa(int(d.Minutes())) + " min"
	case d < 48*time.Hour:
		h, m := int(d.Hours()), int(d.Minutes())%60
		if m == 0 {
			return strconv.Itoa(h) + " h"
		}
		return strconv.Itoa(h) + " h " + strconv.Itoa(m) + " min"
	}
	return strconv.Itoa(int(d.Hours()/24)) + " days"
}

// kmPerDegree: a degree of a great circle, of latitude, or more than one of
// longitude, on the Earth's mean radius.
const kmPerDegree = 6371.0088 * math.Pi / 180

// Distance is the great-circle distance in km between two points given in
// degrees (haversine, on a sphere of the Earth's mean radius).
func Distance(lat1, lon1, lat2, lon2 float64) float64 {
	const r = 6371.0088
	rad := math.Pi / 180
	dlat, dlon := (lat2-lat1)*rad, (lon2-lon1)*rad
	h := math.Sin(dlat/2)*math.Sin(dlat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dlon/2)*math.Sin(dlon/2)
	return 2 * r * math.Asin(math.Min(1, math.Sqrt(h)))
}

// sharedWhy says why the account is taken for shared: declared so, or
// "the account is used from several places at once (…)".
func (a *Account) sharedWhy() string {
	if a.declared {
		return "the account is shared ([DETECT] shared)"
	}
	return "the account is used from several places at once (" + a.sharedBy() + ")"
}
