package enrich

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/loganom/loganom/pkg/record"
)

// Cache keeps answers between runs. Errors are never cached: a timeout
// today says nothing about tomorrow.
type Cache interface {
	// GetRDNS returns a stored answer for ip that has not expired.
	GetRDNS(ip netip.Addr) (RDNS, bool)
	// PutRDNS stores an answer.
	PutRDNS(ip netip.Addr, v RDNS)
}

// GeoCache keeps a network provider's answers (ipinfo) between runs.
type GeoCache interface {
	GetGeo(source string, ip netip.Addr) (Geo, bool)
	PutGeo(source string, ip netip.Addr, g Geo)
}

// Options configure an Enricher.
type Options struct {
	Resolver *Resolver // nil: no reverse DNS
	Geo      *GeoSet   // nil: no geo or AS
	// IPinfo, when set, is asked for the addresses whose country or AS the
	// local databases do not know (for all, without databases).
	IPinfo *IPinfo
	Cache  Cache // nil: none
	// Workers bounds the DNS queries in flight, and the ipinfo requests.
	// 0: the DNS bound starts at DefaultWorkers and adapts to the
	// resolver's answers up to DefaultMaxInFlight (Resolver.SetInFlight),
	// and ipinfo has DefaultWorkers. A number given is never exceeded
	// (lower it for a resolver that limits clients); under it, the bound
	// still halves when queries go unanswered.
	Workers int
	// Window is the number of records held back while their lookups run
	// (default 10000); output order is input order.
	Window int
	// MaxIPs bounds the answers kept for the run (default 1<<20); past it
	// they are dropped and asked of the cache again.
	MaxIPs int
	// OnAnswer, when set, is told of each address's answer once, as its
	// first record leaves (for a debug trace), from the Process goroutine.
	// The names in it are as the servers and databases gave them: escape
	// them for a terminal.
	OnAnswer func(ip netip.Addr, a Answer)
	// OnGiveUp, when set, is told once of each server given up on for the
	// rest of the run (see GiveUpAfter), from the Process goroutine.
	OnGiveUp func(err *GaveUpError)
	// Confirm, when set, says whether a reverse name must be checked
	// forward: whether a whitelist pattern could match it (see
	// filter.Filter.NeedsConfirmation). A name it does not want costs one
	// DNS query instead of two and is left unchecked: rdns without
	// rdns_verified. nil checks every name. It is called from the lookup
	// goroutines, so it must be safe for concurrent use. A cached
	// unchecked name that it wants is checked then.
	Confirm func(name string) bool
	// LoginsOnly passes the records that are not logins (failures, from
	// bots by the thousand) on in order without looking them up: for a
	// reader that needs only their address and time.
	LoginsOnly bool
	// MarkNoGeo, with neither Geo nor IPinfo, marks each record from a
	// public address with NoGeoSource in enrich_errors: it was not
	// located because nothing could locate it, and a report must not
	// take it for a known place (the commands set it; a library user
	// who wants only reverse names leaves it off). It is not counted as
	// a failed lookup in Stats.
	MarkNoGeo bool
}

// NoGeoSource is what enrich_errors says of a record from a public
// address when no geo source (a database, an ipinfo.io token) was
// configured (Options.MarkNoGeo): record.NoGeoSource.
const NoGeoSource = record.NoGeoSource

// Answer is what was found out about one address.
type Answer struct {
	RDNS   RDNS
	Geo    Geo
	Errors []string
}

// Describe says it in one line: "1.2.3.4: rdns x.example (verified), BR
// São Paulo, AS15169 Google LLC".
func (a Answer) Describe(ip netip.Addr) string {
	var b strings.Builder
	b.WriteString(ip.String())
	b.WriteString(": rdns ")
	switch {
	case a.RDNS.Name == "":
		b.WriteString("none")
	case a.RDNS.Verified:
		b.WriteString(a.RDNS.Name + " (verified)")
	case a.RDNS.Unchecked:
		b.WriteString(a.RDNS.Name + " (not checked: the whitelist could not use it)")
	default:
		b.WriteString(a.RDNS.Name + " (does not resolve back)")
	}
	g := a.Geo
	b.WriteString(", country ")
	b.WriteString(cmpOr(g.Country, "unknown"))
	if g.City != "" {
		b.WriteString(" " + g.City)
	}
	if g.ASN != 0 {
		fmt.Fprintf(&b, ", AS%d %s", g.ASN, g.Org)
	}
	for _, e := range a.Errors {
		b.WriteString("; " + e)
	}
	return b.String()
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// DefaultWorkers is the default number of ipinfo requests in flight, and
// the DNS queries in flight that the adaptive bound starts at.
const DefaultWorkers = 400

// DefaultMaxInFlight is the most DNS queries in flight that the adaptive
// bound grows to when Options.Workers is not given: a cold run of 10,000
// addresses through a resolver that takes 50 ms then waits about 0.6 s.
const DefaultMaxInFlight = 1000

// Stats count what an Enricher did.
type Stats struct {
	Records   int64
	IPs       int64          // distinct addresses looked up this run
	CacheHits int64          // reverse answers from the cache
	Lookups   int64          // reverse lookups sent to DNS
	Confirms  int64          // cached names not checked before, checked forward now
	Unchecked int64          // names not checked forward (Options.Confirm)
	Errors    map[string]int // failures by kind, e.g. "rdns: timeout"
}

// Enricher is the enrich stage: a record.Stage that adds rdns,
// rdns_verified, country, city, lat, lon, accuracy_km, asn and org to each
// record, and enrich_errors naming what could not be found out. Records
// come out in input order.
type Enricher struct {
	opts Options
	// The answers of the run: of an IPv4 address by its number (its text
	// is one: netip takes no leading zeros), of others by the record's ip
	// text as loganom-parse writes it (2001:DB8::1 and 2001:db8::1 are
	// two texts, with two ids).
	ips4  map[uint32]*answer
	ips   map[string]*answer
	ids   uint32 // the last answer's id
	queue []item // held back, oldest first, from head on
	head  int
	sem   chan struct{}

	// The cache, when it answers many addresses at once (SQLiteCache):
	// the addresses to ask it are gathered in pend, and asked by a
	// goroutine when there are batchMax of them, when the first has
	// waited for batchWait records, or when a record waits for one
	// (emitHead, Idle), while the stage goes on.
	batch  batchCache
	pend   []*answer
	pendAt int64 // stats.Records when the first of pend was read
	// slots bounds the lookup goroutines the batches start: a batch's
	// goroutine waits for a slot before it starts one. (The stage
	// starting them itself, one per record read, is paced by its
	// reading; the batches' goroutines are not: 10,000 new addresses
	// would be 10,000 goroutines waiting for the resolver, 40 MB.)
	slots chan struct{}

	mu    sync.Mutex // guards stats.Errors and the counters set by lookups
	stats Stats

	toldDNS, toldIPinfo bool // OnGiveUp was called

	waiting *answer // Idle has a goroutine waiting for this answer

	// confirm is Options.Confirm, or what SetConfirm put in its place;
	// the lookup goroutines read it.
	confirm atomic.Pointer[func(name string) bool]
}

type item struct {
	r *record.Record
	a *answer // nil: nothing to add
}

// answer is what is known of one address; done is closed when the
// reverse lookup, if any, has finished.
type answer struct {
	id   uint32 // record.Record.AddrID: never the same for two answers
	done chan struct{}
	ip   netip.Addr
	rdns RDNS
	geo  Geo
	errs []string
	told bool // OnAnswer has been called
	// ipinfo: ipinfo.io is to be asked after the cache's answer (pend)
	ipinfo bool
	// ready is set when done is closed (finish), or at once when there is
	// nothing to look up: the emitters test it without touching the
	// channel, which is memory of its own.
	ready atomic.Bool
}

// finish marks the answer complete.
func (a *answer) finish() {
	a.ready.Store(true)
	if a.done != closed {
		close(a.done)
	}
}

// batchCache is a Cache that answers many addresses at once (SQLiteCache).
type batchCache interface {
	// memRDNS answers at once what it holds in memory; a miss is asked
	// of getRDNSBatch.
	memRDNS(ip netip.Addr) (RDNS, bool)
	// getRDNSBatch sets found[i] and ok[i] to what GetRDNS(ips[i])
	// returns. It is called from goroutines of their own, one batch at
	// a time or several.
	getRDNSBatch(ips []netip.Addr, found []RDNS, ok []bool)
}

// batchMax is the most addresses asked of a batchCache at once, and
// batchWait the most records read while the first of them waits (the
// records after it are held back meanwhile: memory, and the next stages
// find them out of the processor's caches).
var (
	batchMax  = 256
	batchWait = int64(4096)
)

var closed = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// New makes an Enricher.
func New(opts Options) *Enricher {
	slots := opts.Workers // the most lookups in flight
	if opts.Workers <= 0 {
		slots = DefaultMaxInFlight
		if opts.Resolver != nil {
			opts.Resolver.SetInFlight(DefaultWorkers, DefaultMaxInFlight)
		}
		opts.Workers = DefaultWorkers
	} else if opts.Resolver != nil {
		opts.Resolver.SetInFlight(opts.Workers, opts.Workers)
	}
	if opts.Window <= 0 {
		opts.Window = 10000
	}
	if opts.MaxIPs <= 0 {
		opts.MaxIPs = 1 << 20
	}
	e := &Enricher{
		opts: opts,
		ips4: make(map[uint32]*answer),
		ips:  make(map[string]*answer),
		sem:  make(chan struct{}, opts.Workers),
		// twice the lookups in flight: those waiting for one of them
		// to finish are ready to go
		slots: make(chan struct{}, 2*slots),
		stats: Stats{
			Errors: map[string]int{},
		},
	}
	e.confirm.Store(&opts.Confirm)
	e.batch, _ = opts.Cache.(batchCache)
	return e
}

// EnrichOnly says that the Enricher reads of a record only its type and
// address and changes only its enrich fields: loganom-enrich may read its
// input partially (record.EnrichOnly).
func (e *Enricher) EnrichOnly() {}

// SetConfirm puts confirm in the place of Options.Confirm, for a whitelist
// reloaded mid-run (a live daemon's SIGHUP). The answers of this run that
// left a name unchecked are forgotten, so that the next record from such
// an address has its name checked if the new patterns could match it
// (from the cache, with the forward query only). Lookups already running
// finish with the old function. Call it from the goroutine that calls
// Process.
func (e *Enricher) SetConfirm(confirm func(name string) bool) {
	e.confirm.Store(&confirm)
	forget := func(a *answer) bool { return a.ready.Load() && a.rdns.Unchecked }
	maps.DeleteFunc(e.ips4, func(_ uint32, a *answer) bool { return forget(a) })
	maps.DeleteFunc(e.ips, func(_ string, a *answer) bool { return forget(a) })
}

// Resolver names the DNS server asked, or "" when reverse DNS is off.
func (e *Enricher) Resolver() string {
	if e.opts.Resolver == nil {
		return ""
	}
	return e.opts.Resolver.Server()
}

// Stats returns the counts; call it after Flush.
func (e *Enricher) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.stats
	s.Errors = make(map[string]int, len(e.stats.Errors))
	for k, v := range e.stats.Errors {
		s.Errors[k] = v
	}
	return s
}

// Process takes a record, starts what must be looked up for its address,
// and emits the records at the head of the window whose answers are in.
func (e *Enricher) Process(r *record.Record, emit record.Emit) error {
	e.stats.Records++
	var a *answer
	if !e.opts.LoginsOnly || r.Type == record.TypeLogin {
		a = e.answerFor(r.IP)
	}
	r.AddrID = 0
	if a != nil {
		r.AddrID = a.id
	}
	e.queue = append(e.queue, item{r, a})
	if len(e.pend) > 0 && e.stats.Records-e.pendAt >= batchWait {
		e.sendBatch()
	}
	if err := e.emitReady(emit); err != nil {
		return err
	}
	for len(e.queue)-e.head > e.opts.Window {
		if err := e.emitHead(emit); err != nil {
			return err
		}
	}
	return nil
}

// Flush waits for every lookup still running and emits the rest.
func (e *Enricher) Flush(emit record.Emit) error {
	for e.head < len(e.queue) {
		if err := e.emitHead(emit); err != nil {
			return err
		}
	}
	e.tellGiveUp()
	return nil
}

// Idle emits, in order, the records whose lookups are done and all before
// them have left, without waiting; it is what a live pipe calls when its
// input has nothing ready (record.Idler). When the oldest record still
// waits for its lookups, it says so (held) and calls wake once they are
// done.
func (e *Enricher) Idle(emit record.Emit, wake func()) (held bool, err error) {
	if err := e.emitReady(emit); err != nil {
		return false, err
	}
	e.tellGiveUp()
	if e.head == len(e.queue) {
		return false, nil
	}
	// emitReady stopped at a record whose answer is not in: it may be
	// one still to be asked of the cache
	e.sendBatch()
	if a := e.queue[e.head].a; a != e.waiting {
		e.waiting = a
		go func() {
			<-a.done
			wake()
		}()
	}
	return true, nil
}

// tellGiveUp tells OnGiveUp of a server newly given up on.
func (e *Enricher) tellGiveUp() {
	if e.opts.OnGiveUp == nil {
		return
	}
	if r := e.opts.Resolver; r != nil && !e.toldDNS {
		if gu := r.GaveUp(); gu != nil {
			e.toldDNS = true
			e.opts.OnGiveUp(gu)
		}
	}
	if p := e.opts.IPinfo; p != nil && !e.toldIPinfo {
		if gu := p.GaveUp(); gu != nil {
			e.toldIPinfo = true
			e.opts.OnGiveUp(gu)
		}
	}
}

func (e *Enricher) emitReady(emit record.Emit) error {
	for e.head < len(e.queue) {
		if a := e.queue[e.head].a; a != nil && !a.ready.Load() {
			return nil
		}
		if err := e.emitHead(emit); err != nil {
			return err
		}
	}
	return nil
}

// emitHead waits for the oldest record's answer and emits it.
func (e *Enricher) emitHead(emit record.Emit) error {
	it := e.queue[e.head]
	e.queue[e.head] = item{}
	e.head++
	if e.head == len(e.queue) {
		e.queue, e.head = e.queue[:0], 0
	} else if e.head > 4096 && e.head*2 > len(e.queue) {
		n := copy(e.queue, e.queue[e.head:])
		e.queue, e.head = e.queue[:n], 0
	}
	if a := it.a; a != nil {
		if !a.ready.Load() {
			e.sendBatch() // it may be one still to be asked of the cache
			<-a.done
		}
		e.tellGiveUp()
		a.apply(it.r)
		if e.opts.OnAnswer != nil && !a.told {
			a.told = true
			e.opts.OnAnswer(a.ip, Answer{a.rdns, a.geo, a.errs})
		}
	}
	return emit(it.r)
}

func (a *answer) apply(r *record.Record) {
	if a.rdns.Name != "" {
		r.RDNS = a.rdns.Name
		if !a.rdns.Unchecked {
			r.RDNSVerified = record.Bool(a.rdns.Verified)
		}
	}
	g := a.geo
	if g.Country != "" {
		r.Country = g.Country
	}
	if g.City != "" {
		r.City = g.City
	}
	if g.HasLoc {
		r.HasLoc, r.Lat, r.Lon, r.AccuracyKM = true, g.Lat, g.Lon, g.AccuracyKM
	}
	if g.ASN != 0 {
		r.ASN, r.Org = g.ASN, g.Org
	}
	if len(a.errs) > 0 {
		r.EnrichErrors = append(r.EnrichErrors, a.errs...)
	}
}

// answerFor returns the answer for an address, starting its lookups the
// first time the address is seen in this run.
func (e *Enricher) answerFor(s string) *answer {
	var ip netip.Addr
	v4, is4 := parseIPv4(s)
	if is4 {
		if a, ok := e.ips4[v4]; ok {
			return a
		}
		ip = netip.AddrFrom4([4]byte{byte(v4 >> 24), byte(v4 >> 16), byte(v4 >> 8), byte(v4)})
	} else {
		if a, ok := e.ips[s]; ok {
			return a
		}
		var err error
		if ip, err = netip.ParseAddr(s); err != nil {
			return nil
		}
		ip = ip.Unmap()
	}
	if len(e.ips4)+len(e.ips) >= e.opts.MaxIPs {
		clear(e.ips4)
		clear(e.ips)
	}
	e.stats.IPs++
	a := &answer{done: closed, ip: ip}
	if e.ids < math.MaxUint32 { // else 0: no id (after 4 billion addresses)
		e.ids++
		a.id = e.ids
	}
	if is4 {
		e.ips4[v4] = a
	} else {
		e.ips[s] = a
	}
	if e.opts.Geo != nil {
		g, err := e.opts.Geo.Lookup(ip)
		a.geo = g
		if err != nil {
			a.errs = append(a.errs, e.fail("geo", "geo", err))
		}
	}
	public := ip.IsGlobalUnicast() // not loopback, link-local, multicast …
	if e.opts.MarkNoGeo && e.opts.Geo == nil && e.opts.IPinfo == nil && public && !ip.IsPrivate() {
		a.errs = append(a.errs, NoGeoSource)
	}
	needRDNS := e.opts.Resolver != nil && public
	needIPinfo := e.opts.IPinfo != nil && public && !ip.IsPrivate() && (a.geo.Country == "" || a.geo.ASN == 0)
	if needIPinfo {
		if gc, _ := e.opts.Cache.(GeoCache); gc != nil {
			if g, ok := gc.GetGeo("ipinfo", ip); ok && (g.Country == "" || isCountryCode(g.Country)) {
				e.count(&e.stats.CacheHits)
				a.geo.merge(g)
				needIPinfo = false
			}
		}
	}
	if needRDNS && e.batch != nil {
		if v, ok := e.batch.memRDNS(ip); ok {
			a.rdns = v
			e.start(a, false, e.cached(v), needIPinfo, nil)
			return a
		}
		// asked of the cache with others, by a goroutine (readBatch)
		a.done, a.ipinfo = make(chan struct{}), needIPinfo
		if len(e.pend) == 0 {
			e.pendAt = e.stats.Records
		}
		e.pend = append(e.pend, a)
		if len(e.pend) >= batchMax {
			e.sendBatch()
		}
		return a
	}
	confirm := false
	if needRDNS && e.opts.Cache != nil {
		if v, ok := e.opts.Cache.GetRDNS(ip); ok {
			a.rdns, needRDNS = v, false
			confirm = e.cached(v)
		}
	}
	e.start(a, needRDNS, confirm, needIPinfo, nil)
	return a
}

// parseIPv4 reads a dotted-quad IPv4 address as netip.ParseAddr does (no
// leading zeros, no other form), as a number, which is then one text.
func parseIPv4(s string) (uint32, bool) {
	if len(s) < 7 || len(s) > 15 {
		return 0, false
	}
	var v uint32
	field, digits := uint32(0), 0
	dots := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			if digits > 0 && field == 0 {
				return 0, false // a leading zero
			}
			field = field*10 + uint32(c-'0')
			digits++
			if field > 255 {
				return 0, false
			}
		case c == '.' && digits > 0 && dots < 3:
			v = v<<8 | field
			field, digits = 0, 0
			dots++
		default:
			return 0, false
		}
	}
	if dots != 3 || digits == 0 {
		return 0, false
	}
	return v<<8 | field, true
}

// cached counts a reverse answer found in the cache and says whether its
// name, left unchecked, must be checked forward now.
func (e *Enricher) cached(v RDNS) (confirm bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.stats.CacheHits++
	if !v.Unchecked {
		return false
	}
	// checked when a pattern could use it now (the config may have
	// changed since), else left as it was
	if v.Name != "" && e.wants(v.Name) {
		e.stats.Confirms++
		return true
	}
	e.stats.Unchecked++
	return false
}

// count adds one to a counter of e.stats, under e.mu.
func (e *Enricher) count(n *int64) {
	e.mu.Lock()
	*n++
	e.mu.Unlock()
}

// sendBatch has a goroutine ask the cache about the addresses gathered
// (pend).
func (e *Enricher) sendBatch() {
	if len(e.pend) == 0 {
		return
	}
	batch := e.pend
	e.pend = nil
	go e.readBatch(batch)
}

// readBatch asks the cache about a batch of answers' addresses, and
// starts what each needs then: DNS for a miss, the forward query for a
// name to check, ipinfo.io.
func (e *Enricher) readBatch(batch []*answer) {
	ips := make([]netip.Addr, len(batch))
	for i, a := range batch {
		ips[i] = a.ip
	}
	found, ok := make([]RDNS, len(batch)), make([]bool, len(batch))
	e.batch.getRDNSBatch(ips, found, ok)
	for i, a := range batch {
		needRDNS, confirm := true, false
		if ok[i] {
			a.rdns, needRDNS = found[i], false
			confirm = e.cached(found[i])
		}
		if !needRDNS && !confirm && !a.ipinfo {
			a.finish()
			continue
		}
		e.slots <- struct{}{}
		e.start(a, needRDNS, confirm, a.ipinfo, func() { <-e.slots })
	}
}

// start starts the lookups an answer needs, if any, and closes its done
// channel when they are finished (at once when there are none); then it
// calls release, if not nil.
func (e *Enricher) start(a *answer, needRDNS, confirm, needIPinfo bool, release func()) {
	if !needRDNS && !needIPinfo && !confirm {
		a.finish()
		if release != nil {
			release()
		}
		return
	}
	if a.done == closed {
		a.done = make(chan struct{})
	}
	if needRDNS {
		e.count(&e.stats.Lookups)
	}
	go func() {
		e.lookup(a, needRDNS, confirm, needIPinfo)
		if release != nil {
			release()
		}
	}()
}

// lookup asks DNS and ipinfo.io what an answer needs, and closes its done.
func (e *Enricher) lookup(a *answer, needRDNS, confirm, needIPinfo bool) {
	ip := a.ip
	// the resolver bounds its own queries in flight (Workers); e.sem
	// bounds the ipinfo requests
	if needRDNS || confirm {
		var v RDNS
		var err error
		if confirm {
			v, err = e.opts.Resolver.Confirm(context.Background(), ip, a.rdns.Name)
		} else {
			v, err = e.opts.Resolver.ReverseConfirm(context.Background(), ip, *e.confirm.Load())
		}
		a.rdns = v
		if v.Unchecked {
			e.count(&e.stats.Unchecked)
		}
		if err != nil {
			a.errs = append(a.errs, e.fail("rdns", "rdns", err))
		} else if e.opts.Cache != nil {
			e.opts.Cache.PutRDNS(ip, v)
		}
	}
	if needIPinfo {
		e.sem <- struct{}{}
		g, err := e.opts.IPinfo.Lookup(context.Background(), ip)
		<-e.sem
		a.geo.merge(g) // all of it, or what was good of it
		if err != nil {
			a.errs = append(a.errs, e.fail("geo", "ipinfo.io", err))
		} else if gc, _ := e.opts.Cache.(GeoCache); gc != nil {
			gc.PutGeo("ipinfo", ip, g)
		}
	}
	a.finish()
}

// wants says whether a name must be checked forward (Options.Confirm).
func (e *Enricher) wants(name string) bool {
	confirm := *e.confirm.Load()
	return confirm == nil || confirm(name)
}

// fail counts a failure by kind ("rdns: timeout", "ipinfo.io: HTTP 502")
// and returns the text for enrich_errors ("rdns: PTR 192.0.2.1: timeout").
func (e *Enricher) fail(what, source string, err error) string {
	msg := what + ": " + err.Error()
	kind := source + ": " + lastWord(err.Error())
	var gu *GaveUpError
	var k interface{ Kind() string }
	switch {
	case errors.As(err, &gu):
		kind = source + ": " + gu.Error()
	case errors.As(err, &k):
		kind = source + ": " + k.Kind()
	}
	e.mu.Lock()
	e.stats.Errors[kind]++
	e.mu.Unlock()
	return msg
}

// lastWord is the kind of a lookup error: "timeout", "SERVFAIL" …
func lastWord(s string) string {
	if i := strings.LastIndex(s, ": "); i >= 0 {
		return s[i+2:]
	}
	return s
}

// Summary says, in one line, what failed and how often, or "" when nothing did.
func (s Stats) Summary() string {
	if len(s.Errors) == 0 {
		return ""
	}
	kinds := make([]string, 0, len(s.Errors))
	for k, n := range s.Errors {
		kinds = append(kinds, fmt.Sprintf("%s ×%d", k, n))
	}
	sort.Strings(kinds)
	return strings.Join(kinds, ", ")
}
