package report

import (
	"strings"
	"time"
	"unsafe"

	"github.com/loganom/loganom/pkg/detect"
	"github.com/loganom/loganom/pkg/record"
)

// The batch report in-process (the wrapper) queues the logins that carry
// a record.Record.AddrID and counts them a few thousand at a time (sync),
// in the order read: the same counts, firsts, lasts and steps as one by
// one, but an account's entries, touched a few times in a row, stay in
// the cache, where one by one each login found them evicted by the lines
// parsed since its account's last login. Every method that reads the
// accounts syncs first.

// pending is a queued login: its account's name is in Report.text up to
// end (from the previous entry's end), its address is Report.addrs[id],
// its time is time.Unix(sec, nsec) in Report.locs[loc-1] (loc 0: none).
// No pointer: the collector does not scan the queue.
type pending struct {
	sec  int64
	nsec int32
	loc  uint16
	meth uint8 // the SASL mechanism (detect.MethodBit)
	end  uint32
	id   uint32
}

// maxLocs bounds Report.locs: a login in yet another zone goes one by one.
const maxLocs = 64

// when is the time of a queued login.
func (rep *Report) when(e *pending) time.Time {
	if e.loc == 0 {
		return time.Time{}
	}
	return time.Unix(e.sec, int64(e.nsec)).In(rep.locs[e.loc-1])
}

// pend makes the queue's entry for a login at t; ok is false when the
// entry would not give t back exactly (a monotonic reading, too many
// zones).
func (rep *Report) pending(t time.Time, end, id uint32) (e pending, ok bool) {
	e = pending{end: end, id: id}
	if t.IsZero() {
		return e, t == time.Time{}
	}
	loc := t.Location()
	i := 0
	for i < len(rep.locs) && rep.locs[i] != loc {
		i++
	}
	if i == len(rep.locs) {
		if i == maxLocs {
			return e, false
		}
		rep.locs = append(rep.locs, loc)
	}
	e.sec, e.nsec, e.loc = t.Unix(), int32(t.Nanosecond()), uint16(i+1)
	return e, rep.when(&e) == t
}

// addrSlot is what the report knows of one AddrID: the address as its
// first login gave it (not counted; an id never stands for two addresses),
// copied into each account that logs in from it; the filter's mark; a
// login is queued as this address only when it has the same mark and
// enrichment (the wrapper's enricher gives all the records of an id the
// same answer, but a record made otherwise may differ).
type addrSlot struct {
	tpl     *IP
	trusted string
	enr     enrichment
}

// lastUse is the last account that logged in from an AddrID, with its
// entry for the address: most addresses are one account's, whose logins
// then need no lookup of the account by name nor of the address in the
// account. (Apart from addrSlot: 16 bytes an address, in the cache.)
type lastUse struct {
	a  *Account
	ip *IP
}

// enrichment is a login's enrichment, its strings as the record had them
// (not cloned: compared by identity first, without reading them).
type enrichment struct {
	country, city, rdns, org string
	lat, lon                 float64
	accuracy                 int
	asn                      uint32
	hasLoc                   bool
	verified                 int8 // RDNSVerified: 0 nil, 1 false, 2 true
}

func enrichmentOf(r *record.Record) enrichment {
	e := enrichment{country: r.Country, city: r.City, rdns: r.RDNS, org: r.Org, lat: r.Lat, lon: r.Lon,
		accuracy: r.AccuracyKM, asn: r.ASN, hasLoc: r.HasLoc}
	if r.RDNSVerified != nil {
		e.verified = 1
		if *r.RDNSVerified {
			e.verified = 2
		}
	}
	return e
}

// same tells whether r has the enrichment e. The enricher's records of
// one address share its answer's strings: same pointer, same length.
func (e *enrichment) same(r *record.Record) bool {
	v := int8(0)
	if r.RDNSVerified != nil {
		v = 1
		if *r.RDNSVerified {
			v = 2
		}
	}
	return e.asn == r.ASN && e.hasLoc == r.HasLoc && e.lat == r.Lat && e.lon == r.Lon && e.accuracy == r.AccuracyKM && e.verified == v &&
		sameString(e.country, r.Country) && sameString(e.city, r.City) && sameString(e.rdns, r.RDNS) && sameString(e.org, r.Org)
}

// sameString is a == b, without reading them when they are one string.
func sameString(a, b string) bool {
	return len(a) == len(b) && (unsafe.StringData(a) == unsafe.StringData(b) || a == b)
}

const (
	maxAddrIDs  = 1 << 17 // larger ids go one by one (the tables by id: at most some 20 MB)
	batchLogins = 1 << 14 // logins queued before they are counted (512 KB)
	batchText   = 1 << 20 // bytes of account names queued before they are counted
)

// queue queues the login r, whitelisted by the rule trusted or not, when
// it can: it has an AddrID, marked as the address's first login was.
func (rep *Report) queue(r *record.Record, trusted string) bool {
	id := r.AddrID
	if id == 0 || id >= maxAddrIDs || len(r.User) >= batchText {
		return false
	}
	if int(id) >= len(rep.addrs) {
		n := min(max(int(id)+int(id)/2, 1024), maxAddrIDs)
		rep.addrs = append(rep.addrs, make([]addrSlot, n-len(rep.addrs))...)
		rep.last = append(rep.last, make([]lastUse, n-len(rep.last))...)
	}
	s := &rep.addrs[id]
	if s.tpl == nil {
		s.tpl = newIP(r, trusted)
		s.trusted, s.enr = s.tpl.Trusted, enrichmentOf(r)
	} else if s.trusted != trusted || !s.enr.same(r) {
		return false
	}
	if len(rep.pend) >= batchLogins || len(rep.text)+len(r.User) > batchText {
		rep.sync()
	}
	if rep.pend == nil {
		rep.pend = make([]pending, 0, batchLogins)
		rep.text = make([]byte, 0, 24*batchLogins) // (grows if names are longer)
	}
	e, ok := rep.pending(r.Time, uint32(len(rep.text)+len(r.User)), id)
	if !ok {
		return false
	}
	e.meth = detect.MethodBit(r.Method)
	rep.text = append(rep.text, r.User...)
	rep.pend = append(rep.pend, e)
	return true
}

// sync counts the logins queued, in order.
func (rep *Report) sync() {
	if len(rep.pend) == 0 {
		return
	}
	start := uint32(0)
	for i := range rep.pend {
		e := &rep.pend[i]
		// the name's bytes, not copied: newAccount clones what it keeps,
		// and rep.text is not written until the loop is over
		user := unsafe.String(unsafe.SliceData(rep.text[start:]), int(e.end-start))
		start = e.end
		user = record.CanonicalUser(user, rep.Rule.CaseSensitive)
		t := rep.when(e)
		l := &rep.last[e.id]
		var ip *IP
		var first bool
		a := l.a
		if a != nil && a.User == user {
			ip, first = l.ip, a.count(l.ip, t)
		} else {
			a = rep.account(user)
			ip, first = a.addSlot(rep.addrs[e.id].tpl, t)
			l.a, l.ip = a, ip
		}
		rep.counted(a, ip, first, t, e.meth)
	}
	rep.pend, rep.text = rep.pend[:0], rep.text[:0]
}

// addSlot is add for a queued login from the address tpl at t, when
// its id's last account was another (lastUse): the address is found by
// its text (no map by id: lastUse finds it the next time).
func (a *Account) addSlot(tpl *IP, t time.Time) (ip *IP, first bool) {
	ip = a.byIP[tpl.IP]
	if ip == nil {
		ip = new(IP)
		*ip = *tpl
		a.keep(ip)
	}
	return ip, a.count(ip, t)
}

// geoFailed counts the logins after the whitelist whose country and
// network lookups failed ("geo: …" in enrich_errors), and their distinct
// addresses. A failed reverse lookup is not counted: it only keeps
// pattern_ip from trusting the address, so the report sees more logins,
// never fewer.
type geoFailed struct {
	logins int
	addrs  map[string]struct{}
}

// noteGeo counts the login r when one of its lookups that failed is a geo
// one: in rep.noGeo when no geo source was configured
// (record.NoGeoSource), else in rep.geo.
func (rep *Report) noteGeo(r *record.Record) {
	for _, e := range r.EnrichErrors {
		switch {
		case e == record.NoGeoSource:
			rep.noGeo.add(r.IP)
			return
		case strings.HasPrefix(e, "geo: "):
			rep.geo.add(r.IP)
			return
		}
	}
}

// add counts a login from ip.
func (g *geoFailed) add(ip string) {
	g.logins++
	if _, ok := g.addrs[ip]; !ok {
		if g.addrs == nil {
			g.addrs = map[string]struct{}{}
		}
		g.addrs[strings.Clone(ip)] = struct{}{}
	}
}

func (g *geoFailed) counts() GeoFailed {
	return GeoFailed{Logins: g.logins, Addresses: len(g.addrs)}
}

// Gaps returns what the report could not see: the inputs not read in
// full, the empty inputs when no input had a line, the logins whose geo
// lookups failed, and those not located for want of a geo source. The
// last are no gap to the original rule without min_countries and
// min_asns: it counts addresses only.
func (rep *Report) Gaps() Gaps {
	g := Gaps{Unread: rep.unread, Geo: rep.geo.counts(), NoGeo: rep.noGeo.counts()}
	if !rep.lines {
		// loganom-parse names its empty inputs when none of them had a
		// line; a report that read the records of another parse's
		// lines (several files of records, two parses piped in) saw a
		// log all the same
		g.Empty = rep.empty
	}
	if rep.Rule.Original && rep.Rule.MinCountries == 0 && rep.Rule.MinASNs == 0 {
		g.NoGeo = GeoFailed{}
	}
	return g
}
