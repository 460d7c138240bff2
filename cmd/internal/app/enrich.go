package app

import (
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/pkg/enrich"
)

// EnrichFlags are the flags of loganom-enrich; the wrapper takes them too.
// Each overrides the [ENRICH] key of the same name in the config file.
type EnrichFlags struct {
	GeoIP    []string      `name:"geoip" placeholder:"FILE" sep:"none" help:"A .mmdb database (GeoLite2 City/Country/ASN, DB-IP Lite, IPinfo Lite, ip-location-db); repeat for several. Default: the *.mmdb files of the data directory."`
	ASNCSV   []string      `name:"asn-csv" placeholder:"FILE" sep:"none" help:"AS ranges as CSV (start,end,asn,org), for when no ASN database is at hand; may be repeated."`
	DNS      string        `name:"dns" placeholder:"HOST:PORT" help:"DNS server for reverse lookups (default: the first of /etc/resolv.conf)."`
	NoRDNS   bool          `name:"no-rdns" help:"Do not look up reverse DNS names."`
	Cache    string        `placeholder:"FILE" help:"The cache database (default: loganom/cache.db in the user's cache directory)."`
	NoCache  bool          `name:"no-cache" help:"Use no cache."`
	Workers  int           `placeholder:"N" help:"Reverse lookups in flight at once (default 400; lower it for a resolver that limits clients)."`
	NoIPinfo bool          `name:"no-ipinfo" help:"Do not ask ipinfo.io, even with a token ([GENERAL] ipinfo_token or IPINFO_TOKEN)."`
	Timeout  time.Duration `placeholder:"DURATION" help:"Time one DNS query may take (default 2s)."`
}

// Enricher is a configured enrich stage and what it holds open.
type Enricher struct {
	*enrich.Enricher
	geo    *enrich.GeoSet
	cache  *enrich.SQLiteCache
	log    *cli.Logger
	closed bool
}

// Close releases the databases and commits the cache; once.
func (e *Enricher) Close() error {
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
func (e *Enricher) Report(stats bool) {
	s := e.Stats()
	if stats || e.log.Debug {
		e.log.Infof("stats: records=%d ips=%d cache_hits=%d dns_lookups=%d failures=%d", s.Records, s.IPs, s.CacheHits, s.Lookups, total(s.Errors))
	}
	if sum := s.Summary(); sum != "" {
		e.log.Warnf("%d lookups failed (%s); those records carry enrich_errors", total(s.Errors), sum)
		if n := s.Errors["rdns: timeout"]; n > 0 {
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
func (f *EnrichFlags) Build(cfg *Config, env cli.Env, log *cli.Logger) (*Enricher, error) {
	const sec = "ENRICH"
	out := &Enricher{log: log}
	var opts enrich.Options

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
		if dir != "" {
			log.Debugf("geo databases from %s: %s", dir, strings.Join(append(append([]string{}, geoip...), csvs...), ", "))
		} else {
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
		log.Debugf("%s: %s, %s layout, built %s", p, db.Type, db.Layout(), db.Built.Format(time.DateOnly))
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

	rdns := !f.NoRDNS
	if v, set, err := cfg.Bool(sec, "rdns"); err != nil {
		out.Close()
		return nil, err
	} else if set && !v {
		rdns = false
	}
	timeout := f.Timeout
	if timeout == 0 {
		d, _, err := cfg.Duration(sec, "timeout")
		if err != nil {
			out.Close()
			return nil, err
		}
		timeout = d
	}
	if rdns {
		server := f.DNS
		if server == "" {
			server, _ = cfg.String(sec, "dns")
		}
		if server != "" {
			if _, err := netip.ParseAddrPort(server); err != nil {
				if _, err2 := netip.ParseAddr(server); err2 != nil {
					out.Close()
					return nil, fmt.Errorf("--dns %q: want an address and port, like 127.0.0.1:53", server)
				}
			}
		}
		r, err := enrich.NewResolver(server, timeout)
		if err != nil {
			out.Close()
			return nil, fmt.Errorf("%w (hint: name one with --dns, or turn reverse DNS off with --no-rdns)", err)
		}
		opts.Resolver = r
	}
	workers := f.Workers
	if workers == 0 {
		n, _, err := cfg.Int(sec, "workers")
		if err != nil {
			out.Close()
			return nil, err
		}
		workers = n
	}
	if workers < 0 {
		out.Close()
		return nil, fmt.Errorf("--workers %d: must be positive", workers)
	}
	opts.Workers = workers

	token := env.Getenv("IPINFO_TOKEN")
	if t, ok := cfg.String("GENERAL", "ipinfo_token"); ok && t != "" {
		token = t
	}
	useIPinfo := token != "" && !f.NoIPinfo
	if v, set, err := cfg.Bool(sec, "ipinfo"); err != nil {
		out.Close()
		return nil, err
	} else if set && !v {
		useIPinfo = false
	}
	if useIPinfo {
		u, _ := cfg.String(sec, "ipinfo_url") // a proxy or mirror; https only
		opts.IPinfo = &enrich.IPinfo{Token: token, BaseURL: u}
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
		opts.OnAnswer = func(ip netip.Addr, a enrich.Answer) { log.Debugf("%s", a.Describe(ip)) }
	}
	out.Enricher = enrich.New(opts)
	return out, nil
}
