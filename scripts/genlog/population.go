package main

// -population N: the mail log of a company's N accounts over -days days,
// centred on logins, with the truth about each account (-labels) and the
// geo databases of the addresses it uses (-geodb).
//
// The company is in Munich, with branches in Hamburg and Berlin and a few
// people who work from abroad. Its people send mail from home lines that
// take a new address every night (Telekom, O2, 1&1) or keep one for weeks
// (cable), over IPv6 with daily privacy addresses when the line has it;
// from phones whose carrier gives an address every few minutes (shared by
// many phones behind its NAT), placed by the databases at the carrier's
// gateways hundreds of kilometres away, or only in Germany; from
// the office; some through Gmail's "send mail as" (Google's addresses, in
// the United States), the Outlook app (its phone's mail goes out through
// Microsoft's data centres in Dublin or Amsterdam) or a corporate VPN that comes out in Amsterdam or
// Zurich. Some travel: a few days in London or New York, the laptop on the
// hotel's line while the phone keeps its German carrier's addresses
// (roaming goes home), or a week's holiday; a few move abroad for good;
// some mistype their password at home; a phone with an old password
// retries for hours; a few mailboxes are shared; a scanner, an application
// server and a newsletter service send with accounts of their own. Bots
// guess passwords all day long, for real and made-up accounts (some of
// them from German home lines: infected computers and routers).
//
// One account in 50 (-compromised-every) has its password stolen: its
// owner's life goes on, and after the owner's first day in the log one of
// five attacks comes: a botnet from many countries; one foreign address
// used heavily after a few failures; two addresses in one foreign country;
// a new foreign country every night; a single login from far away while
// the owner is active. Same seed, same output.

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // the same local times on every machine

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

type popConfig struct {
	accounts    int
	days        int
	start       time.Time
	seed        uint64
	compromised int // one account in this many
	// twoClients: the share of the people whose computer's mail program
	// uses LOGIN (Outlook) whose phone's uses PLAIN (the iPhone's and
	// Android's mail apps); 0: every person keeps one mechanism
	twoClients float64
	labels     string
	geodb      string
	serverZone string
	out        *bufio.Writer
	statsTo    io.Writer
}

type session struct {
	t      time.Time
	user   string
	ip     netip.Addr
	name   string
	fail   bool
	noUser bool // a failure that names no account (the LOGIN prompt)
	smtps  bool
	method string
	phone  bool // from the person's phone (its carrier, or a wifi)
	// the truth, for the tests: whose, where that person really was, and
	// whether a thief sent it
	who    *person
	at     *city
	attack bool
}

type usedBlock struct {
	net *network
	at  place
}

type pop struct {
	cfg      popConfig
	rnd      *rand.Rand
	start    time.Time
	end      time.Time
	zones    map[string]*time.Location
	sessions []session
	used     map[netip.Prefix]usedBlock
	users    []string
	accounts []*account
	// onPhone: the last message's device (address) was the phone
	onPhone bool
}

type account struct {
	user    string
	label   string // innocent, compromised
	kind    string // the attack, or the owner's most telling behaviour
	persons []*person
	traits  []string
	attack  string
	first   time.Time // the owner's first successful login
	logins  []time.Time
}

type stay struct {
	kind                 string // trip, holiday, visit
	dest                 *city
	leave, arrive        time.Time // leaves home, arrives
	depart, back         time.Time // leaves the destination, is home again
	roaming              bool      // the phone keeps its home carrier's addresses
	hotel                []netip.Addr
	hotelNet             *network
	site                 netip.Addr // a customer's or a conference's line
	siteNet              *network
	office               *network // visiting the headquarters
	factor               float64  // of the usual mail
	localMobile          *network
	useLocalMobileOnSite bool
}

type move struct {
	leave, arrive time.Time
	to            *city
	isp           *network
	blocks4       []int
	blocks6       []int
	hasV6         bool
	mobile        *network
	simSwitch     time.Time
}

type person struct {
	home          *city
	isp           *network
	blocks4       []int
	blocks6       []int
	hasV6         bool
	changeDay     int // stable lines: the day the address changes once, or -1
	reconnect     time.Duration
	mobile        *network
	pPhone        float64
	office        *network
	officeDays    [7]bool
	officeIn      float64
	officeOut     float64
	gmail         float64
	outlookApp    bool // the phone's mail goes out through Microsoft's cloud
	vpn           *network
	vpnShare      float64
	rate          float64
	method        string
	phoneMethod   string // the phone's, when it differs (twoClients)
	stays         []*stay
	move          *move
	typoDays      map[int]bool
	staleFrom     time.Time
	staleUntil    time.Time
	service       string // scanner, app, saas: a machine, not a person
	serviceIPs    []netip.Addr
	serviceNet    *network
	home4, home6  map[int]netip.Addr
	moved4        netip.Addr
	mob           netip.Addr
	mobNet        *network
	mobUntil      time.Time
	typoDone      map[int]bool
	abroadStaffer bool
}

func runPopulation(cfg popConfig) error {
	p := newPop(cfg)
	p.generate()
	return p.output()
}

func newPop(cfg popConfig) *pop {
	return &pop{
		cfg:   cfg,
		rnd:   rand.New(rand.NewPCG(cfg.seed, 0x706f70)),
		start: cfg.start,
		end:   cfg.start.Add(time.Duration(cfg.days) * 24 * time.Hour),
		zones: map[string]*time.Location{},
		used:  map[netip.Prefix]usedBlock{},
	}
}

// generate makes the accounts, their lives, the thieves and the bots, and
// sorts the sessions of the log's days by time.
func (p *pop) generate() {
	p.makeAccounts()
	for _, a := range p.accounts {
		p.live(a)
	}
	for _, a := range p.accounts {
		if a.label == "compromised" {
			p.attack(a)
		}
	}
	p.bots()
	p.twoClients()
	kept := p.sessions[:0]
	for _, s := range p.sessions {
		if !s.t.Before(p.start) && s.t.Before(p.end) {
			kept = append(kept, s)
		}
	}
	p.sessions = kept
	slices.SortStableFunc(p.sessions, func(x, y session) int { return x.t.Compare(y.t) })
}

// output writes the log, the labels and the databases.
func (p *pop) output() error {
	cfg := p.cfg
	lines, bytes, logins, failures, err := p.write()
	if err != nil {
		return err
	}
	if cfg.labels != "" {
		if err := p.writeLabels(cfg.labels); err != nil {
			return err
		}
	}
	if cfg.geodb != "" {
		if err := p.writeGeoDB(cfg.geodb); err != nil {
			return err
		}
	}
	nc := 0
	for _, a := range p.accounts {
		if a.label == "compromised" {
			nc++
		}
	}
	fmt.Fprintf(cfg.statsTo, "genlog: %d accounts (%d compromised) over %d days: %d lines, %d bytes: %d logins, %d auth failures, %d address blocks\n",
		len(p.accounts), nc, cfg.days, lines, bytes, logins, failures, len(p.used))
	return nil
}

// ---------------------------------------------------------------- chance

func (p *pop) chance(x float64) bool { return p.rnd.Float64() < x }

func (p *pop) between(lo, hi float64) float64 { return lo + p.rnd.Float64()*(hi-lo) }

func (p *pop) intBetween(lo, hi int) int { return lo + p.rnd.IntN(hi-lo+1) }

func (p *pop) poisson(l float64) int {
	if l <= 0 {
		return 0
	}
	if l > 30 {
		return max(0, int(math.Round(l+math.Sqrt(l)*p.rnd.NormFloat64())))
	}
	L, k, x := math.Exp(-l), 0, 1.0
	for {
		x *= p.rnd.Float64()
		if x <= L {
			return k
		}
		k++
	}
}

func pick[T any](p *pop, xs []T) T { return xs[p.rnd.IntN(len(xs))] }

// weighted picks a key of w with probability proportional to its weight,
// in the order of keys (for the same draw, the same key).
func weighted(p *pop, keys []string, w []float64) string {
	total := 0.0
	for _, x := range w {
		total += x
	}
	r := p.rnd.Float64() * total
	for i, x := range w {
		if r < x {
			return keys[i]
		}
		r -= x
	}
	return keys[len(keys)-1]
}

func (p *pop) zone(name string) *time.Location {
	if z, ok := p.zones[name]; ok {
		return z
	}
	z, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	p.zones[name] = z
	return z
}

// ---------------------------------------------------------------- addresses

// randomIn returns a random address of prefix, avoiding the .0 and .255 of
// IPv4 networks and the zero host of IPv6 ones.
func (p *pop) randomIn(pr netip.Prefix) netip.Addr {
	b := pr.Addr().As16()
	bits := pr.Bits()
	if pr.Addr().Is4() {
		bits += 96
	}
	for {
		var r [16]byte
		hi, lo := p.rnd.Uint64(), p.rnd.Uint64()
		putUint64(r[:8], hi)
		putUint64(r[8:], lo)
		var out [16]byte
		for i := range 16 {
			keep := 0
			for j := range 8 {
				if i*8+j < bits {
					keep |= 0x80 >> j
				}
			}
			out[i] = b[i]&byte(keep) | r[i]&^byte(keep)
		}
		if pr.Addr().Is4() {
			a := netip.AddrFrom4([4]byte(out[12:]))
			if last := out[15]; last == 0 || last == 255 || !pr.Contains(a) {
				continue
			}
			return a
		}
		a := netip.AddrFrom16(out)
		if out[15] == 0 && out[14] == 0 {
			continue
		}
		return a
	}
}

// subprefix returns a random /bits network inside pr.
func (p *pop) subprefix(pr netip.Prefix, bits int) netip.Prefix {
	a := p.randomIn(pr)
	q, _ := a.Prefix(bits)
	return q
}

// blockOf returns n's block i, noting it for the databases.
func (p *pop) blockOf(n *network, v6 bool, i int) netip.Prefix {
	b := n.block(v6, i)
	if _, ok := p.used[b]; !ok {
		p.used[b] = usedBlock{net: n, at: n.loc(i)}
	}
	return b
}

// anyBlock picks one of n's first blocks (all of its places, a few times).
func (p *pop) anyBlock(n *network, v6 bool) int {
	k := min(n.blocks(v6), 4*len(n.locs))
	return p.rnd.IntN(k)
}

func (p *pop) anyAddr(n *network) netip.Addr {
	v6 := len(n.p6) > 0 && p.chance(n.v6share)
	b := p.blockOf(n, v6, p.anyBlock(n, v6))
	if n.kind == kMobile && !v6 {
		// carrier-grade NAT: a gateway's phones share a few public addresses
		b = netip.PrefixFrom(b.Addr(), max(b.Bits(), 26))
	}
	return p.randomIn(b)
}

// addrNear returns an address of n placed near c (or in c's country).
func (p *pop) addrNear(n *network, c *city) netip.Addr {
	bs := n.blocksAt(false, c, 80)
	if len(bs) == 0 {
		return p.anyAddr(n)
	}
	return p.randomIn(p.blockOf(n, false, pick(p, bs)))
}

// networksOf lists the networks of a kind in a country, with their shares.
func networksOf(kind, cc string) (keys []string, w []float64) {
	for _, n := range networks {
		if n.kind == kind && n.cc == cc && n.share > 0 {
			keys = append(keys, n.key)
			w = append(w, n.share)
		}
	}
	return keys, w
}

// homeLine picks a home line for someone living in c: a network with
// blocks near c, by market share, and the blocks the household's address
// comes from: mostly its own city's, some of the region's, some known
// only by country.
func (p *pop) homeLine(c *city) (n *network, b4, b6 []int) {
	keys, w := networksOf(kBroadband, c.cc)
	var k2 []string
	var w2 []float64
	for i, k := range keys {
		if len(networkByKey[k].blocksAt(false, c, 200)) > 0 {
			k2, w2 = append(k2, k), append(w2, w[i])
		}
	}
	n = networkByKey[weighted(p, k2, w2)]
	choose := func(v6 bool) []int {
		var own, region, country []int
		total := min(n.blocks(v6), 64*len(n.locs))
		for i := 0; i < total; i++ {
			at := n.loc(i)
			switch {
			case at.city == "":
				if at.cc == c.cc {
					country = append(country, i)
				}
			case distance(at.lat, at.lon, c.lat, c.lon) <= 40:
				own = append(own, i)
			case distance(at.lat, at.lon, c.lat, c.lon) <= 200:
				region = append(region, i)
			}
		}
		var out []int
		for range p.intBetween(2, 5) {
			switch r := p.rnd.Float64(); {
			case r < 0.6 && len(own) > 0:
				out = append(out, pick(p, own))
			case r < 0.85 && len(region) > 0:
				out = append(out, pick(p, region))
			case len(country) > 0:
				out = append(out, pick(p, country))
			case len(own) > 0:
				out = append(out, pick(p, own))
			default:
				out = append(out, pick(p, region))
			}
		}
		return out
	}
	b4 = choose(false)
	if len(n.p6) > 0 {
		b6 = choose(true)
	}
	return n, b4, b6
}

// ---------------------------------------------------------------- people

var firstNames = strings.Fields(`anna andreas barbara bernd christian claudia daniel eva felix frank
	gabriele hans heike jan jana jens johanna julia karin katharina klaus laura lena lukas maria
	markus martin michael monika nicole paul peter petra sabine sandra sarah sebastian stefan susanne
	thomas tobias ursula uwe lisa leon emma ben mia noah sophie elias lea jonas marie finn hannah
	max ole ali mehmet elif ayse marco giulia pierre camille james olivia piotr agnieszka ivana luca`)

var lastNames = strings.Fields(`mueller schmidt schneider fischer weber meyer wagner becker schulz
	hoffmann schaefer koch bauer richter klein wolf schroeder neumann schwarz zimmermann braun
	krueger hofmann hartmann lange schmitt werner krause meier lehmann schmid schulze maier koehler
	herrmann koenig walter mayer huber kaiser fuchs peters lang scholz moeller weiss jung hahn
	schubert vogel friedrich keller guenther frank berger winkler roth beck lorenz baumann franke
	albrecht schuster simon ludwig boehm winter kraus martin schumacher kraemer vogt stein jaeger
	otto sommer gross seidel heinrich brandt haas schreiber graf yilmaz kaya nowak kowalski rossi
	dubois smith horvat novak`)

var sharedNames = strings.Fields(`info office sales vertrieb buchhaltung empfang support einkauf
	personal service bewerbung presse kontakt auftraege`)

// the cities the company's people live in (Germany), with weights
var homeCities = []string{"Munich", "Augsburg", "Freising", "Dachau", "Erding", "Starnberg", "Rosenheim",
	"Ingolstadt", "Landshut", "Hamburg", "Norderstedt", "Pinneberg", "Lübeck", "Berlin", "Potsdam", "Bernau",
	"Cologne", "Frankfurt am Main", "Stuttgart", "Leipzig", "Nuremberg", "Hanover", "Dresden", "Bremen"}
var homeWeights = []float64{33, 5, 3, 3, 2, 2, 3, 3, 2, 10, 2, 2, 1, 11, 2, 1, 2, 2, 2, 2, 2, 1, 1, 1}

// people abroad, where the company has a few
var abroadCities = []string{"Vienna", "Graz", "Zurich", "Basel", "London", "Manchester", "Madrid", "Barcelona",
	"Paris", "Lyon", "Amsterdam", "Utrecht", "Warsaw", "Krakow", "New York", "Chicago"}

var tripEU = []string{"London", "Paris", "Vienna", "Zurich", "Milan", "Amsterdam", "Brussels", "Madrid",
	"Barcelona", "Warsaw", "Prague", "Lisbon", "Stockholm", "Dublin", "Lyon", "Rotterdam", "Geneva", "Krakow"}
var tripFar = []string{"New York", "Chicago", "San Francisco", "Dubai", "Singapore", "Shanghai", "Tokyo",
	"São Paulo", "Mumbai", "Toronto", "Seoul", "Atlanta"}
var holidays = []string{"Palma", "Barcelona", "Lisbon", "Faro", "Heraklion", "Athens", "Split", "Dubrovnik",
	"Rome", "Florence", "Nice", "Antalya", "Innsbruck", "Salzburg", "Bolzano", "Bangkok", "Phuket",
	"Dubai", "New York", "Sydney", "Malaga", "Naples"}
var moveTo = []string{"Vienna", "Zurich", "Barcelona", "London", "Amsterdam", "Lisbon", "Stockholm", "Paris", "Warsaw"}

func (p *pop) makeAccounts() {
	n := p.cfg.accounts
	seen := map[string]bool{}
	name := func(base string) string {
		u := base + "@example.com"
		for k := 2; seen[u]; k++ {
			u = base + strconv.Itoa(k) + "@example.com"
		}
		seen[u] = true
		return u
	}
	nService := max(1, n/200)
	nShared := max(1, n/200)
	for i := 0; i < n; i++ {
		a := &account{label: "innocent"}
		switch {
		case i < nService:
			kind := []string{"scanner", "app", "saas"}[i%3]
			base := map[string]string{"scanner": "scanner", "app": "noreply", "saas": "newsletter"}[kind]
			if i >= 3 {
				base += strconv.Itoa(i / 3)
			}
			a.user = name(base)
			a.persons = []*person{p.machine(kind)}
			a.kind = "service-" + kind
		case i < nService+nShared:
			a.user = name(sharedNames[(i-nService)%len(sharedNames)])
			k := p.intBetween(2, 4)
			for range k {
				a.persons = append(a.persons, p.newPerson(false))
			}
			a.kind = "shared-mailbox"
		default:
			a.user = name(pick(p, firstNames) + "." + pick(p, lastNames))
			a.persons = []*person{p.newPerson(p.chance(0.03))}
		}
		p.accounts = append(p.accounts, a)
	}
	// the thieves' victims: one in cfg.compromised, not the machines
	kinds := []string{"botnet", "heavy-single", "two-in-country", "country-a-night", "far-single"}
	nc := 0
	if p.cfg.compromised > 0 {
		nc = (n + p.cfg.compromised/2) / p.cfg.compromised
	}
	order := p.rnd.Perm(n - nService)
	for k := 0; k < nc && k < len(order); k++ {
		a := p.accounts[nService+order[k]]
		a.label, a.attack = "compromised", kinds[k%len(kinds)]
	}
	for _, a := range p.accounts {
		p.users = append(p.users, a.user)
		for _, pe := range a.persons {
			a.traits = append(a.traits, pe.describe(p))
		}
		if a.kind == "" {
			a.kind = a.persons[0].mainKind()
		}
		if a.label == "compromised" {
			a.kind = a.attack
		}
	}
}

func (p *pop) machine(kind string) *person {
	pe := &person{service: kind, method: "LOGIN", changeDay: -1, typoDays: map[int]bool{}, typoDone: map[int]bool{}}
	switch kind {
	case "scanner": // a multifunction printer at headquarters
		pe.serviceNet = networkByKey["office-muc"]
		pe.serviceIPs = []netip.Addr{p.blockOf(pe.serviceNet, false, 0).Addr().Next().Next()}
		pe.rate = p.between(5, 25)
		pe.home = cities["Munich"]
	case "app": // an application server at Hetzner
		pe.serviceNet = networkByKey["hetzner"]
		b := p.blockOf(pe.serviceNet, false, 0)
		pe.serviceIPs = []netip.Addr{p.randomIn(b)}
		if p.chance(0.5) {
			pe.serviceIPs = append(pe.serviceIPs, p.randomIn(p.subprefix(p.blockOf(pe.serviceNet, true, 0), 64)))
		}
		pe.rate = p.between(20, 80)
		pe.home = cities["Falkenstein"]
	case "saas": // a newsletter service in Amazon's Virginia region
		pe.serviceNet = networkByKey["aws-use1"]
		pe.rate = p.between(10, 40)
		pe.home = cities["Ashburn"]
	}
	return pe
}

func (p *pop) newPerson(abroad bool) *person {
	pe := &person{changeDay: -1, typoDays: map[int]bool{}, typoDone: map[int]bool{},
		home4: map[int]netip.Addr{}, home6: map[int]netip.Addr{}}
	pe.method = "PLAIN"
	if p.chance(0.3) {
		pe.method = "LOGIN"
	}
	if abroad {
		pe.home = cities[pick(p, abroadCities)]
		pe.abroadStaffer = true
	} else {
		pe.home = cities[weighted(p, homeCities, homeWeights)]
	}
	noLine := p.chance(0.04)
	if !noLine {
		pe.isp, pe.blocks4, pe.blocks6 = p.homeLine(pe.home)
		pe.hasV6 = len(pe.blocks6) > 0 && p.chance(0.7)
		if !pe.isp.rotate && p.chance(0.1) {
			pe.changeDay = p.rnd.IntN(p.cfg.days)
		}
	}
	pe.reconnect = time.Duration(p.rnd.IntN(6*60)) * time.Minute
	if p.chance(0.65) || noLine {
		keys, w := networksOf(kMobile, pe.home.cc)
		if len(keys) > 0 {
			pe.mobile = networkByKey[weighted(p, keys, w)]
			pe.pPhone = p.between(0.1, 0.6)
		}
	}
	if !abroad {
		var office string
		switch {
		case distance(pe.home.lat, pe.home.lon, cities["Munich"].lat, cities["Munich"].lon) < 100:
			office = "office-muc"
		case distance(pe.home.lat, pe.home.lon, cities["Hamburg"].lat, cities["Hamburg"].lon) < 100:
			office = "office-ham"
		case distance(pe.home.lat, pe.home.lon, cities["Berlin"].lat, cities["Berlin"].lon) < 100:
			office = "office-ber"
		}
		if office != "" && p.chance(0.75) {
			pe.office = networkByKey[office]
			for d := time.Monday; d <= time.Friday; d++ {
				pe.officeDays[d] = true
			}
			for range p.intBetween(0, 2) {
				pe.officeDays[time.Monday+time.Weekday(p.rnd.IntN(5))] = false
			}
			pe.officeIn = p.between(7, 9.5)
			pe.officeOut = pe.officeIn + p.between(8, 10)
		}
	}
	if p.chance(0.03) {
		pe.gmail = p.between(0.3, 0.9)
	}
	if pe.mobile != nil && p.chance(0.05) {
		pe.outlookApp = true
	}
	switch r := p.rnd.Float64(); {
	case r < 0.03:
		pe.vpnShare = 0.9
	case r < 0.05:
		pe.vpnShare = 0.25
	}
	if pe.vpnShare > 0 {
		pe.vpn = networkByKey["vpn-ams"]
		if p.chance(0.3) {
			pe.vpn = networkByKey["vpn-zrh"]
		}
	}
	pe.rate = math.Min(60, math.Max(0.3, math.Exp(math.Log(5)+0.8*p.rnd.NormFloat64())))
	if p.chance(0.12) {
		for range p.intBetween(1, 3) {
			pe.typoDays[p.rnd.IntN(p.cfg.days)] = true
		}
	}
	if pe.mobile != nil && p.chance(0.008) {
		d := p.rnd.IntN(p.cfg.days)
		pe.staleFrom = p.localDay(pe.home, d).Add(time.Duration(p.between(8, 14) * float64(time.Hour)))
		pe.staleUntil = pe.staleFrom.Add(time.Duration(p.between(2, 9) * float64(time.Hour)))
	}
	p.plan(pe)
	return pe
}

// localDay is midnight of day d of the log, in c's time zone.
func (p *pop) localDay(c *city, d int) time.Time {
	t := p.start.Add(time.Duration(d) * 24 * time.Hour).In(p.zone(c.tz))
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
}

// travel is how long the trip from a to b takes, door to door.
func travel(a, b *city) time.Duration {
	km := distance(a.lat, a.lon, b.lat, b.lon)
	if km < 600 {
		return time.Duration(km / 90 * float64(time.Hour))
	}
	return time.Duration((km/780 + 3.5) * float64(time.Hour)) // to the airport, the flight, to the hotel
}

// plan: the trips and the move of a person.
func (p *pop) plan(pe *person) {
	add := func(kind string, dest *city, day, nights int, factor float64) {
		if dest == pe.home {
			return
		}
		leave := p.localDay(pe.home, day).Add(time.Duration(p.between(6, 17) * float64(time.Hour)))
		st := &stay{kind: kind, dest: dest, leave: leave, factor: factor}
		st.arrive = leave.Add(travel(pe.home, dest))
		back := p.localDay(dest, day+nights).Add(time.Duration(p.between(11, 19) * float64(time.Hour)))
		st.depart, st.back = back, back.Add(travel(dest, pe.home))
		for _, o := range pe.stays {
			if st.leave.Before(o.back.Add(24*time.Hour)) && o.leave.Before(st.back.Add(24*time.Hour)) {
				return
			}
		}
		if pe.mobile != nil {
			st.roaming = p.chance(0.7)
		}
		keys, w := networksOf(kBroadband, dest.cc)
		st.hotelNet = networkByKey[weighted(p, keys, w)]
		h := p.addrNear(st.hotelNet, dest)
		st.hotel = []netip.Addr{h}
		if p.chance(0.3) { // a hotel behind a few addresses
			b, _ := h.Prefix(24)
			st.hotel = append(st.hotel, p.randomIn(b), p.randomIn(b))
		}
		st.siteNet = networkByKey[weighted(p, keys, w)]
		st.site = p.addrNear(st.siteNet, dest)
		if dest.name == "Munich" {
			st.office = networkByKey["office-muc"]
		}
		pe.stays = append(pe.stays, st)
	}
	d := p.cfg.days
	if d < 3 {
		return
	}
	if pe.abroadStaffer {
		if p.chance(0.3) {
			add("visit", cities["Munich"], p.rnd.IntN(d-1), p.intBetween(1, 4), 0.8)
		}
	} else {
		if p.chance(0.12) {
			for range 1 + btoi(p.chance(0.1)) {
				if p.chance(0.75) {
					add("trip", cities[pick(p, tripEU)], p.rnd.IntN(d-1), p.intBetween(1, 3), 0.7)
				} else {
					add("trip", cities[pick(p, tripFar)], p.rnd.IntN(d-1), p.intBetween(3, 6), 0.6)
				}
			}
		}
		if p.chance(0.06) {
			add("holiday", cities[pick(p, holidays)], p.rnd.IntN(d-1), p.intBetween(3, 9), 0.15)
		}
		if p.chance(0.003) && d >= 6 && pe.isp != nil {
			to := cities[pick(p, moveTo)]
			day := p.intBetween(2, d-4)
			mv := &move{to: to}
			mv.leave = p.localDay(pe.home, day).Add(time.Duration(p.between(7, 12) * float64(time.Hour)))
			mv.arrive = mv.leave.Add(travel(pe.home, to) + time.Duration(p.intBetween(1, 3))*24*time.Hour)
			mv.isp, mv.blocks4, mv.blocks6 = p.homeLine(to)
			mv.hasV6 = len(mv.blocks6) > 0 && p.chance(0.6)
			mv.mobile = pe.mobile
			if keys, w := networksOf(kMobile, to.cc); len(keys) > 0 && pe.mobile != nil {
				mv.mobile = networkByKey[weighted(p, keys, w)]
				mv.simSwitch = mv.arrive.Add(time.Duration(p.between(0, 12) * 24 * float64(time.Hour)))
			}
			pe.move = mv
			pe.stays = slices.DeleteFunc(pe.stays, func(st *stay) bool { return st.back.After(mv.leave.Add(-24 * time.Hour)) })
			pe.office = nil
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (pe *person) mainKind() string {
	switch {
	case pe.move != nil:
		return "mover"
	case pe.abroadStaffer:
		return "abroad-staff"
	}
	for _, st := range pe.stays {
		if st.kind == "trip" && st.roaming {
			return "traveller-roaming"
		}
	}
	for _, st := range pe.stays {
		if st.kind == "trip" {
			return "traveller"
		}
	}
	for _, st := range pe.stays {
		if st.kind == "holiday" {
			return "holiday"
		}
	}
	switch {
	case pe.vpn != nil && pe.vpnShare > 0.5:
		return "vpn-abroad-daily"
	case pe.vpn != nil:
		return "vpn-abroad-sometimes"
	case pe.gmail > 0:
		return "gmail-send-as"
	case pe.outlookApp:
		return "outlook-app"
	case !pe.staleFrom.IsZero():
		return "stale-phone-password"
	case len(pe.typoDays) > 0:
		return "typos"
	case pe.mobile != nil && pe.isp != nil && pe.isp.rotate:
		return "home-rotating+phone"
	case pe.mobile != nil:
		return "home+phone"
	case pe.isp != nil && pe.isp.rotate:
		return "home-rotating"
	case pe.isp == nil:
		return "phone-only"
	}
	return "home"
}

// describe: the person's life, for the labels.
func (pe *person) describe(p *pop) string {
	if pe.service != "" {
		return fmt.Sprintf("service=%s net=%s", pe.service, pe.serviceNet.key)
	}
	var f []string
	f = append(f, "home="+pe.home.cc+"/"+strings.ReplaceAll(pe.home.name, " ", "_"))
	if pe.isp != nil {
		s := "line=" + pe.isp.key
		if pe.isp.rotate {
			s += "(daily)"
		} else if pe.changeDay >= 0 {
			s += fmt.Sprintf("(changes-day%d)", pe.changeDay)
		}
		if pe.hasV6 {
			s += "+v6"
		}
		f = append(f, s)
	} else {
		f = append(f, "line=none")
	}
	if pe.mobile != nil {
		f = append(f, fmt.Sprintf("phone=%s(%.0f%%)", pe.mobile.key, pe.pPhone*100))
	}
	if pe.office != nil {
		days := ""
		for d := time.Monday; d <= time.Friday; d++ {
			if pe.officeDays[d] {
				days += d.String()[:2]
			}
		}
		f = append(f, "office="+pe.office.key+"("+days+")")
	}
	if pe.gmail > 0 {
		f = append(f, fmt.Sprintf("gmail-send-as(%.0f%%)", pe.gmail*100))
	}
	if pe.outlookApp {
		f = append(f, "outlook-app(phone via microsoft)")
	}
	if pe.vpn != nil {
		f = append(f, fmt.Sprintf("vpn=%s(%.0f%%)", pe.vpn.key, pe.vpnShare*100))
	}
	f = append(f, fmt.Sprintf("rate=%.1f/day", pe.rate))
	day := func(t time.Time) string { return t.In(p.zone("Europe/Berlin")).Format("01-02T15:04") }
	for _, st := range pe.stays {
		s := fmt.Sprintf("%s=%s/%s(%s..%s,hotel=%s", st.kind, st.dest.cc, strings.ReplaceAll(st.dest.name, " ", "_"), day(st.arrive), day(st.depart), st.hotelNet.key)
		if st.roaming {
			s += ",roaming-phone"
		}
		f = append(f, s+")")
	}
	if mv := pe.move; mv != nil {
		s := fmt.Sprintf("moves=%s/%s(%s,line=%s", mv.to.cc, strings.ReplaceAll(mv.to.name, " ", "_"), day(mv.arrive), mv.isp.key)
		if mv.mobile != nil && mv.mobile != pe.mobile {
			s += ",new-sim=" + day(mv.simSwitch)
		}
		f = append(f, s+")")
	}
	if len(pe.typoDays) > 0 {
		var ds []int
		for d := range pe.typoDays {
			ds = append(ds, d)
		}
		slices.Sort(ds)
		f = append(f, fmt.Sprintf("typos(days %v)", ds))
	}
	if !pe.staleFrom.IsZero() {
		f = append(f, "stale-phone-password("+day(pe.staleFrom)+".."+day(pe.staleUntil)+")")
	}
	return strings.Join(f, " ")
}

// ---------------------------------------------------------------- where

const (
	atHome = iota
	inTransit
	abroad
	movedAway
)

// city is where the person is at t (nil in transit).
func (pe *person) city(t time.Time) *city {
	switch k, st := pe.where(t); k {
	case abroad:
		return st.dest
	case movedAway:
		return pe.move.to
	case inTransit:
		return nil
	}
	return pe.home
}

func (pe *person) where(t time.Time) (int, *stay) {
	for _, st := range pe.stays {
		switch {
		case !t.Before(st.leave) && t.Before(st.arrive), !t.Before(st.depart) && t.Before(st.back):
			return inTransit, st
		case !t.Before(st.arrive) && t.Before(st.depart):
			return abroad, st
		}
	}
	if mv := pe.move; mv != nil {
		switch {
		case !t.Before(mv.leave) && t.Before(mv.arrive):
			return inTransit, nil
		case !t.Before(mv.arrive):
			return movedAway, nil
		}
	}
	return atHome, nil
}

// profile: how a person's mail spreads over the hours of a working day
// and of a weekend day, in the local time of where the person is.
var weekdayProfile = []float64{0.02, 0.01, 0.01, 0.01, 0.01, 0.03, 0.15, 0.4, 0.9, 1, 1, 1, 0.6, 0.9, 1, 1, 0.9, 0.6, 0.35, 0.3, 0.3, 0.25, 0.15, 0.06}
var weekendProfile = []float64{0.03, 0.02, 0.01, 0.01, 0.01, 0.01, 0.02, 0.1, 0.3, 0.6, 0.8, 0.9, 0.8, 0.7, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.6, 0.3, 0.1}
var machineProfile = []float64{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}

func sum(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s
}

// ---------------------------------------------------------------- a life

func (p *pop) live(a *account) {
	for _, pe := range a.persons { // a shared mailbox: its people share its mail
		p.livePerson(a, pe, 1/float64(len(a.persons)))
	}
	slices.SortFunc(a.logins, func(x, y time.Time) int { return x.Compare(y) })
	if len(a.logins) > 0 {
		a.first = a.logins[0]
	}
}

func (p *pop) livePerson(a *account, pe *person, share float64) {
	hours := p.cfg.days * 24
	var ts []time.Time
	for h := 0; h < hours; h++ {
		t0 := p.start.Add(time.Duration(h) * time.Hour)
		mid := t0.Add(30 * time.Minute)
		ts = ts[:0]
		kind, st := pe.where(mid)
		if kind != inTransit {
			c := pe.home
			switch kind {
			case abroad:
				c = st.dest
			case movedAway:
				c = pe.move.to
			}
			local := mid.In(p.zone(c.tz))
			prof, factor := weekdayProfile, 1.0
			if wd := local.Weekday(); wd == time.Saturday || wd == time.Sunday {
				prof, factor = weekendProfile, 0.1
				if pe.service == "scanner" {
					factor = 0
				}
			}
			if pe.service == "app" || pe.service == "saas" {
				prof, factor = machineProfile, 1
			}
			if st != nil {
				factor *= st.factor
			}
			l := pe.rate * share * factor * prof[local.Hour()] / sum(prof)
			for range p.poisson(l) {
				ts = append(ts, t0.Add(time.Duration(p.rnd.Int64N(int64(time.Hour)))))
			}
		}
		stale := !pe.staleFrom.IsZero() && t0.Before(pe.staleUntil) && pe.staleFrom.Before(t0.Add(time.Hour))
		var fails []time.Time
		if stale { // the phone retries every few minutes
			t := t0
			if pe.staleFrom.After(t) {
				t = pe.staleFrom
			}
			for ; t.Before(t0.Add(time.Hour)) && t.Before(pe.staleUntil); t = t.Add(time.Duration(p.between(4, 16) * float64(time.Minute))) {
				fails = append(fails, t)
			}
		}
		slices.SortFunc(ts, func(x, y time.Time) int { return x.Compare(y) })
		fi := 0
		for _, t := range ts {
			if k, _ := pe.where(t); k == inTransit {
				continue
			}
			for ; fi < len(fails) && fails[fi].Before(t); fi++ {
				p.phoneFailure(a, pe, fails[fi])
			}
			p.send(a, pe, t)
		}
		for ; fi < len(fails); fi++ {
			p.phoneFailure(a, pe, fails[fi])
		}
	}
}

func (p *pop) phoneFailure(a *account, pe *person, t time.Time) {
	if pe.city(t) == nil { // on the way: the phone is off
		return
	}
	n, ip := p.phoneAddr(pe, t)
	p.add(session{t: t, user: a.user, ip: ip, name: p.nameOf(n, ip), fail: true, method: pe.method, smtps: true, who: pe, at: pe.city(t), phone: true})
}

// twoClients gives a share cfg.twoClients of the people whose computer
// uses LOGIN a phone that uses PLAIN, and rewrites their phones' logins:
// drawn from a random source of its own, so that the rest of the log is
// the same as without it.
func (p *pop) twoClients() {
	if p.cfg.twoClients <= 0 {
		return
	}
	rnd := rand.New(rand.NewPCG(p.cfg.seed, 0x636c69))
	for _, a := range p.accounts {
		for _, pe := range a.persons {
			if pe.service == "" && pe.method == "LOGIN" && pe.mobile != nil && rnd.Float64() < p.cfg.twoClients {
				pe.phoneMethod = "PLAIN"
				a.traits = append(a.traits, "two-clients(computer LOGIN, phone PLAIN)")
			}
		}
	}
	for i := range p.sessions {
		if s := &p.sessions[i]; s.phone && !s.attack && s.who != nil && s.who.phoneMethod != "" {
			s.method = s.who.phoneMethod
		}
	}
}

func (p *pop) nameOf(n *network, ip netip.Addr) string {
	if n == nil || n.rdns == nil || p.chance(0.1) || !ip.Is4() && !n.rdns6 {
		return "unknown"
	}
	return n.rdns(ip)
}

func (p *pop) add(s session) { p.sessions = append(p.sessions, s) }

// send: one message sent by a person at t, from wherever and whatever
// device, with a typo first on the days the person has one.
func (p *pop) send(a *account, pe *person, t time.Time) {
	var n *network
	var ip netip.Addr
	laptopHome := false
	p.onPhone = false
	if pe.service != "" {
		n = pe.serviceNet
		if len(pe.serviceIPs) > 0 {
			ip = pick(p, pe.serviceIPs)
		} else {
			ip = p.anyAddr(n)
		}
	} else {
		n, ip, laptopHome = p.address(pe, t)
	}
	if laptopHome {
		d := int(t.Sub(p.start) / (24 * time.Hour))
		if pe.typoDays[d] && !pe.typoDone[d] {
			pe.typoDone[d] = true
			k := p.intBetween(1, 3)
			for i := k; i > 0; i-- {
				ft := t.Add(-time.Duration(i*p.intBetween(4, 25)) * time.Second)
				p.add(session{t: ft, user: a.user, ip: ip, name: p.nameOf(n, ip), fail: true, method: pe.method, who: pe, at: pe.city(t)})
			}
		}
	}
	p.add(session{t: t, user: a.user, ip: ip, name: p.nameOf(n, ip), method: pe.method, smtps: p.chance(0.25), who: pe, at: pe.city(t), phone: p.onPhone})
	a.logins = append(a.logins, t)
}

// address: where a person's message comes from. laptopHome says it is the
// person's computer on the home line (where typos happen).
func (p *pop) address(pe *person, t time.Time) (*network, netip.Addr, bool) {
	p.onPhone = false
	if pe.gmail > 0 && p.chance(pe.gmail) {
		g := networkByKey["google"]
		return g, p.anyAddr(g), false
	}
	kind, st := pe.where(t)
	phone := pe.mobile != nil && p.chance(pe.pPhone)
	p.onPhone = phone
	if phone && pe.outlookApp { // wherever the phone is
		m := networkByKey["microsoft"]
		return m, p.anyAddr(m), false
	}
	c := pe.home
	switch kind {
	case abroad:
		c = st.dest
	case movedAway:
		c = pe.move.to
	}
	local := t.In(p.zone(c.tz))
	hour := float64(local.Hour()) + float64(local.Minute())/60
	wd := local.Weekday()
	weekend := wd == time.Saturday || wd == time.Sunday
	vpn := func() (*network, netip.Addr, bool) {
		return pe.vpn, p.gateway(pe.vpn), false
	}
	switch kind {
	case atHome:
		if pe.office != nil && pe.officeDays[wd] && hour >= pe.officeIn && hour < pe.officeOut {
			if !phone || p.chance(0.5) {
				return pe.office, p.gateway(pe.office), false
			}
			n, ip := p.mobileAddr(pe, pe.mobile, t)
			return n, ip, false
		}
		if !phone {
			if pe.vpn != nil && p.chance(pe.vpnShare) {
				return vpn()
			}
			if pe.isp != nil {
				n, ip := p.homeAddr(pe, t)
				return n, ip, true
			}
			n, ip := p.mobileAddr(pe, pe.mobile, t) // a hotspot, or nothing but the phone
			if n == nil {
				g := networkByKey["google"]
				return g, p.anyAddr(g), false
			}
			return n, ip, false
		}
		atHomeWifi := 0.5
		if weekend || hour < 8 || hour >= 18 {
			atHomeWifi = 0.6
		}
		if pe.isp != nil && p.chance(atHomeWifi) {
			n, ip := p.homeAddr(pe, t)
			return n, ip, false
		}
		n, ip := p.mobileAddr(pe, pe.mobile, t)
		return n, ip, false
	case abroad:
		work := !weekend && hour >= 9 && hour < 17 && st.kind != "holiday"
		if st.office != nil && work {
			if !phone || p.chance(0.5) {
				return st.office, p.gateway(st.office), false
			}
		}
		if phone && st.roaming {
			n, ip := p.mobileAddr(pe, pe.mobile, t)
			return n, ip, false
		}
		if !phone && pe.vpn != nil && p.chance(pe.vpnShare) {
			return vpn()
		}
		if work && st.office == nil && p.chance(0.5) {
			return st.siteNet, st.site, false
		}
		return st.hotelNet, pick(p, st.hotel), false
	case movedAway:
		mv := pe.move
		if phone {
			if !mv.simSwitch.IsZero() && !t.Before(mv.simSwitch) {
				n, ip := p.mobileAddr(pe, mv.mobile, t)
				return n, ip, false
			}
			if p.chance(0.5) {
				n, ip := p.mobileAddr(pe, pe.mobile, t) // the old SIM, roaming
				return n, ip, false
			}
		}
		if pe.vpn != nil && p.chance(pe.vpnShare) {
			return vpn()
		}
		if !pe.moved4.IsValid() {
			pe.moved4 = p.randomIn(p.blockOf(mv.isp, false, pick(p, mv.blocks4)))
		}
		if mv.hasV6 && p.chance(mv.isp.v6share) {
			d := int(t.Sub(p.start) / (24 * time.Hour))
			if a, ok := pe.home6[1000+d]; ok {
				return mv.isp, a, true
			}
			a := p.randomIn(p.subprefix(p.blockOf(mv.isp, true, mv.blocks6[0]), 64))
			pe.home6[1000+d] = a
			return mv.isp, a, true
		}
		return mv.isp, pe.moved4, true
	}
	panic("in transit")
}

// gateway: the address an office or a VPN's exit sends from (its first, or
// now and then its second).
func (p *pop) gateway(n *network) netip.Addr {
	a := p.blockOf(n, false, 0).Addr().Next()
	if p.chance(0.2) {
		a = a.Next()
	}
	return a
}

// phoneAddr: the address of the person's phone at t (for a phone that
// retries with an old password).
func (p *pop) phoneAddr(pe *person, t time.Time) (*network, netip.Addr) {
	kind, _ := pe.where(t)
	if kind == atHome && pe.isp != nil && p.chance(0.4) {
		return p.homeAddr(pe, t)
	}
	return p.mobileAddr(pe, pe.mobile, t)
}

// homeAddr: the home line's address at t: a new one every day after the
// nightly reconnection on a rotating line, the same for weeks on a stable
// one; over IPv6 with a privacy address that changes every day.
func (p *pop) homeAddr(pe *person, t time.Time) (*network, netip.Addr) {
	n := pe.isp
	d := int((t.Sub(p.start) - pe.reconnect) / (24 * time.Hour))
	if t.Sub(p.start) < pe.reconnect {
		d = -1
	}
	if pe.hasV6 && p.chance(n.v6share) {
		if a, ok := pe.home6[d]; ok {
			return n, a
		}
		key := 0 // the household's /56 stays on a stable line
		if n.rotate {
			key = d
		}
		pfx, ok := pe.home6[-1000-key]
		if !ok {
			pfx = p.randomIn(p.subprefix(p.blockOf(n, true, pick(p, pe.blocks6)), 56))
			pe.home6[-1000-key] = pfx
		}
		q, _ := pfx.Prefix(64)
		a := p.randomIn(q)
		pe.home6[d] = a
		return n, a
	}
	key := d
	if !n.rotate {
		key = 0
		if pe.changeDay >= 0 && d >= pe.changeDay {
			key = 1
		}
	}
	if a, ok := pe.home4[key]; ok {
		return n, a
	}
	a := p.randomIn(p.blockOf(n, false, pick(p, pe.blocks4)))
	pe.home4[key] = a
	return n, a
}

// mobileAddr: a phone's address on carrier n at t: the carrier hands out
// an address for a few minutes to two hours, out of any of its gateways.
func (p *pop) mobileAddr(pe *person, n *network, t time.Time) (*network, netip.Addr) {
	if n == nil {
		return nil, netip.Addr{}
	}
	if pe.mobNet == n && t.Before(pe.mobUntil) && pe.mob.IsValid() {
		return n, pe.mob
	}
	pe.mobNet, pe.mob = n, p.anyAddr(n)
	pe.mobUntil = t.Add(time.Duration(p.between(5, 120) * float64(time.Minute)))
	return n, pe.mob
}

// ---------------------------------------------------------------- thieves

var botnetCountries = []string{"CN", "RU", "BR", "VN", "IN", "ID", "TR", "UA", "RO", "EG", "PK", "PH", "TH",
	"KR", "AR", "MX", "NG", "MA", "US"}

// residential picks a network of country cc that is not a data centre.
func (p *pop) residential(cc string) *network {
	keys, w := networksOf(kBroadband, cc)
	if len(keys) == 0 {
		keys, w = networksOf(kMobile, cc)
	}
	return networkByKey[weighted(p, keys, w)]
}

// foreign: attack countries the owner neither lives in nor travels to.
func (p *pop) foreign(a *account, far float64) []string {
	mine := map[string]bool{}
	var homes []*city
	for _, pe := range a.persons {
		mine[pe.home.cc] = true
		homes = append(homes, pe.home)
		for _, st := range pe.stays {
			mine[st.dest.cc] = true
		}
		if pe.move != nil {
			mine[pe.move.to.cc] = true
		}
	}
	var out []string
	for _, cc := range botnetCountries {
		if mine[cc] {
			continue
		}
		c := countryLoc[cc]
		ok := true
		for _, h := range homes {
			if distance(c.lat, c.lon, h.lat, h.lon) < far {
				ok = false
			}
		}
		if ok {
			out = append(out, cc)
		}
	}
	return out
}

func (p *pop) attack(a *account) {
	earliest := p.start.Add(48 * time.Hour)
	if !a.first.IsZero() && a.first.Add(25*time.Hour).After(earliest) {
		earliest = a.first.Add(25 * time.Hour)
	}
	latest := p.end.Add(-8 * time.Hour)
	if earliest.After(latest) {
		earliest = latest
	}
	at := func(dur time.Duration) time.Time {
		hi := latest.Add(-dur)
		if !hi.After(earliest) {
			return earliest
		}
		return earliest.Add(time.Duration(p.rnd.Int64N(int64(hi.Sub(earliest)))))
	}
	login := func(t time.Time, n *network, ip netip.Addr) {
		p.add(session{t: t, user: a.user, ip: ip, name: p.nameOf(n, ip), method: "LOGIN", smtps: p.chance(0.5), attack: true})
	}
	fail := func(t time.Time, n *network, ip netip.Addr) {
		p.add(session{t: t, user: a.user, ip: ip, name: "unknown", fail: true, method: "LOGIN", attack: true})
	}
	var desc string
	switch a.attack {
	case "botnet":
		dur := time.Duration(p.between(4, 36) * float64(time.Hour))
		t0 := at(dur)
		ccs := p.foreign(a, 0)
		p.rnd.Shuffle(len(ccs), func(i, j int) { ccs[i], ccs[j] = ccs[j], ccs[i] })
		ccs = ccs[:min(len(ccs), p.intBetween(6, 16))]
		nAddr := p.intBetween(15, 120)
		used := map[string]bool{}
		for range nAddr {
			cc := pick(p, ccs)
			used[cc] = true
			n := p.residential(cc)
			ip := p.anyAddr(n)
			for range p.intBetween(1, 6) {
				login(t0.Add(time.Duration(p.rnd.Int64N(int64(dur)))), n, ip)
			}
		}
		desc = fmt.Sprintf("botnet(%s, %d addresses, %d countries, %.0fh)", t0.In(p.zone("Europe/Berlin")).Format("01-02T15:04"), nAddr, len(used), dur.Hours())
	case "heavy-single":
		dur := time.Duration(p.between(6, 48) * float64(time.Hour))
		t0 := at(dur)
		cc := pick(p, p.foreign(a, 0))
		n := p.residential(cc)
		if p.chance(0.4) {
			n = networkByKey[pick(p, []string{"digitalocean", "ovh", "leaseweb", "aws-use1"})]
		}
		ip := p.anyAddr(n)
		nf := p.intBetween(3, 8)
		t := t0
		for range nf {
			fail(t, n, ip)
			t = t.Add(time.Duration(p.between(2, 90) * float64(time.Second)))
		}
		nl := p.intBetween(80, 400)
		step := dur / time.Duration(nl)
		for range nl {
			t = t.Add(time.Duration(p.between(0.2, 1.8) * float64(step)))
			login(t, n, ip)
		}
		desc = fmt.Sprintf("heavy-single(%s, %s %s, %d failures then %d logins)", t0.In(p.zone("Europe/Berlin")).Format("01-02T15:04"), ip, n.key, nf, nl)
	case "two-in-country":
		dur := time.Duration(p.between(2, 24) * float64(time.Hour))
		t0 := at(dur)
		cc := pick(p, p.foreign(a, 0))
		n1, n2 := p.residential(cc), p.residential(cc)
		ip1, ip2 := p.anyAddr(n1), p.anyAddr(n2)
		nl := p.intBetween(10, 80)
		for range nl {
			t := t0.Add(time.Duration(p.rnd.Int64N(int64(dur))))
			if p.chance(0.5) {
				login(t, n1, ip1)
			} else {
				login(t, n2, ip2)
			}
		}
		desc = fmt.Sprintf("two-in-country(%s, %s: %s %s, %d logins)", t0.In(p.zone("Europe/Berlin")).Format("01-02T15:04"), cc, ip1, ip2, nl)
	case "country-a-night":
		nights := p.intBetween(5, 7)
		ccs := p.foreign(a, 0)
		p.rnd.Shuffle(len(ccs), func(i, j int) { ccs[i], ccs[j] = ccs[j], ccs[i] })
		first := at(time.Duration(nights-1) * 24 * time.Hour)
		ber := p.zone("Europe/Berlin")
		day := first.In(ber)
		night := time.Date(day.Year(), day.Month(), day.Day()+1, 0, 0, 0, 0, ber)
		var list []string
		for k := 0; k < nights && k < len(ccs); k++ {
			n := p.residential(ccs[k])
			ip := p.anyAddr(n)
			t := night.AddDate(0, 0, k).Add(time.Duration(p.between(0.5, 4.5) * float64(time.Hour)))
			nl := p.intBetween(2, 15)
			for range nl {
				t = t.Add(time.Duration(p.between(1, 12) * float64(time.Minute)))
				login(t, n, ip)
			}
			list = append(list, ccs[k])
		}
		desc = fmt.Sprintf("country-a-night(from %s: %s)", night.Format("01-02"), strings.Join(list, ","))
	case "far-single":
		cc := pick(p, p.foreign(a, 5000))
		n := p.residential(cc)
		ip := p.anyAddr(n)
		var near []time.Time
		for _, t := range a.logins {
			if !t.Before(earliest) && t.Before(latest) {
				near = append(near, t)
			}
		}
		t := at(0)
		if len(near) > 0 {
			t = pick(p, near)
		}
		t = t.Add(time.Duration(p.between(2, 40) * float64(time.Minute)))
		login(t, n, ip)
		desc = fmt.Sprintf("far-single(%s, %s %s %s)", t.In(p.zone("Europe/Berlin")).Format("01-02T15:04"), cc, ip, n.key)
	}
	a.traits = append([]string{"attack=" + desc}, a.traits...)
}

// ---------------------------------------------------------------- bots

var botCountries = []string{"CN", "RU", "BR", "VN", "IN", "ID", "TR", "UA", "RO", "EG", "PK", "PH", "TH", "KR", "AR", "MX", "NG", "MA", "US", "DE"}
var botWeights = []float64{14, 10, 8, 8, 8, 4, 3, 3, 3, 2, 2, 2, 2, 3, 2, 2, 2, 1, 5, 3}
var genericUsers = strings.Fields("admin info test postmaster webmaster sales contact support office user root mail marketing " +
	"billing hr jobs scanner noreply newsletter service abuse backup demo guest")

// bots: password guessing, all day: bursts from single addresses, and a
// slow spray from many, against the company's accounts (harvested from
// the web) and made-up ones. Never a success.
func (p *pop) bots() {
	bot := func() netip.Addr {
		var n *network
		if p.chance(0.3) {
			n = networkByKey[pick(p, []string{"digitalocean", "ovh", "hetzner", "leaseweb", "aws-use1"})]
		} else {
			n = p.residential(weighted(p, botCountries, botWeights))
		}
		return p.anyAddr(n)
	}
	target := func() (string, bool) {
		switch r := p.rnd.Float64(); {
		case r < 0.2:
			return "", true
		case r < 0.7:
			return pick(p, p.users), false
		}
		return pick(p, genericUsers) + "@example.com", false
	}
	for d := 0; d < p.cfg.days; d++ {
		day := p.start.Add(time.Duration(d) * 24 * time.Hour)
		for range p.intBetween(15, 45) {
			ip := bot()
			t := day.Add(time.Duration(p.rnd.Int64N(int64(24 * time.Hour))))
			gap := p.between(3, 90)
			for range p.intBetween(3, 80) {
				u, none := target()
				p.add(session{t: t, user: u, ip: ip, name: "unknown", fail: true, noUser: none, method: "LOGIN"})
				t = t.Add(time.Duration(p.between(0.5, 1.5) * gap * float64(time.Second)))
			}
		}
		for range p.intBetween(100, 300) {
			ip := bot()
			for range p.intBetween(1, 2) {
				u, none := target()
				t := day.Add(time.Duration(p.rnd.Int64N(int64(24 * time.Hour))))
				p.add(session{t: t, user: u, ip: ip, name: "unknown", fail: true, noUser: none, method: "LOGIN"})
			}
		}
	}
}

// ---------------------------------------------------------------- output

type logLine struct {
	t    time.Time
	sess int32
	k    int8
}

func (p *pop) write() (lines, bytes, logins, failures int64, err error) {
	ll := make([]logLine, 0, 3*len(p.sessions))
	for i, s := range p.sessions {
		d1 := time.Duration(p.rnd.IntN(1500)) * time.Millisecond
		d2 := time.Duration(200+p.rnd.IntN(1500)) * time.Millisecond
		ll = append(ll, logLine{s.t, int32(i), 0}, logLine{s.t.Add(d1), int32(i), 1}, logLine{s.t.Add(d1 + d2), int32(i), 2})
	}
	slices.SortStableFunc(ll, func(x, y logLine) int {
		return cmp.Or(x.t.Compare(y.t), cmp.Compare(x.sess, y.sess), cmp.Compare(x.k, y.k))
	})
	pids := make([]int, len(p.sessions))
	qids := make([]string, len(p.sessions))
	pid := 1000
	for i := range p.sessions {
		pid = 1000 + (pid+7919)%60000
		pids[i] = pid
		qids[i] = fmt.Sprintf("%010X", p.rnd.Uint64()&0xffffffffff)
	}
	zone := p.zone(p.cfg.serverZone)
	w := p.cfg.out
	var buf []byte
	for _, l := range ll {
		s := &p.sessions[l.sess]
		svc := "postfix/submission/smtpd"
		if s.smtps {
			svc = "postfix/smtps/smtpd"
		}
		b := l.t.In(zone).AppendFormat(buf[:0], time.Stamp)
		b = append(b, " mail "...)
		b = append(b, svc...)
		b = append(b, '[')
		b = strconv.AppendInt(b, int64(pids[l.sess]), 10)
		b = append(b, "]: "...)
		addr := s.name + "[" + s.ip.String() + "]"
		switch l.k {
		case 0:
			b = append(b, "connect from "...)
			b = append(b, addr...)
		case 1:
			switch {
			case s.fail && s.noUser:
				b = fmt.Appendf(b, "warning: %s: SASL %s authentication failed: UGFzc3dvcmQ6", addr, s.method)
				failures++
			case s.fail:
				b = fmt.Appendf(b, "warning: %s: SASL %s authentication failed: authentication failure, sasl_username=%s", addr, s.method, s.user)
				failures++
			default:
				b = fmt.Appendf(b, "%s: client=%s, sasl_method=%s, sasl_username=%s", qids[l.sess], addr, s.method, s.user)
				logins++
			}
		case 2:
			if s.fail {
				b = fmt.Appendf(b, "disconnect from %s ehlo=1 auth=0/1 quit=1 commands=2/3", addr)
			} else {
				b = fmt.Appendf(b, "disconnect from %s ehlo=2 starttls=1 auth=1 mail=1 rcpt=1 data=1 quit=1 commands=8", addr)
			}
		}
		b = append(b, '\n')
		buf = b
		if _, err := w.Write(b); err != nil {
			return lines, bytes, logins, failures, err
		}
		lines++
		bytes += int64(len(b))
	}
	return lines, bytes, logins, failures, w.Flush()
}

func (p *pop) writeLabels(path string) error {
	var b strings.Builder
	b.WriteString("# user\tlabel\tkind\tbehaviour (genlog -population; see scripts/genlog/population.go)\n")
	for _, a := range p.accounts {
		fmt.Fprintf(&b, "%s\t%s\t%s\t%s\n", a.user, a.label, a.kind, strings.Join(a.traits, " | "))
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// writeGeoDB writes DIR/genlog-city.mmdb (GeoLite2-City layout: country,
// city, location with accuracy_radius and time zone) for every block an
// address was drawn from, and DIR/genlog-asn.mmdb (GeoLite2-ASN layout) for
// the ranges of every network used.
func (p *pop) writeGeoDB(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	opts := func(t string) mmdbwriter.Options {
		return mmdbwriter.Options{DatabaseType: t, RecordSize: 28, IPVersion: 6, BuildEpoch: p.start.Unix(),
			Description: map[string]string{"en": "genlog -population: synthetic data, not a real database"}}
	}
	city, err := mmdbwriter.New(opts("GeoLite2-City"))
	if err != nil {
		return err
	}
	asn, err := mmdbwriter.New(opts("GeoLite2-ASN"))
	if err != nil {
		return err
	}
	blocks := make([]netip.Prefix, 0, len(p.used))
	nets := map[*network]bool{}
	for b, u := range p.used {
		blocks = append(blocks, b)
		nets[u.net] = true
	}
	slices.SortFunc(blocks, func(x, y netip.Prefix) int {
		return cmp.Or(x.Addr().Compare(y.Addr()), cmp.Compare(x.Bits(), y.Bits()))
	})
	for _, b := range blocks {
		at := p.used[b].at
		rec := mmdbtype.Map{
			"country":            mmdbtype.Map{"iso_code": mmdbtype.String(at.cc)},
			"registered_country": mmdbtype.Map{"iso_code": mmdbtype.String(at.cc)},
			"location": mmdbtype.Map{
				"latitude": mmdbtype.Float64(at.lat), "longitude": mmdbtype.Float64(at.lon),
				"accuracy_radius": mmdbtype.Uint16(at.radius), "time_zone": mmdbtype.String(countryTZ[at.cc]),
			},
		}
		if at.city != "" {
			rec["city"] = mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String(at.city)}}
			rec["location"].(mmdbtype.Map)["time_zone"] = mmdbtype.String(cities[at.city].tz)
		}
		if err := city.Insert(ipnet(b), rec); err != nil {
			return fmt.Errorf("%s: %w", b, err)
		}
	}
	for _, n := range networks {
		if !nets[n] {
			continue
		}
		for _, pr := range append(slices.Clone(n.p4), n.p6...) {
			if err := asn.Insert(ipnet(pr), mmdbtype.Map{
				"autonomous_system_number":       mmdbtype.Uint32(n.asn),
				"autonomous_system_organization": mmdbtype.String(n.org),
			}); err != nil {
				return fmt.Errorf("%s: %w", pr, err)
			}
		}
	}
	for name, t := range map[string]*mmdbwriter.Tree{"genlog-city.mmdb": city, "genlog-asn.mmdb": asn} {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		if _, err := t.WriteTo(f); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	return nil
}

func ipnet(p netip.Prefix) *net.IPNet {
	a := p.Addr()
	bits := 32
	if !a.Is4() {
		bits = 128
	}
	return &net.IPNet{IP: net.IP(a.AsSlice()), Mask: net.CIDRMask(p.Bits(), bits)}
}
