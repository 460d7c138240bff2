// Package report groups logins per account and decides which accounts
// look stolen: by default with pkg/detect's detectors (new places,
// impossible travel, failures then success, many places), which judge
// each account's logins in time order against its usual places; with
// Rule.Original, by the original tool's rule (two or more distinct
// addresses after the whitelist). Thresholds on distinct addresses,
// countries and networks apply on top of either.
//
// Whitelisted logins (marked by the filter, record.FilteredBy) are no
// finding, but they are the account's usual places and the home end of an
// impossible trip, and they go to the history; they are not in the
// report's tables.
package report

import (
	"cmp"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/loganom/loganom/pkg/detect"
	"github.com/loganom/loganom/pkg/record"
)

// Rule says when an account is anomalous: its verdict (the detectors', or
// the original's) and all thresholds that are not zero.
type Rule struct {
	// Original: the original tool's rule, two or more distinct addresses
	// after the whitelist (MinIPs, 2 when no threshold is set), instead
	// of the detectors.
	Original bool
	// Detect configures the detectors; Alert is the least severity
	// reported (default medium).
	Detect detect.Config
	Alert  detect.Severity

	MinIPs       int // distinct addresses (with Original: default 2)
	MinCountries int // distinct countries
	MinASNs      int // distinct autonomous systems
	// CaseSensitive keeps apart the accounts whose local parts differ in
	// case only (Bob@example.com, bob@example.com), for a SASL backend
	// that tells them apart ([REPORT] case_sensitive_users). By default
	// they are one account, reported in lower case. The domain, after the
	// last @, is compared without regard to case either way.
	CaseSensitive bool
	// Shared: the accounts several people use ([DETECT] shared: an
	// account, with its domain or without one, "@domain" for all of a
	// domain's, "info@" for a local part in every domain), whose
	// impossible trips are weighed low from their first login
	// (detect.Account.SetShared).
	Shared []string
	shared *accounts
}

// IP is what an account did from one address.
type IP struct {
	IP    string    `json:"ip"`
	Count int       `json:"count"`
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
	// Trusted: the whitelist covers the address (the rule that does).
	// (Here, by the fields each login counts: one cache line less.)
	Trusted string `json:"-"`
	step    int32  // 1 + its index in its account's stepped; 0 before its first step

	Country      string `json:"country,omitempty"`
	City         string `json:"city,omitempty"`
	RDNS         string `json:"rdns,omitempty"`
	RDNSVerified *bool  `json:"rdns_verified,omitempty"`
	ASN          uint32 `json:"asn,omitempty"`
	Org          string `json:"org,omitempty"`

	// Earlier: the address is from the state's history (an earlier run,
	// within [REPORT] window), not from the logs this run read.
	Earlier bool `json:"earlier,omitempty"`

	// The location, for the state's history (not in the report's formats).
	HasLoc     bool    `json:"-"`
	Lat, Lon   float64 `json:"-"`
	AccuracyKM int     `json:"-"`
	// Methods: the SASL mechanisms of its logins (detect.MethodBit), for
	// the detectors and the state's history.
	Methods uint8 `json:"-"`
}

// Account is one account's logins.
type Account struct {
	// first, the fields each login counts, by the exported ones it
	// counts: in the same two cache lines
	steps []step    // the logins in the order read, a run of one address as one step
	start time.Time // the first login of the run, whitelisted or not

	User      string    `json:"user"`
	Logins    int       `json:"logins"`
	First     time.Time `json:"first"`
	Last      time.Time `json:"last"`
	Countries []string  `json:"countries"`
	ASNs      []uint32  `json:"asns"`
	IPs       []*IP     `json:"ips"`
	// Alert is set, with a state, when the account was already alerted
	// (an incident open or acknowledged): the channels are not sent again.
	// It is nil for an account alerted for the first time, and without a
	// state, so that such a report is the same as a stateless one.
	Alert *AlertMark `json:"already_alerted,omitempty"`
	// Blocked is set when the account is blocked ([BLOCK] auto blocked
	// it for this alert, or a block was in force when it was sent): until
	// when, by whom, and how it is lifted.
	Blocked *BlockMark `json:"blocked,omitempty"`

	// Severity and Reasons are the detectors' verdict (empty with the
	// original rule): why the account is reported, in words.
	Severity string          `json:"severity,omitempty"`
	Reasons  []detect.Reason `json:"reasons,omitempty"`

	// Trusted are the addresses the whitelist covers (marked by the
	// filter): context for the detectors and the history, not reported.
	Trusted []*IP `json:"-"`

	byIP  map[string]*IP
	byID  map[uint32]*IP // byIP's entries by record.Record.AddrID (the batch report in-process)
	known []detect.Known // the history before the run (Know)
	// later: the history's rows first seen after the run's first login,
	// of addresses the run did not see: another mail server's logins
	// (recorded by its run before this one), judged with the run's in
	// time order, as one run over both servers' logs would judge them
	later []detect.Known
	// sharingIn: what the state holds of several people using the
	// account (KnowSharing); sharingOut: that and what its logins showed
	// when last judged (Sharing); sharingKnown: KnowSharing told it
	sharingIn, sharingOut detect.Sharing
	sharingKnown          bool
	// the addresses of the steps, by step.ip - 1 (steps hold no pointer:
	// the collector does not scan them)
	stepped []*IP
}

// stepSpan bounds a step: logins from one address in different hours
// (of the clock, UTC: a grid, not an hour from the step's first login)
// are separate steps, so that the failures between them and the window's
// counts fall where they happened. On a grid, the steps do not depend on
// the order the logs were read in: a run that two logs split (rotated
// logs given newest first) makes two steps, merged again once sorted
// (judge), as one run over the logs in time order makes one.
const stepSpan = time.Hour

// sameStep: logins at ns and ms (Unix ns) may be one step by their times.
func sameStep(ns, ms int64) bool { return ns/int64(stepSpan) == ms/int64(stepSpan) }

// step is a run of logins from one address (Account.stepped[ip-1]), in
// the order read; times in Unix nanoseconds (24 bytes a step, without
// pointers: an account that goes between home and phone all day has a step
// a login).
type step struct {
	first, last int64
	ip          int32
	n           uint16
	meth        uint8 // the logins' SASL mechanism (detect.MethodBit)
}

// AlertMark says when an account was already alerted and what is new.
type AlertMark struct {
	At           time.Time `json:"at"`            // when the alert was opened
	NewAddresses int       `json:"new_addresses"` // addresses this run added to it
}

// String is the mark in words: "already alerted 2026-11-27 10:32; 3 new
// addresses since".
func (m *AlertMark) String() string {
	s := "already alerted " + m.At.Local().Format("2006-01-02 15:04")
	switch m.NewAddresses {
	case 0:
		return s + "; nothing new since"
	case 1:
		return s + "; 1 new address since"
	}
	return s + "; " + strconv.Itoa(m.NewAddresses) + " new addresses since"
}

// Mark marks the anomalous account user as already alerted.
func (rep *Report) Mark(user string, m *AlertMark) {
	rep.sync()
	if a := rep.accounts[user]; a != nil {
		a.Alert = m
	}
}

// Report is the report stage: it keeps one entry per account and address,
// and, for the detectors, each account's logins as steps (a run of logins
// from one address within an hour is one step of 32 bytes: memory grows
// with the changes of address, at most with the logins), and emits
// nothing; Anomalies gives the verdict at the end.
type Report struct {
	Rule     Rule
	accounts map[string]*Account
	order    []string
	unread   []Unread
	empty    []string     // inputs with no line at all, when none had one (record.EmptyInput)
	lines    bool         // a record of a log line was read: empty is no gap (Gaps)
	geo      geoFailed    // logins after the whitelist whose geo lookups failed (batch.go)
	noGeo    geoFailed    // those not located: no geo source was configured
	seen     int          // accounts with logins after the whitelist
	site     *detect.Site // failed logins by address, common places, for the detectors
	// others: the history of the site's accounts that this run did not
	// see (KnowSite), for the census only
	others *detect.Census
	judged []*Account // Anomalies' answer, until something changes
	fresh  bool
	// until: the latest login or failure read, whitelisted or not: the
	// time the logs read reach, for the verdicts that wait (detect's
	// Account.Until)
	until time.Time
	// ahead: a day past the clock when the report was made, that until
	// does not reach (a line dated wrong: reach)
	ahead time.Time
	// from: the earliest login or failure read (Start)
	from time.Time

	addrs []addrSlot // by record.Record.AddrID (batch.go)
	last  []lastUse  // by AddrID too
	pend  []pending  // the logins queued, not counted yet
	locs  []*time.Location
	text  []byte // their accounts' names
}

// Unread is an input that could not be read in full: the report made
// without it is no all-clear.
type Unread struct {
	Input string `json:"input"`      // the file, or stdin
	Lines int64  `json:"lines_read"` // lines read before the error
	Error string `json:"error"`      // what went wrong
}

// Incomplete records an input that could not be read in full, after lines
// lines; the formats name it. A record of type input_error does the same.
func (rep *Report) Incomplete(input string, lines int64, reason string) {
	rep.unread = append(rep.unread, Unread{Input: strings.Clone(input), Lines: lines, Error: strings.Clone(reason)})
}

// Unread returns the inputs that could not be read in full.
func (rep *Report) Unread() []Unread { return rep.unread }

// New makes a report stage.
func New(rule Rule) *Report {
	if rule.Original && rule.MinIPs == 0 && rule.MinCountries == 0 && rule.MinASNs == 0 {
		rule.MinIPs = 2
	}
	if rule.Alert == detect.None {
		rule.Alert = detect.Medium
	}
	rule.Detect = rule.Detect.Defaults()
	rule.shared = newAccounts(rule.Shared, rule.CaseSensitive)
	rep := &Report{Rule: rule, accounts: map[string]*Account{}, ahead: time.Now().Add(24 * time.Hour)}
	if !rule.Original {
		rep.site = detect.NewSite(rule.Detect)
		rep.site.Failures.Deferred = true // filed in Anomalies, for the addresses that logged in
	}
	return rep
}

// Process counts a login, under the account's canonical name
// (record.CanonicalUser), and an input_error record as an input not read
// (Incomplete). A login the filter marked (record.FilteredBy) is a
// whitelisted address of the account: counted apart (Account.Trusted),
// except for an account email_skip whitelists, which is left out. A
// failed login is remembered by address for the detectors. Other records
// are ignored.
func (rep *Report) Process(r *record.Record, emit record.Emit) error {
	if r.Type != record.TypeInputError {
		rep.lines = true
	}
	switch r.Type {
	case record.TypeLogin:
	case record.TypeInputError:
		if r.Reason == record.EmptyInput {
			rep.empty = append(rep.empty, strings.Clone(r.SrcFile))
			return nil
		}
		rep.Incomplete(r.SrcFile, r.SrcLine, r.Reason)
		return nil
	case record.TypeAuthFailure:
		rep.Failure(r.IP, r.Time)
		return nil
	default:
		return nil
	}
	if r.User == "" || r.IP == "" {
		return nil
	}
	trusted := r.FilteredBy
	if trusted != "" && strings.HasPrefix(trusted, "email_skip:") {
		return nil
	}
	rep.fresh = false
	if trusted == "" && len(r.EnrichErrors) > 0 {
		rep.noteGeo(r)
	}
	if rep.queue(r, trusted) {
		return nil
	}
	rep.sync() // the logins queued before this one count first
	a := rep.account(record.CanonicalUser(r.User, rep.Rule.CaseSensitive))
	ip, first := a.addByID(r, trusted)
	rep.counted(a, ip, first, r.Time, detect.MethodBit(r.Method))
	return nil
}

// reveal moves into a.IPs, shown and recorded as its evidence, the
// addresses whitelisted by their country alone (detect.Where.Home) that
// a.Reasons name: the detectors found them (a burst from a new network of
// the home country), and the report shows what it found. An account seen
// only from whitelisted addresses until then becomes one of the report's.
func (rep *Report) reveal(a *Account) {
	was := a.Logins
	if !a.revealHome(a.Reasons) {
		return
	}
	if was == 0 {
		rep.order = append(rep.order, a.User)
		rep.seen++
	}
	a.recount()
	a.summarise()
}

// recount makes a's Logins, First and Last those of a.IPs (the addresses
// it shows: a live window's, or with addresses revealed).
func (a *Account) recount() {
	a.Logins, a.First, a.Last = 0, time.Time{}, time.Time{}
	for _, ip := range a.IPs {
		a.Logins += ip.Count
		a.First = minTime(a.First, ip.First)
		a.Last = maxTime(a.Last, ip.Last)
	}
}

// hasHome: one of a's whitelisted addresses is whitelisted by its country
// alone (detect.Where.Home).
func (a *Account) hasHome() bool {
	return slices.ContainsFunc(a.Trusted, func(ip *IP) bool { return IsHome(ip.Trusted) })
}

// revealed is the account as reveal would make it with reasons, for the
// thresholds; a is left as it is.
func revealed(a *Account, reasons []detect.Reason) *Account {
	v := *a
	v.IPs, v.Trusted = slices.Clone(a.IPs), slices.Clone(a.Trusted)
	if !v.revealHome(reasons) {
		return a
	}
	v.Countries, v.ASNs = nil, nil // summarise reuses them: not a's
	v.summarise()
	return &v
}

// revealHome moves from a.Trusted to a.IPs the addresses whitelisted by
// their country alone that reasons name; it tells whether it moved one.
// (Batch and live: reveal, Live.judge.)
func (a *Account) revealHome(reasons []detect.Reason) bool {
	moved := false
	for _, r := range reasons {
		if r.IP == "" {
			continue
		}
		a.Trusted = slices.DeleteFunc(a.Trusted, func(ip *IP) bool {
			if ip.IP != r.IP || !IsHome(ip.Trusted) {
				return false
			}
			a.IPs = append(a.IPs, ip)
			moved = true
			return true
		})
	}
	return moved
}

// account is the account user, made when new.
func (rep *Report) account(user string) *Account {
	a := rep.accounts[user]
	if a == nil {
		a = newAccount(user)
		rep.accounts[a.User] = a
	}
	return a
}

// counted notes a login from ip at t, counted in a (Account.count said
// whether it was its first not whitelisted): the account's order, and
// its steps for the detectors, with the login's SASL mechanism meth
// (detect.MethodBit; a step is one mechanism's).
func (rep *Report) counted(a *Account, ip *IP, first bool, t time.Time, meth uint8) {
	if first {
		rep.order = append(rep.order, a.User)
		rep.seen++
	}
	ip.Methods |= meth
	rep.reach(t)
	if !t.IsZero() && (rep.from.IsZero() || t.Before(rep.from)) {
		rep.from = t
	}
	if !t.IsZero() && !rep.Rule.Original {
		ns := t.UnixNano()
		if k := len(a.steps) - 1; k >= 0 && ip.step != 0 && a.steps[k].ip == ip.step && a.steps[k].meth == meth && ns >= a.steps[k].last && a.steps[k].n < math.MaxUint16 &&
			sameStep(ns, a.steps[k].first) {
			a.steps[k].last = ns
			a.steps[k].n++
		} else {
			if ip.step == 0 {
				a.stepped = append(a.stepped, ip)
				ip.step = int32(len(a.stepped))
			}
			a.steps = append(a.steps, step{ip: ip.step, first: ns, last: ns, n: 1, meth: meth})
		}
	}
}

// newAccount starts the account user (its name cloned: a record's strings
// may share its whole line).
func newAccount(user string) *Account {
	return &Account{User: strings.Clone(user), byIP: map[string]*IP{}}
}

// addByID is add, finding the address by the record's AddrID when it has
// one: an id never stands for two addresses, so the address found is the
// one add finds by its text (Recall adds by text only: an id not seen
// yet goes through add).
func (a *Account) addByID(r *record.Record, trusted string) (ip *IP, first bool) {
	id := r.AddrID
	if id == 0 {
		return a.add(r, trusted)
	}
	if ip := a.byID[id]; ip != nil {
		return ip, a.count(ip, r.Time)
	}
	ip, first = a.add(r, trusted)
	if a.byID == nil {
		a.byID = make(map[uint32]*IP, 1)
	}
	a.byID[id] = ip
	return ip, first
}

// add counts the login r, from an address the whitelist covers (trusted:
// the rule) or not, and returns its address; first is set when it is the
// account's first login not whitelisted.
func (a *Account) add(r *record.Record, trusted string) (ip *IP, first bool) {
	ip = a.byIP[r.IP]
	if ip == nil {
		ip = newIP(r, trusted)
		a.keep(ip)
	}
	return ip, a.count(ip, r.Time)
}

// newIP is the address of the login r, not counted yet, its strings
// cloned (a record's strings may share its whole line).
func newIP(r *record.Record, trusted string) *IP {
	return &IP{IP: strings.Clone(r.IP), Country: strings.Clone(r.Country), City: strings.Clone(r.City),
		RDNS: strings.Clone(r.RDNS), RDNSVerified: r.RDNSVerified, ASN: r.ASN, Org: strings.Clone(r.Org),
		HasLoc: r.HasLoc, Lat: r.Lat, Lon: r.Lon, AccuracyKM: r.AccuracyKM, Trusted: strings.Clone(trusted)}
}

// keep adds ip, new to the account, to its addresses.
func (a *Account) keep(ip *IP) {
	a.byIP[ip.IP] = ip
	if ip.Trusted != "" {
		a.Trusted = append(a.Trusted, ip)
	} else {
		a.IPs = append(a.IPs, ip)
	}
}

// count counts a login from ip at t (zero: unknown); it tells whether it
// is the account's first login not whitelisted.
func (a *Account) count(ip *IP, t time.Time) (first bool) {
	ip.Count++
	if !t.IsZero() && (a.start.IsZero() || t.Before(a.start)) {
		a.start = t
	}
	if !t.IsZero() {
		if ip.First.IsZero() || t.Before(ip.First) {
			ip.First = t
		}
		if t.After(ip.Last) {
			ip.Last = t
		}
	}
	if ip.Trusted != "" {
		return false
	}
	first = a.Logins == 0
	a.Logins++
	if !t.IsZero() {
		if a.First.IsZero() || t.Before(a.First) {
			a.First = t
		}
		if t.After(a.Last) {
			a.Last = t
		}
	}
	return first
}

// Flush counts the logins queued; the verdict is read with Anomalies.
func (rep *Report) Flush(record.Emit) error {
	rep.sync()
	return nil
}

// Recall adds to the account user, seen in this run, an address that
// the state's history holds from an earlier run (marked Earlier), when
// the run did not see it: the verdict then weighs the account's recent
// past too, as a run over the whole log would. Its logins count in the
// account's.
func (rep *Report) Recall(user string, ip *IP) {
	rep.sync()
	a := rep.accounts[user]
	if a == nil || a.byIP[ip.IP] != nil {
		return
	}
	rep.fresh = false
	ip.Earlier = true
	// in the log's zone, as the run's logins are (the state's times
	// come in the machine's)
	for _, own := range slices.Concat(a.IPs, a.Trusted) {
		if !own.First.IsZero() {
			ip.First, ip.Last = ip.First.In(own.First.Location()), ip.Last.In(own.First.Location())
			break
		}
	}
	a.byIP[ip.IP] = ip
	a.IPs = append(a.IPs, ip)
	if a.Logins == 0 && ip.Count > 0 {
		// whitelisted only in this run: now an account of the report
		rep.order = append(rep.order, a.User)
		rep.seen++
	}
	a.Logins += ip.Count
	if !ip.First.IsZero() && (a.First.IsZero() || ip.First.Before(a.First)) {
		a.First = ip.First
	}
	if ip.Last.After(a.Last) {
		a.Last = ip.Last
	}
}

// reach moves until, how far the logs read reach, on to t, a login's or
// a failure's time; not to a time more than a day ahead of the clock (a
// line dated wrong): it would judge the verdicts that wait for the
// window at once, and leave the failures read before it unrecorded
// (FailuresRead).
func (rep *Report) reach(t time.Time) {
	if t.After(rep.until) && t.Before(rep.ahead) {
		rep.until = t
	}
}

// Failure records a failed login from ip at t, for the detectors
// (failures then success); with the original rule, nothing.
func (rep *Report) Failure(ip string, t time.Time) {
	if rep.site != nil && ip != "" && !t.IsZero() {
		rep.site.Failures.Add(ip, t, t, 1)
		rep.fresh = false
	}
	rep.reach(t)
	if !t.IsZero() && (rep.from.IsZero() || t.Before(rep.from)) {
		rep.from = t
	}
}

// KnowSharing gives the detectors what the state holds of several people
// using the account (detect.Sharing): the days its usual places were in
// use at once, which its history's rows do not keep. Call it for each
// account the state was asked of (nothing held: zero): one it was not
// told of has nothing to record (Sharing).
func (rep *Report) KnowSharing(user string, s detect.Sharing) {
	rep.sync()
	if a := rep.accounts[user]; a != nil {
		a.sharingIn, a.sharingKnown = s, true
		rep.fresh = false
	}
}

// Sharing returns what the account's logins showed of several people
// using it, as of its last judging, what the state held included (see
// KnowSharing); grew: it is more than the state held, to be recorded.
// Not grown when the state's was not told (KnowSharing): counted from
// none, it would have the state take its last day for counted.
func (a *Account) Sharing() (s detect.Sharing, grew bool) {
	return a.sharingOut, a.sharingKnown && !a.sharingOut.Zero() && a.sharingOut != a.sharingIn
}

// Know gives the detectors the account's history before this run (from
// the state): its usual places, and its last login before the run. A row
// first seen at or after the account's first login of the run is this
// run's own logins read again, and is left out.
func (rep *Report) Know(user string, known []detect.Known) {
	rep.sync()
	a := rep.accounts[user]
	// an account seen from whitelisted addresses only is judged when
	// one is whitelisted by its country alone (Anomalies): with its
	// history too
	if a == nil || a.Logins == 0 && (rep.Rule.Original || !a.hasHome()) {
		return
	}
	rep.fresh = false
	start := a.start
	for _, k := range known {
		if !start.IsZero() && !k.First.Before(start) {
			// this run's own logins read again, or, of an address the
			// run did not see, another mail server's later ones
			if ip := a.byIP[k.IP]; ip == nil || ip.Earlier {
				a.later = append(a.later, k)
			}
			continue
		}
		if !start.IsZero() && k.Last.After(start) {
			k.Last, k.Cut = start, true
		}
		a.known = append(a.known, k)
	}
}

// Each calls f for every account seen, in the order first seen (the
// state records them all in its history), then for the accounts seen
// only from whitelisted addresses.
func (rep *Report) Each(f func(*Account)) {
	rep.sync()
	for _, user := range rep.order {
		f(rep.accounts[user])
	}
	for _, a := range rep.accounts {
		if a.Logins == 0 {
			f(a)
		}
	}
}

// String says the rule in words, for the state's alerts: "2 or more
// addresses, 2 or more countries", or "detectors, medium or more".
func (r Rule) String() string {
	var parts []string
	if !r.Original {
		parts = append(parts, "detectors, "+cmp.Or(r.Alert, detect.Medium).String()+" or more")
	}
	for _, x := range []struct {
		n         int
		one, many string
	}{{r.MinIPs, "address", "addresses"}, {r.MinCountries, "country", "countries"}, {r.MinASNs, "network", "networks"}} {
		if x.n > 0 {
			w := x.many
			if x.n == 1 {
				w = x.one
			}
			parts = append(parts, strconv.Itoa(x.n)+" or more "+w)
		}
	}
	return strings.Join(parts, ", ")
}

// Accounts is the number of accounts seen after the whitelist.
func (rep *Report) Accounts() int {
	rep.sync()
	return rep.seen
}

// Anomalies returns the accounts the rule reports, the most severe first:
// by the detectors' severity, then more countries, then more networks,
// then more addresses, then more logins; ties by name.
func (rep *Report) Anomalies() []*Account {
	rep.sync()
	if rep.fresh {
		return rep.judged
	}
	var out []*Account
	r := rep.Rule
	if !r.Original {
		rep.census()
		// the addresses that logged in, not whitelisted, or whitelisted
		// by their country alone (detect.Where.Home)
		logins := []string{}
		for _, a := range rep.accounts {
			for _, ip := range a.IPs {
				logins = append(logins, ip.IP)
			}
			for _, ip := range a.Trusted {
				if IsHome(ip.Trusted) {
					logins = append(logins, ip.IP)
				}
			}
		}
		rep.site.Failures.Keep(logins)
	}
	passes := func(a *Account) bool {
		return len(a.IPs) >= r.MinIPs && len(a.Countries) >= r.MinCountries && len(a.ASNs) >= r.MinASNs
	}
	// home: the account has an address whitelisted by its country alone
	// (detect.Where.Home), that the detectors' findings may name: it is
	// then shown (reveal), and counts for the thresholds, as live
	home := func(a *Account) bool { return !r.Original && a.hasHome() }
	for _, user := range rep.order {
		a := rep.accounts[user]
		a.summarise()
		if !passes(a) && !home(a) {
			continue
		}
		out = append(out, a)
	}
	if !r.Original {
		// the accounts seen from whitelisted addresses only are judged
		// too when one of them is whitelisted by its country alone: a
		// thief in a data centre of the home country (detect.Where.Home)
		for _, a := range rep.accounts {
			if a.Logins == 0 && home(a) {
				a.summarise()
				out = append(out, a)
			}
		}
		verdicts := rep.judgeAll(out)
		kept := out[:0]
		for i, a := range out {
			if v := verdicts[i]; v.Severity < r.Alert || !passes(revealed(a, v.Reasons)) {
				a.Severity, a.Reasons = "", nil
			} else {
				a.Severity, a.Reasons = v.Severity.String(), v.Reasons
				rep.reveal(a)
				kept = append(kept, a)
			}
		}
		out = kept
	}
	rank := func(a *Account) detect.Severity {
		s, _ := detect.ParseSeverity(a.Severity)
		return s
	}
	slices.SortStableFunc(out, func(x, y *Account) int {
		return cmp.Or(
			cmp.Compare(rank(y), rank(x)),
			cmp.Compare(len(y.Countries), len(x.Countries)),
			cmp.Compare(len(y.ASNs), len(x.ASNs)),
			cmp.Compare(len(y.IPs), len(x.IPs)),
			cmp.Compare(y.Logins, x.Logins),
			strings.Compare(x.User, y.User))
	})
	rep.judged, rep.fresh = out, true
	return out
}

// Common returns the places common to the site's accounts, found by the
// last Anomalies (none with the original rule).
func (rep *Report) Common() detect.Common {
	if rep.site == nil {
		return detect.Common{}
	}
	return rep.site.Common()
}

// KnowSite gives the census the history of an account that this run did
// not see: the places common to the site's accounts, the networks
// familiar to it and its ranges of lines (detect.Common) are counted over
// all of them, as a run over the whole log counts them, where an hourly
// run sees the few that logged in within the hour (a traveller's hotel
// network, where colleagues stayed last week, was "used by no account
// of the site"). An account of the run is known by Know.
func (rep *Report) KnowSite(user string, k *detect.Known) {
	if k.Relay || rep.Rule.Original {
		return
	}
	if rep.others == nil {
		rep.others = &detect.Census{}
	}
	rep.fresh = false
	rep.others.Add(user, &k.Where, k.First, k.Last)
}

// Start is the time of the earliest login or failure read (zero: none).
func (rep *Report) Start() time.Time {
	rep.sync() // (the logins queued are counted: from is among them)
	return rep.from
}

// KnowFailures gives the detectors the failed logins a state remembers
// from earlier runs (FailuresRead then): failures from an address in an
// hourly run, and its login in the next, are failures then success, as
// in one run over both hours. own are those this mail server's earlier
// runs recorded: a failure read again within one of them (the log given
// again) counts once, and is not recorded again (FailuresRead). With the
// original rule, nothing.
func (rep *Report) KnowFailures(runs, own []detect.FailureRun) {
	if rep.site == nil || len(runs)+len(own) == 0 {
		return
	}
	rep.site.Failures.Known(runs)
	rep.site.Failures.KnownOwn(own)
	rep.fresh = false
}

// RecordFailures asks the report to keep the failed logins read, of every
// address, for FailuresRead: call it before the verdicts (Anomalies).
func (rep *Report) RecordFailures() {
	if rep.site != nil {
		rep.site.Failures.Record = true
	}
}

// FailuresRead returns the failed logins read, as runs by address, once
// the verdicts were given (Anomalies), when RecordFailures was called
// before: for a state to remember. KnowFailures' are not among them, nor
// those that end more than the window before the last login or failure
// read: no later run pairs them with a login (a first run over weeks of
// logs records its last window's, not weeks of bots).
func (rep *Report) FailuresRead() []detect.FailureRun {
	if rep.site == nil {
		return nil
	}
	runs := rep.site.Failures.Noted()
	if rep.until.IsZero() {
		return runs
	}
	from := rep.until.Add(-rep.Rule.Detect.Defaults().Window)
	out := runs[:0:0]
	for _, r := range runs {
		if !r.Last.Before(from) {
			out = append(out, r)
		}
	}
	return out
}

// census finds the places common to the site's accounts (detect.Census),
// from this run's logins and the history known (KnowSite's too).
func (rep *Report) census() {
	c := rep.others
	if c == nil {
		c = &detect.Census{}
	}
	for _, a := range rep.accounts {
		for _, ip := range slices.Concat(a.IPs, a.Trusted) {
			if ip.Earlier {
				continue
			}
			if w := ip.Where(); !w.Relay {
				c.Add(a.User, &w, ip.First, ip.Last)
			}
		}
		for i := range a.known {
			if k := &a.known[i]; !k.Relay {
				c.Add(a.User, &k.Where, k.First, k.Last)
			}
		}
	}
	rep.site.SetCommon(c.Common(rep.Rule.Detect))
}

// judgeAll judges the accounts (Judge), on as many goroutines as the
// process may run at once: at the end of a batch nothing else runs, and
// the accounts are judged apart (the site, the census's and the
// failures', is only read from here on).
func (rep *Report) judgeAll(accounts []*Account) []detect.Verdict {
	rep.sync()
	vs := make([]detect.Verdict, len(accounts))
	workers := min(runtime.GOMAXPROCS(0), len(accounts)/judgeBatch+1)
	if workers <= 1 {
		var d detect.Account
		for i, a := range accounts {
			vs[i] = rep.judge(a, &d)
		}
		return vs
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			var d detect.Account // one for all the accounts this goroutine judges (detect.Account.Reset)
			for {
				end := int(next.Add(judgeBatch))
				start := end - judgeBatch
				if start >= len(accounts) {
					return
				}
				for i := start; i < min(end, len(accounts)); i++ {
					vs[i] = rep.judge(accounts[i], &d)
				}
			}
		})
	}
	wg.Wait()
	return vs
}

// judgeBatch is how many accounts a goroutine of judgeAll takes at a time.
const judgeBatch = 64

// Judge runs the detectors over the account: its history (Know), then
// its logins in time order, whitelisted ones included.
func (rep *Report) Judge(a *Account) detect.Verdict {
	return rep.judge(a, new(detect.Account))
}

// judge is Judge with d to judge in, whatever it judged before.
func (rep *Report) judge(a *Account, d *detect.Account) detect.Verdict {
	rep.sync()
	d.Reset(&rep.Rule.Detect, a.known, rep.site)
	d.KnowSharing(a.sharingIn)
	d.SetUser(a.User)
	if rep.Rule.shared.has(a.User) {
		d.SetShared()
	}
	// in time order: rotated logs may have been given newest first; and
	// a run of one address that two logs split is one step again, as
	// counted would have made it reading them in time order
	slices.SortStableFunc(a.steps, func(x, y step) int { return cmp.Compare(x.first, y.first) })
	a.steps = mergeSteps(a.steps)
	// another server's later logins (Know), each row as one step, among
	// the run's in time order
	slices.SortStableFunc(a.later, func(x, y detect.Known) int { return x.First.Compare(y.First) })
	later := a.later
	var loc *time.Location
	for _, s := range a.steps {
		ip := a.stepped[s.ip-1]
		loc = ip.First.Location() // the log's zone, for the reasons' times
		for len(later) > 0 && later[0].First.UnixNano() < s.first {
			k := &later[0]
			d.Login(&k.Where, k.First.In(loc), k.Last.In(loc), int(max(k.Count, 1)))
			later = later[1:]
		}
		w := ip.Where()
		w.Methods = s.meth
		d.Login(&w, time.Unix(0, s.first).In(loc), time.Unix(0, s.last).In(loc), int(s.n))
	}
	for i := range later {
		k := &later[i]
		if loc == nil {
			loc = k.First.Location()
		}
		d.Login(&k.Where, k.First.In(loc), k.Last.In(loc), int(max(k.Count, 1)))
	}
	// what waits for the window (a lone far login) is judged at the
	// latest login or failure read; not with a state (the state was asked
	// of the account: KnowSharing): there the account's own next login
	// judges it, in a later run if need be, from the history's rows,
	// which say nothing of how far an earlier run read: judged at its
	// end, it would be judged again at that login
	if !a.sharingKnown {
		until := rep.until
		for i := range a.later {
			if l := a.later[i].Last; l.After(until) {
				until = l
			}
		}
		d.Until(until)
	}
	a.sharingOut = d.Sharing()
	return d.Verdict()
}

// mergeSteps merges, in steps sorted by their first login, each step into
// the one before when counted would have made them one: the same address
// and mechanism, the same hour, the later from the earlier's last login on.
func mergeSteps(steps []step) []step {
	out := steps[:0]
	for _, s := range steps {
		if k := len(out) - 1; k >= 0 && out[k].ip == s.ip && out[k].meth == s.meth && s.first >= out[k].last &&
			sameStep(s.first, out[k].first) && int(out[k].n)+int(s.n) <= math.MaxUint16 {
			out[k].last = s.last
			out[k].n += s.n
			continue
		}
		out = append(out, s)
	}
	return out
}

// Where is the address as the detectors see it: a whitelisted address
// is trusted (a usual place), or a relay when a provider's server
// (pattern_ip, pattern_org) is whitelisted: not the user's place.
func (ip *IP) Where() detect.Where {
	return detect.Where{IP: ip.IP, Country: ip.Country, City: ip.City, ASN: ip.ASN, Org: ip.Org,
		HasLoc: ip.HasLoc, Lat: ip.Lat, Lon: ip.Lon, AccuracyKM: ip.AccuracyKM,
		Trusted: ip.Trusted != "" && !IsRelay(ip.Trusted), Relay: IsRelay(ip.Trusted), Home: IsHome(ip.Trusted), Methods: ip.Methods}
}

// IsHome tells whether the filter's rule (record.FilteredBy) whitelists
// the address by its country alone (country_ignore): the detectors still
// watch its network (detect.Where.Home).
func IsHome(rule string) bool { return strings.HasPrefix(rule, "country_ignore:") }

// IsRelay tells whether the filter's rule (record.FilteredBy) whitelists a
// provider's server rather than a place: pattern_ip or pattern_org.
func IsRelay(rule string) bool {
	return strings.HasPrefix(rule, "pattern_ip:") || strings.HasPrefix(rule, "pattern_org:")
}

// summarise fills Countries and ASNs and orders the addresses: by country,
// then by first login.
func (a *Account) summarise() {
	cs, as := map[string]bool{}, map[uint32]bool{}
	a.Countries, a.ASNs = a.Countries[:0], a.ASNs[:0]
	for _, ip := range a.IPs {
		if ip.Country != "" && !cs[ip.Country] {
			cs[ip.Country] = true
			a.Countries = append(a.Countries, ip.Country)
		}
		if ip.ASN != 0 && !as[ip.ASN] {
			as[ip.ASN] = true
			a.ASNs = append(a.ASNs, ip.ASN)
		}
	}
	slices.Sort(a.Countries)
	slices.Sort(a.ASNs)
	if a.Countries == nil {
		a.Countries = []string{}
	}
	if a.ASNs == nil {
		a.ASNs = []uint32{}
	}
	slices.SortStableFunc(a.IPs, func(x, y *IP) int {
		return cmp.Or(strings.Compare(x.Country, y.Country), x.First.Compare(y.First), strings.Compare(x.IP, y.IP))
	})
}
