// Package filter drops the records that the postmaster's whitelist
// covers, with the original tool's configuration: rDNS name patterns,
// AS numbers and organisations, countries, accounts, and private or
// reserved addresses, plus CIDR ranges.
package filter

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/loganom/loganom/pkg/record"
)

// Rules is the whitelist.
type Rules struct {
	// PatternIP: reverse DNS names ([GENERAL] pattern_ip) matched on whole
	// labels (see namePattern), without regard to case, against
	// forward-confirmed names only unless TrustUnverified: an unconfirmed
	// PTR is whatever the owner of the address chose to call it.
	PatternIP       []string
	TrustUnverified bool
	// PatternIPSubstring matches the PatternIP entries anywhere in the
	// name, as the original tool did ([FILTER] pattern_ip_substring):
	// unsafe, since the owner of an address can make
	// google.com.evil.example resolve back to it.
	PatternIPSubstring bool
	// PatternOrg: "AS8075" entries match the AS number, others are
	// substrings of the organisation ([GENERAL] pattern_org).
	PatternOrg []string
	// CountryIgnore: ISO codes ([GENERAL] country_ignore).
	CountryIgnore []string
	// EmailSkip: accounts ([GENERAL] email_skip), compared as the report
	// groups them (record.CanonicalUser): without regard to case, or, with
	// CaseSensitiveUsers, with the local part as it is; an entry
	// "@example.com" covers the whole domain, whatever its case.
	EmailSkip          []string
	CaseSensitiveUsers bool
	// IPIgnore: addresses and CIDR ranges ([GENERAL] ip_ignore).
	IPIgnore []netip.Prefix
	// KeepPrivate keeps private, loopback, link-local, CGNAT,
	// documentation and other reserved addresses, which are dropped by
	// default as the original dropped private ones.
	KeepPrivate bool
}

// ParsePrefixes reads addresses and CIDR ranges. IPv4-mapped entries
// (::ffff:9.9.9.0/120, ::ffff:1.2.3.4) are made IPv4 (9.9.9.0/24,
// 1.2.3.4/32), as records write those addresses; a mapped range wider than
// the mapped space (shorter than /96) is refused, and so is an entry with
// an IPv6 zone (fe80::1%eth0): records are matched without their zone, so
// a zone in the list would whitelist the address on every link.
func ParsePrefixes(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if i := strings.IndexByte(s, '%'); i >= 0 {
			return nil, fmt.Errorf("ip_ignore: %q has an IPv6 zone; write it without %q (addresses are matched without their zone)", s, zoneOf(s[i:]))
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return nil, fmt.Errorf("ip_ignore: %q is not an address or CIDR range", s)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if a := p.Addr(); a.Is4In6() {
			if p.Bits() < 96 {
				return nil, fmt.Errorf("ip_ignore: %q is an IPv4-mapped range shorter than /96, wider than the IPv4-mapped addresses; write the IPv4 range instead", s)
			}
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// zoneOf is the zone part of an entry ("%eth0" of "%eth0/64").
func zoneOf(s string) string {
	if i := strings.IndexByte(s, '/'); i >= 0 {
		return s[:i]
	}
	return s
}

// Filter is the filter stage. With Explain, dropped records are kept and
// say why in filtered_by.
type Filter struct {
	Explain bool
	rules   Rules
	asns    map[uint32]bool
	orgs    []string // lower case
	country map[string]bool
	emails  map[string]bool
	domains []string
	pats    []namePattern
	words   bool              // a pattern is a word: the registrable domain is wanted
	byIP    map[string]string // the address rules' verdict, by ip text
	byID    []uint32          // the same, by record.Record.AddrID (in-process): 0 not known, 1 none, else idWhy[n-2]
	idWhy   []string          // byID's verdicts (4 bytes an address in byID: it stays in the cache)
	byName  map[string]int    // the pattern_ip entry that matches, by rdns text; -1: none

	// The reasons of the rules that do not depend on the record, made
	// once: a record whitelisted by them allocates nothing, and its
	// filtered_by is one string for all (the report compares it).
	asnWhy     map[uint32]string
	countryWhy map[string]string
	orgWhy     []string
	patWhy     []string

	Dropped map[string]int // by rule
	// Unchecked counts the records kept whose reverse name a pattern_ip
	// entry matches but that carry no rdns_verified: loganom-enrich did
	// not check the name forward, not knowing the pattern.
	Unchecked int
	// Warnings are about the rules: an unsafe option, entries ignored or
	// likely mistaken. The caller shows them once.
	Warnings []Warning
}

// A Warning is about the rules: about an entry of the [GENERAL] key Key,
// or, with no Key, about an option. Hint, when set, says what to do.
type Warning struct{ Key, Msg, Hint string }

func (w Warning) String() string {
	if w.Key != "" {
		return w.Key + ": " + w.Msg
	}
	return w.Msg
}

// New compiles rules.
func New(r Rules, explain bool) (*Filter, error) {
	f := &Filter{Explain: explain, rules: r, asns: map[uint32]bool{}, country: map[string]bool{}, emails: map[string]bool{}, Dropped: map[string]int{}}
	if r.PatternIPSubstring {
		f.Warnings = append(f.Warnings, Warning{Msg: "pattern_ip_substring is on: pattern_ip entries match anywhere in the reverse name, " +
			"which is unsafe (google.com also matches google.com.evil.example, a name its owner can make resolve back)"})
	}
	for _, p := range r.PatternIP {
		if p = strings.ToLower(strings.TrimSpace(p)); p == "" {
			continue
		}
		pat, w, ok := parsePattern(p, r.PatternIPSubstring)
		if w.Msg != "" {
			f.Warnings = append(f.Warnings, w)
		}
		if !ok {
			continue
		}
		f.pats = append(f.pats, pat)
		f.words = f.words || pat.kind == patWord
	}
	for _, o := range r.PatternOrg {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		if len(o) > 2 && strings.EqualFold(o[:2], "AS") {
			if n, err := strconv.ParseUint(o[2:], 10, 32); err == nil {
				f.asns[uint32(n)] = true
				continue
			}
		}
		f.orgs = append(f.orgs, strings.ToLower(o))
	}
	for _, c := range r.CountryIgnore {
		c = strings.ToUpper(strings.TrimSpace(c))
		if len(c) != 2 {
			return nil, fmt.Errorf("country_ignore: %q is not a two-letter country code", c)
		}
		f.country[c] = true
	}
	for _, e := range r.EmailSkip {
		e = strings.TrimSpace(e)
		switch {
		case e == "":
		case strings.HasPrefix(e, "@"):
			f.domains = append(f.domains, record.CanonicalUser(e, false))
		default:
			f.emails[record.CanonicalUser(e, r.CaseSensitiveUsers)] = true
		}
	}
	f.asnWhy = make(map[uint32]string, len(f.asns))
	for n := range f.asns {
		f.asnWhy[n] = "pattern_org: AS" + strconv.FormatUint(uint64(n), 10)
	}
	f.countryWhy = make(map[string]string, len(f.country))
	for c := range f.country {
		f.countryWhy[c] = "country_ignore: " + c
	}
	for _, o := range f.orgs {
		f.orgWhy = append(f.orgWhy, "pattern_org: "+o)
	}
	for i := range f.pats {
		f.patWhy = append(f.patWhy, "pattern_ip: "+f.pats[i].text)
	}
	return f, nil
}

// Why returns the rule and value that drop r, or "".
func (f *Filter) Why(r *record.Record) string {
	if r.User != "" && (len(f.emails) > 0 || len(f.domains) > 0) {
		u := record.CanonicalUser(r.User, f.rules.CaseSensitiveUsers)
		if f.emails[u] {
			return "email_skip: " + r.User
		}
		for _, d := range f.domains {
			if strings.HasSuffix(u, d) {
				return "email_skip: " + d
			}
		}
	}
	if why := f.recordAddressRule(r); why != "" {
		return why
	}
	if len(f.pats) > 0 && r.RDNS != "" && (f.rules.TrustUnverified || r.RDNSVerified != nil && *r.RDNSVerified) {
		if i := f.namePatternIndex(r.RDNS); i >= 0 {
			return f.patWhy[i]
		}
	}
	if r.ASN != 0 && len(f.asnWhy) > 0 {
		if why, ok := f.asnWhy[r.ASN]; ok {
			return why
		}
	}
	if r.Org != "" && len(f.orgs) > 0 {
		org := strings.ToLower(r.Org)
		for i, o := range f.orgs {
			if strings.Contains(org, o) {
				return f.orgWhy[i]
			}
		}
	}
	if r.Country != "" && len(f.countryWhy) > 0 {
		why, ok := f.countryWhy[r.Country]
		if !ok {
			why, ok = f.countryWhy[strings.ToUpper(r.Country)]
		}
		if ok {
			return why
		}
	}
	return ""
}

// NeedsConfirmation says whether the verdict on a record whose reverse
// name is name could depend on that name's resolving back to the address:
// a pattern_ip entry matches it, and unverified names are not trusted.
// loganom-enrich checks only those names forward (enrich.Options.Confirm).
// It is safe for concurrent use.
func (f *Filter) NeedsConfirmation(name string) bool {
	return !f.rules.TrustUnverified && len(f.pats) > 0 && f.matchName(name) >= 0
}

// PatternsMayMatch returns a function that says whether one of the
// pattern_ip entries could match a reverse name, matched on whole labels or
// anywhere in the name (pattern_ip_substring): what any Filter with these
// entries matches, whatever its options, and a little more. For a process
// that reads the entries from the config but not loganom-filter's flags
// (loganom-enrich). It is safe for concurrent use.
func PatternsMayMatch(patterns []string) func(name string) bool {
	labels, _ := New(Rules{PatternIP: patterns}, false)
	substr, _ := New(Rules{PatternIP: patterns, PatternIPSubstring: true}, false)
	return func(name string) bool {
		return labels.NeedsConfirmation(name) || substr.NeedsConfirmation(name)
	}
}

// namePattern is the first pattern_ip entry that matches a reverse name,
// or nil; remembered, as names repeat with their addresses.
func (f *Filter) namePattern(rdns string) *namePattern {
	if i := f.namePatternIndex(rdns); i >= 0 {
		return &f.pats[i]
	}
	return nil
}

// namePatternIndex is namePattern's index in f.pats, or -1.
func (f *Filter) namePatternIndex(rdns string) int {
	i, ok := f.byName[rdns]
	if !ok {
		i = f.matchName(rdns)
		if f.byName == nil || len(f.byName) >= 1<<16 {
			f.byName = make(map[string]int)
		}
		f.byName[strings.Clone(rdns)] = i
	}
	return i
}

// matchName is the index of the first pattern_ip entry that matches a
// reverse name, or -1.
func (f *Filter) matchName(rdns string) int {
	name, word := strings.ToLower(rdns), ""
	if !f.rules.PatternIPSubstring {
		name = strings.TrimSuffix(name, ".")
		if !hostName(name) {
			return -1
		}
		if f.words {
			word = registrableWord(name)
		}
	}
	for i := range f.pats {
		if f.pats[i].match(name, word) {
			return i
		}
	}
	return -1
}

// maxIDs bounds byID: records with larger ids go by their text.
const maxIDs = 1 << 16

// recordAddressRule is addressRule on r's address, remembered by its
// AddrID when it has one (the wrapper: no hashing of the text again).
func (f *Filter) recordAddressRule(r *record.Record) string {
	id := r.AddrID
	if id == 0 || id >= maxIDs {
		return f.addressRule(r.IP)
	}
	if int(id) < len(f.byID) {
		switch v := f.byID[id]; v {
		case 0:
		case 1:
			return ""
		default:
			return f.idWhy[v-2]
		}
	}
	why := f.judgeAddress(r.IP) // (not remembered by text too: its id says it again)
	if int(id) >= len(f.byID) {
		f.byID = append(f.byID, make([]uint32, int(id)+1-len(f.byID))...)
		f.byID = f.byID[:cap(f.byID)]
	}
	f.byID[id] = 1
	if why != "" {
		f.idWhy = append(f.idWhy, why)
		f.byID[id] = uint32(len(f.idWhy) + 1)
	}
	return why
}

// addressRule is the verdict of ip_ignore and the private and reserved
// ranges on an address, remembered: addresses repeat, records by the
// thousand.
func (f *Filter) addressRule(s string) string {
	if why, ok := f.byIP[s]; ok {
		return why
	}
	why := f.judgeAddress(s)
	if f.byIP == nil || len(f.byIP) >= 1<<16 {
		f.byIP = make(map[string]string)
	}
	f.byIP[strings.Clone(s)] = why
	return why
}

// judgeAddress is addressRule, not remembered.
func (f *Filter) judgeAddress(s string) string {
	why := ""
	if ip, err := netip.ParseAddr(s); err == nil {
		// fe80::1%eth0 is fe80::1 on some link: link-local all the same,
		// and in ip_ignore's ranges as fe80::1 is (Contains is false for
		// any zoned address)
		ip = ip.Unmap().WithZone("")
		for _, p := range f.rules.IPIgnore {
			if p.Contains(ip) {
				why = "ip_ignore: " + p.String()
				break
			}
		}
		if why == "" && !f.rules.KeepPrivate {
			if kind := special(ip); kind != "" {
				why = kind + ": " + ip.String()
			}
		}
	}
	return why
}

// Process drops (or, with Explain, marks) a record the rules cover.
func (f *Filter) Process(r *record.Record, emit record.Emit) error {
	why := f.Why(r)
	if why == "" {
		if r.RDNS != "" && r.RDNSVerified == nil && len(f.pats) > 0 && !f.rules.TrustUnverified && f.namePattern(r.RDNS) != nil {
			f.Unchecked++
		}
		return emit(r)
	}
	f.Dropped[why[:strings.IndexByte(why, ':')]]++
	if f.Explain {
		r.FilteredBy = why
		return emit(r)
	}
	return nil
}

// Flush does nothing: the filter holds nothing back.
func (f *Filter) Flush(record.Emit) error { return nil }

var specials = []struct {
	kind   string
	prefix netip.Prefix
}{
	{"private", netip.MustParsePrefix("10.0.0.0/8")},
	{"private", netip.MustParsePrefix("172.16.0.0/12")},
	{"private", netip.MustParsePrefix("192.168.0.0/16")},
	{"private", netip.MustParsePrefix("fc00::/7")},
	{"cgnat", netip.MustParsePrefix("100.64.0.0/10")},
	{"loopback", netip.MustParsePrefix("127.0.0.0/8")},
	{"loopback", netip.MustParsePrefix("::1/128")},
	{"link-local", netip.MustParsePrefix("169.254.0.0/16")},
	{"link-local", netip.MustParsePrefix("fe80::/10")},
	{"documentation", netip.MustParsePrefix("192.0.2.0/24")},
	{"documentation", netip.MustParsePrefix("198.51.100.0/24")},
	{"documentation", netip.MustParsePrefix("203.0.113.0/24")},
	{"documentation", netip.MustParsePrefix("2001:db8::/32")},
	{"documentation", netip.MustParsePrefix("3fff::/20")},
	{"reserved", netip.MustParsePrefix("0.0.0.0/8")},
	{"reserved", netip.MustParsePrefix("192.0.0.0/24")},
	{"reserved", netip.MustParsePrefix("198.18.0.0/15")},
	{"reserved", netip.MustParsePrefix("224.0.0.0/3")}, // multicast, class E, broadcast
	{"reserved", netip.MustParsePrefix("::/128")},
	{"reserved", netip.MustParsePrefix("100::/64")},
	{"reserved", netip.MustParsePrefix("2001::/23")},
	{"reserved", netip.MustParsePrefix("ff00::/8")},
}

// special names the kind of a private or reserved address, or "".
func special(ip netip.Addr) string {
	for _, s := range specials {
		if s.prefix.Contains(ip) {
			return s.kind
		}
	}
	return ""
}
