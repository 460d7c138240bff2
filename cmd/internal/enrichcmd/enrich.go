package enrichcmd

import (
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/config"
	"github.com/loganom/loganom/pkg/enrich"
	"github.com/loganom/loganom/pkg/report"
)

// EnrichFlags are the flags of loganom-enrich; the wrapper takes them too.
// Each overrides the [ENRICH] key of the same name in the config file.
type EnrichFlags struct {
	GeoIP    []string       `name:"geoip" placeholder:"FILE" sep:"none" help:"A .mmdb database (GeoLite2 City/Country/ASN, DB-IP Lite, IPinfo Lite, ip-location-db); repeat for several. Default: the *.mmdb files of the data directory."`
	ASNCSV   []string       `name:"asn-csv" placeholder:"FILE" sep:"none" help:"AS ranges as CSV (start,end,asn,org), for when no ASN database is at hand; may be repeated."`
	DNS      string         `name:"dns" placeholder:"HOST:PORT" help:"DNS server for reverse lookups (default: the first of /etc/resolv.conf)."`
	NoRDNS   bool           `name:"no-rdns" help:"Do not look up reverse DNS names."`
	Cache    string         `placeholder:"FILE" help:"The cache database (default: loganom/cache.db in the user's cache directory)."`
	NoCache  bool           `name:"no-cache" help:"Use no cache."`
	Workers  *int           `placeholder:"N" help:"Reverse lookups in flight at once (default 400; lower it for a resolver that limits clients)."`
	NoIPinfo bool           `name:"no-ipinfo" help:"Do not ask ipinfo.io, even with a token ([GENERAL] ipinfo_token or IPINFO_TOKEN)."`
	Timeout  *time.Duration `placeholder:"DURATION" help:"Time one DNS query may take (default 2s)."`
}

// Stage is the configured enrich stage with the resources it holds open
// (databases, cache), and the logger its summary goes to.
type Stage struct {
	*enrich.Enricher
	geo    *enrich.GeoSet
	cache  *enrich.SQLiteCache
	log    *cli.Logger
	closed bool

	gaveUpDNS bool // the DNS server was given up on, and that was said
}

// Close releases the databases and commits the cache; once.
func (e *Stage) Close() error {
	if e.closed {
		return nil
	}
	e.closed = true
	var errs []error
	if e.geo != nil {
		errs = append(errs, e.geo.Close())
	}
	if e.cache != nil {
		errs = append(errs, e.cache.Close())
	}
	return errors.Join(errs...)
}

// Report prints the summary of failures (and the counts, with stats).
func (e *Stage) Report(stats bool) {
	s := e.Stats()
	if stats || e.log.Debug {
		e.log.Infof("stats: records=%d ips=%d cache_hits=%d dns_lookups=%d failures=%d", s.Records, s.IPs, s.CacheHits, s.Lookups, total(s.Errors))
	}
	if sum := s.Summary(); sum != "" {
		e.log.Warnf("%d lookups failed (%s); those records carry enrich_errors", total(s.Errors), report.Inert(sum))
		if n := s.Errors["rdns: timeout"]; n > 0 && !e.gaveUpDNS {
			if int64(n) < s.Lookups {
				e.log.Hintf("%s answered some queries and not others: a busy or rate-limiting resolver drops them; try fewer --workers or a longer --timeout", e.Enricher.Resolver())
			} else {
				e.log.Hintf("is the DNS server %s reachable? --dns names another, --timeout waits longer", e.Enricher.Resolver())
			}
		}
	}
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// DataDirs are where the geo databases are looked for by default, first
// found first: $LOGANOM_DATA, $XDG_DATA_HOME/loganom (~/.local/share/loganom),
// /usr/local/share/loganom, /usr/share/loganom. scripts/fetch-geodb writes
// to the first.
func DataDirs(getenv func(string) string) []string {
	var dirs []string
	if d := getenv("LOGANOM_DATA"); d != "" {
		dirs = append(dirs, d)
	}
	if d := getenv("XDG_DATA_HOME"); d != "" {
		dirs = append(dirs, filepath.Join(d, "loganom"))
	} else if home := getenv("HOME"); home != "" {
		dirs = append(dirs, filepath.Join(home, ".local", "share", "loganom"))
	}
	return append(dirs, "/usr/local/share/loganom", "/usr/share/loganom")
}

// defaultDatabases returns the *.mmdb and asn*.csv files of the first data
// directory that has any.
func defaultDatabases(getenv func(string) string) (mmdb, csv []string, dir string) {
	for _, d := range DataDirs(getenv) {
		m, _ := filepath.Glob(filepath.Join(d, "*.mmdb"))
		c, _ := filepath.Glob(filepath.Join(d, "asn*.csv"))
		if len(m)+len(c) > 0 {
			sort.Strings(m)
			sort.Strings(c)
			return m, c, d
		}
	}
	return nil, nil, ""
}

// Build makes the enrich stage from flags and config. A database or cache
// that cannot be opened is an error naming it.
//
// A bad value of --workers, --timeout or [ENRICH] workers, timeout or
// ipinfo_url is found before anything is opened or read, and is a
// usageError (see exitCode).
func (f *EnrichFlags) Build(cfg *config.Config, env cli.Env, log *cli.Logger) (*Stage, error) {
	const sec = "ENRICH"
	vals, err := f.values(cfg)
	if err != nil {
		return nil, err
	}
	out := &Stage{log: log}
	var opts enrich.Options

	token := env.Getenv("IPINFO_TOKEN")
	if t, ok := cfg.String("GENERAL", "ipinfo_token"); ok && t != "" {
		token = t
	}
	useIPinfo := token != "" && !f.NoIPinfo
	if v, set, err := cfg.Bool(sec, "ipinfo"); err != nil {
		return nil, err
	} else if set && !v {
		useIPinfo = false
	}

	geoip, csvs := f.GeoIP, f.ASNCSV
	if len(geoip) == 0 {
		geoip = cfg.List(sec, "geoip")
	}
	if len(csvs) == 0 {
		csvs = cfg.List(sec, "asn_csv")
	}
	if len(geoip)+len(csvs) == 0 {
		var dir string
		geoip, csvs, dir = defaultDatabases(env.Getenv)
		switch {
		case dir != "":
			log.Debugf("geo databases from %s: %s", dir, strings.Join(append(append([]string{}, geoip...), csvs...), ", "))
		case useIPinfo:
			log.Debugf("no geo databases: ipinfo.io is asked about every address")
		default:
			log.Warnf("no geo databases: country, city and AS are left out")
			log.Hintf("scripts/fetch-geodb downloads free ones; or name yours with --geoip or [ENRICH] geoip")
		}
	}
	set := &enrich.GeoSet{}
	for _, p := range geoip {
		db, err := enrich.OpenGeoDB(p)
		if err != nil {
			set.Close()
			return nil, err
		}
		v4 := ""
		if db.IPv4Only {
			v4 = ", IPv4 only"
		}
		log.Debugf("%s: %s, %s layout, built %s%s", p, db.Type, db.Layout(), db.Built.Format(time.DateOnly), v4)
		set.DBs = append(set.DBs, db)
	}
	if len(csvs) > 0 {
		r, err := enrich.LoadASNCSV(csvs...)
		if err != nil {
			set.Close()
			return nil, err
		}
		set.ASN = r
	}
	if len(set.DBs) > 0 || set.ASN != nil {
		opts.Geo, out.geo = set, set
	}

	if vals.rdns {
		r, err := enrich.NewResolver(vals.dns, vals.timeout)
		if err != nil {
			out.Close()
			return nil, fmt.Errorf("%w (hint: name one with --dns, or turn reverse DNS off with --no-rdns)", err)
		}
		opts.Resolver = r
	}
	opts.Workers = vals.workers

	if useIPinfo {
		opts.IPinfo = &enrich.IPinfo{Token: token, BaseURL: vals.ipinfoURL}
		log.Debugf("ipinfo.io: asked for what the local databases do not know")
	}

	if !f.NoCache && (opts.Resolver != nil || opts.IPinfo != nil) {
		path := f.Cache
		if path == "" {
			path, _ = cfg.String(sec, "cache")
		}
		explicit := path != ""
		if path == "" {
			p, err := enrich.DefaultCachePath()
			if err != nil {
				log.Warnf("no cache: %v", err)
			}
			path = p
		}
		ttl, _, err := cfg.Duration(sec, "ttl_rdns")
		if err != nil {
			out.Close()
			return nil, err
		}
		ttlGeo, _, err := cfg.Duration(sec, "ttl_geo")
		if err != nil {
			out.Close()
			return nil, err
		}
		if path != "" {
			// The cache only saves lookups: a run goes on without it, and
			// answers it could not store are a warning at the end.
			c, err := enrich.OpenCache(path, ttl)
			switch {
			case errors.Is(err, enrich.ErrCacheDamaged):
				log.Warnf("running without the cache: %v", err)
				log.Hintf("move %s aside (a new cache is made in its place), or say --no-cache", path)
			case err != nil && explicit:
				log.Warnf("running without the cache: %v", err)
				log.Hintf("check --cache or [ENRICH] cache; or say --no-cache")
			case err != nil:
				log.Warnf("running without a cache: %v", err)
				log.Hintf("name a writable one with --cache, or say --no-cache")
			default:
				c.TTLGeo = ttlGeo
				c.OnWriteError = func(err error) {
					log.Warnf("%v", err)
					log.Hintf("the records are complete; those answers are looked up again next time")
				}
				opts.Cache, out.cache = c, c
				log.Debugf("cache: %s", path)
			}
		}
	}
	if log.Debug {
		opts.OnAnswer = func(ip netip.Addr, a enrich.Answer) { log.Debugf("%s", inertAnswer(a).Describe(ip)) }
	}
	opts.OnGiveUp = func(gu *enrich.GaveUpError) {
		log.Warnf("%s", report.Inert(gu.Warning()))
		switch {
		case opts.Resolver != nil && gu == opts.Resolver.GaveUp():
			out.gaveUpDNS = true
			log.Hintf("is the DNS server %s reachable? --dns names another, --timeout waits longer, --no-rdns turns reverse DNS off", opts.Resolver.Server())
		default:
			log.Hintf("is ipinfo.io reachable from here? [ENRICH] ipinfo_url names a proxy; --no-ipinfo turns it off")
		}
	}
	out.Enricher = enrich.New(opts)
	return out, nil
}

// inertAnswer escapes the names in an answer (report.Inert: controls,
// bidi and zero-width characters) for the trace.
func inertAnswer(a enrich.Answer) enrich.Answer {
	a.RDNS.Name = report.Inert(a.RDNS.Name)
	a.Geo.Country, a.Geo.City, a.Geo.Org = report.Inert(a.Geo.Country), report.Inert(a.Geo.City), report.Inert(a.Geo.Org)
	errs := make([]string, len(a.Errors))
	for i, e := range a.Errors {
		errs[i] = report.Inert(e)
	}
	a.Errors = errs
	return a
}

// enrichValues are the settings Build checks before it opens anything.
type enrichValues struct {
	rdns      bool          // reverse DNS is on
	dns       string        // the DNS server; "": the default
	workers   int           // 0: the default
	timeout   time.Duration // 0: the default
	ipinfoURL string        // "": the default
}

// values reads --no-rdns, --dns, --workers, --timeout and [ENRICH] rdns,
// dns, workers, timeout and ipinfo_url (flags first) and checks them; a bad
// one is a usageError, but for a value of the file that is not of its type
// at all (workers = many), which is the file's error.
func (f *EnrichFlags) values(cfg *config.Config) (enrichValues, error) {
	const sec = "ENRICH"
	var v enrichValues
	v.rdns = !f.NoRDNS
	if on, set, err := cfg.Bool(sec, "rdns"); err != nil {
		return v, err
	} else if set && !on {
		v.rdns = false
	}
	if v.rdns {
		v.dns = f.DNS
		where := "--dns"
		if v.dns == "" {
			v.dns, _ = cfg.String(sec, "dns")
			where = fmt.Sprintf("%s: [%s] dns:", cfg.Path, sec)
		}
		if v.dns != "" {
			if _, err := netip.ParseAddrPort(v.dns); err != nil {
				if _, err2 := netip.ParseAddr(v.dns); err2 != nil {
					return v, cli.Usagef("%s %s: want an address and port, like 127.0.0.1:53", where, strconv.QuoteToASCII(v.dns))
				}
			}
		}
	}
	switch {
	case f.Workers != nil:
		if *f.Workers < 1 {
			return v, cli.Usagef("--workers %d: want at least 1 lookup in flight", *f.Workers)
		}
		v.workers = *f.Workers
	default:
		n, set, err := cfg.Int(sec, "workers")
		if err != nil {
			return v, err
		}
		if set && n < 1 {
			return v, cli.Usagef("%s: [%s] workers: %d: want at least 1 lookup in flight", cfg.Path, sec, n)
		}
		v.workers = n
	}
	switch {
	case f.Timeout != nil:
		if *f.Timeout <= 0 {
			return v, cli.Usagef("--timeout %s: want a time above zero, like 2s or 500ms", *f.Timeout)
		}
		v.timeout = *f.Timeout
	default:
		d, set, err := cfg.Duration(sec, "timeout")
		if err != nil {
			return v, err
		}
		if set && d <= 0 {
			return v, cli.Usagef("%s: [%s] timeout: %s: want a time above zero, like 2s or 500ms", cfg.Path, sec, d)
		}
		v.timeout = d
	}
	if u, ok := cfg.String(sec, "ipinfo_url"); ok && u != "" { // a proxy or mirror
		if err := enrich.CheckIPinfoURL(u); err != nil {
			return v, cli.Usagef("%s: [%s] ipinfo_url: %w", cfg.Path, sec, err)
		}
		v.ipinfoURL = u
	}
	return v, nil
}
