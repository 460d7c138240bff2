package enrichcmd

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/config"
	"github.com/loganom/loganom/pkg/enrich"
	"github.com/loganom/loganom/pkg/filter"
	"github.com/loganom/loganom/pkg/report"
)

// EnrichFlags are the flags of loganom-enrich; the wrapper takes them too.
// A flag overrides the config key of its ini tag (config.Fill); the keys
// with no flag are read from the config only.
type EnrichFlags struct {
	// LoginsOnly: enrich.Options.LoginsOnly (the wrapper; no flag).
	LoginsOnly bool `kong:"-"`
	// Preload: the cache is loaded at once, in the background
	// (enrich.SQLiteCache.Preload): a batch run, whose records come
	// from files (the wrapper without --follow; no flag).
	Preload bool `kong:"-"`
	// Confirm: enrich.Options.Confirm, the names to check forward. The
	// wrapper sets it from its filter (filter.Filter.NeedsConfirmation);
	// nil: the names that a [GENERAL] pattern_ip entry of the config
	// could match (filter.PatternsMayMatch), or every name without a
	// config file.
	Confirm    func(name string) bool `kong:"-"`
	ConfirmAll bool                   `name:"confirm-all" ini:"ENRICH.confirm_all" help:"Check every reverse name forward (rdns_verified on every record); by default, with a config, only the names a [GENERAL] pattern_ip entry could match are, the others are left unchecked (rdns without rdns_verified)."`
	GeoIP      []string               `name:"geoip" ini:"ENRICH.geoip" placeholder:"FILE" sep:"none" help:"A .mmdb database (GeoLite2 City/Country/ASN, DB-IP Lite, IPinfo Lite, ip-location-db); repeat for several. Default: the *.mmdb files of the data directory."`
	ASNCSV     []string               `name:"asn-csv" ini:"ENRICH.asn_csv" placeholder:"FILE" sep:"none" help:"AS ranges as CSV (start,end,asn,org), for when no ASN database is at hand; may be repeated."`
	DNS        string                 `name:"dns" ini:"ENRICH.dns" placeholder:"HOST:PORT" help:"DNS server for reverse lookups (default: the first of /etc/resolv.conf)."`
	NoRDNS     bool                   `name:"no-rdns" ini:"ENRICH.rdns,negate" help:"Do not look up reverse DNS names."`
	Cache      string                 `ini:"ENRICH.cache" placeholder:"FILE" help:"The cache database (default: loganom/cache.db in the user's cache directory)."`
	NoCache    bool                   `name:"no-cache" help:"Use no cache."`
	Workers    *int                   `ini:"ENRICH.workers" placeholder:"N" help:"DNS queries in flight at most (default: adapts from 400 up to 1000 with the resolver's answers; a number given is never exceeded; lower it for a resolver that limits clients)."`
	NoIPinfo   bool                   `name:"no-ipinfo" ini:"ENRICH.ipinfo,negate" help:"Do not ask ipinfo.io, even with a token ([GENERAL] ipinfo_token or IPINFO_TOKEN)."`
	Timeout    *time.Duration         `ini:"ENRICH.timeout" placeholder:"DURATION" help:"Time one DNS query may take (default 2s)."`

	TTLRDNS     time.Duration `kong:"-" ini:"ENRICH.ttl_rdns"`
	TTLGeo      time.Duration `kong:"-" ini:"ENRICH.ttl_geo"`
	IPinfoURL   string        `kong:"-" ini:"ENRICH.ipinfo_url"` // a proxy or mirror
	IPinfoToken string        `kong:"-" ini:"GENERAL.ipinfo_token"`
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
		e.log.Infof("stats: records=%d ips=%d cache_hits=%d dns_lookups=%d failures=%d unchecked=%d", s.Records, s.IPs, s.CacheHits, s.Lookups, total(s.Errors), s.Unchecked)
	}
	if sum := s.Summary(); sum != "" {
		e.log.Warnf("%d lookups failed (%s); those records carry enrich_errors", total(s.Errors), report.Escape(sum))
		// Unanswered: timed out, or refused (nothing listens on the
		// server's port). Only a server that answered some of its
		// queries is a busy one; one that answered none may be down.
		timeouts := s.Errors["rdns: timeout"]
		if n := timeouts + s.Errors["rdns: connection refused"]; n > 0 && !e.gaveUpDNS {
			if timeouts > 0 && int64(n) < s.Lookups {
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

// Build makes the enrich stage from the flags, filled from the config
// (config.Fill). A database or cache that cannot be opened is an error
// naming it; what was opened before it is closed.
//
// A bad value of --workers, --timeout, --dns or their [ENRICH] keys, or of
// [ENRICH] ipinfo_url, is found before anything is opened or read, and is
// a cli.UsageError.
func (f *EnrichFlags) Build(cfg *config.Config, env cli.Env, log *cli.Logger) (_ *Stage, err error) {
	if err := f.check(cfg); err != nil {
		return nil, err
	}
	st := &Stage{log: log}
	defer func() {
		if err != nil {
			st.Close()
		}
	}()
	// MarkNoGeo: without databases or a token, each record from a public
	// address says so in enrich_errors, and the report gives no all-clear
	opts := enrich.Options{LoginsOnly: f.LoginsOnly, MarkNoGeo: true}
	token := cmp.Or(f.IPinfoToken, env.Getenv("IPINFO_TOKEN"))
	if token != "" && !f.NoIPinfo {
		opts.IPinfo = &enrich.IPinfo{Token: token, BaseURL: f.IPinfoURL}
	}
	if st.geo, err = f.openGeo(cfg, env, log, opts.IPinfo != nil); err != nil {
		return nil, err
	}
	if st.geo != nil {
		opts.Geo = st.geo
	}
	if !f.NoRDNS {
		if opts.Resolver, err = enrich.NewResolver(f.DNS, durationOr0(f.Timeout)); err != nil {
			return nil, fmt.Errorf("%w (hint: name one with --dns, or turn reverse DNS off with --no-rdns)", err)
		}
	}
	if f.Workers != nil {
		opts.Workers = *f.Workers
	}
	opts.Confirm = f.confirm(cfg)
	if opts.IPinfo != nil {
		log.Debugf("ipinfo.io: asked for what the local databases do not know")
	}
	if !f.NoCache && (opts.Resolver != nil || opts.IPinfo != nil) {
		if st.cache = f.openCache(log); st.cache != nil {
			opts.Cache = st.cache
			if f.Preload {
				st.cache.Preload()
			}
		}
	}
	if log.Debug {
		opts.OnAnswer = func(ip netip.Addr, a enrich.Answer) { log.Debugf("%s", inertAnswer(a).Describe(ip)) }
	}
	opts.OnGiveUp = func(gu *enrich.GaveUpError) {
		log.Warnf("%s", report.Escape(gu.Warning()))
		switch {
		case opts.Resolver != nil && gu == opts.Resolver.GaveUp():
			st.gaveUpDNS = true
			log.Hintf("is the DNS server %s reachable? --dns names another, --timeout waits longer, --no-rdns turns reverse DNS off", opts.Resolver.Server())
		default:
			log.Hintf("is ipinfo.io reachable from here? [ENRICH] ipinfo_url names a proxy; --no-ipinfo turns it off")
		}
	}
	st.Enricher = enrich.New(opts)
	return st, nil
}

// confirm is what Options.Confirm is: nil (check every name) with
// --confirm-all or without a config file (loganom-filter may have one, with
// patterns this run does not know), else the wrapper's, else what the
// config's pattern_ip entries could match, on whole labels or as
// substrings: the same entries that loganom-filter reads from the same
// file, whatever its flags.
func (f *EnrichFlags) confirm(cfg *config.Config) func(string) bool {
	switch {
	case f.ConfirmAll:
		return nil
	case f.Confirm != nil:
		return f.Confirm
	case cfg.Path == "":
		return nil
	}
	return filter.PatternsMayMatch(cfg.List("GENERAL", "pattern_ip"))
}

func durationOr0(d *time.Duration) time.Duration {
	if d == nil {
		return 0
	}
	return *d
}

// openGeo opens the geo databases: --geoip and --asn-csv, else the
// default ones of the data directory. It returns nil when there are none.
// A database that cannot be opened is an error naming the file and, in a
// hint, where it was named (dbError).
func (f *EnrichFlags) openGeo(cfg *config.Config, env cli.Env, log *cli.Logger, ipinfo bool) (*enrich.GeoSet, error) {
	geoip, csvs := f.GeoIP, f.ASNCSV
	var dir string // the data directory they come from, if they do
	named := func(key string) string {
		if dir != "" {
			return "found in the data directory " + dir + ": replace it (scripts/fetch-geodb) or move it aside"
		}
		return "named by " + cfg.Origin("ENRICH", key, "--"+strings.ReplaceAll(key, "_", "-"))
	}
	if len(geoip)+len(csvs) == 0 {
		geoip, csvs, dir = defaultDatabases(env.Getenv)
		switch {
		case dir != "":
			log.Debugf("geo databases from %s: %s", dir, strings.Join(append(append([]string{}, geoip...), csvs...), ", "))
		case ipinfo:
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
			return nil, dbError("geoip database", p, err, named("geoip"))
		}
		v4 := ""
		if db.IPv4Only {
			v4 = ", IPv4 only"
		}
		log.Debugf("%s: %s, %s layout, built %s%s", p, db.Type, db.Layout(), db.Built.Format(time.DateOnly), v4)
		set.DBs = append(set.DBs, db)
	}
	if len(csvs) > 0 {
		// compiled once into a table kept next to the CSV (or in the
		// user's cache directory), memory-mapped by the next runs
		r, srcs, err := enrich.OpenASNCSV(csvs, enrich.ASNOptions{})
		if err != nil {
			set.Close()
			var pe *fs.PathError
			if errors.As(err, &pe) && slices.Contains(csvs, pe.Path) { // the CSV itself, not its compiled table
				return nil, dbError("asn_csv file", pe.Path, err, named("asn_csv"))
			}
			return nil, err // names the file and line
		}
		set.ASN = r
		for _, src := range srcs {
			log.Debugf("%s", src)
			if src.NotKept != nil {
				log.Warnf("%s: the compiled AS table could not be written: %v", src.CSV, src.NotKept)
				log.Hintf("every run reads the whole CSV; make its directory or the user's cache directory writable")
			}
		}
	}
	if len(set.DBs) == 0 && set.ASN == nil {
		return nil, nil
	}
	return set, nil
}

// dbError is the error of a database (what) at path that could not be
// opened: "geoip database PATH: no such file or directory (hint: …)",
// the file named once, and err still unwrapped by errors.Is and As.
func dbError(what, path string, err error, hint string) error {
	msg := err.Error()
	var pe *fs.PathError
	switch {
	case errors.As(err, &pe) && pe.Path == path:
		msg = path + ": " + pe.Err.Error() // not "open PATH: …"
	case !strings.HasPrefix(msg, path):
		msg = path + ": " + msg
	}
	return &openError{msg: what + " " + msg + " (hint: " + hint + ")", err: err}
}

type openError struct {
	msg string
	err error
}

func (e *openError) Error() string { return e.msg }
func (e *openError) Unwrap() error { return e.err }

// openCache opens the cache: --cache, else the default one. The cache
// only saves lookups: a run goes on without it (nil), with a warning, and
// answers it could not store are a warning at the end.
func (f *EnrichFlags) openCache(log *cli.Logger) *enrich.SQLiteCache {
	path := f.Cache
	explicit := path != ""
	if path == "" {
		p, err := enrich.DefaultCachePath()
		if err != nil {
			log.Warnf("no cache: %v", err)
		}
		path = p
	}
	if path == "" {
		return nil
	}
	c, err := enrich.OpenCache(path, f.TTLRDNS)
	switch {
	case errors.Is(err, enrich.ErrCacheDamaged):
		log.Warnf("running without the cache: %v", err)
		log.Hintf("move %s aside (a new cache is made in its place), or say --no-cache", path)
		return nil
	case err != nil && explicit:
		log.Warnf("running without the cache: %v", err)
		log.Hintf("check --cache or [ENRICH] cache; or say --no-cache")
		return nil
	case err != nil:
		log.Warnf("running without a cache: %v", err)
		log.Hintf("name a writable one with --cache, or say --no-cache")
		return nil
	}
	c.TTLGeo = f.TTLGeo
	c.OnWriteError = func(err error) {
		log.Warnf("%v", err)
		log.Hintf("the records are complete; those answers are looked up again next time")
	}
	c.OnReadFault = func(err error) {
		log.Warnf("%v", err)
		log.Hintf("the records are complete; check the disk (dmesg) and that nothing else writes %s; a damaged cache can be deleted (%s and its -wal and -shm), and is made again", path, path)
	}
	c.OnReadAgain = func(msg string) { log.Infof("%s", msg) }
	log.Debugf("cache: %s", path)
	return c
}

// inertAnswer escapes the names in an answer (report.Escape: controls,
// bidi and zero-width characters) for the trace.
func inertAnswer(a enrich.Answer) enrich.Answer {
	a.RDNS.Name = report.Escape(a.RDNS.Name)
	a.Geo.Country, a.Geo.City, a.Geo.Org = report.Escape(a.Geo.Country), report.Escape(a.Geo.City), report.Escape(a.Geo.Org)
	errs := make([]string, len(a.Errors))
	for i, e := range a.Errors {
		errs[i] = report.Escape(e)
	}
	a.Errors = errs
	return a
}

// check checks --dns, --workers, --timeout and [ENRICH] ipinfo_url,
// whether they were given as flags or filled from the config; a bad one is
// a cli.UsageError that names where it came from.
func (f *EnrichFlags) check(cfg *config.Config) error {
	// where names the flag, or the key: "FILE: [ENRICH] workers:".
	where := func(key, flag string) string {
		if cfg.Filled("ENRICH", key) {
			return cfg.Where("ENRICH", key) + ":"
		}
		return flag
	}
	if !f.NoRDNS && f.DNS != "" {
		if _, err := netip.ParseAddrPort(f.DNS); err != nil {
			if _, err2 := netip.ParseAddr(f.DNS); err2 != nil {
				return cli.Usagef("%s %s: want an address and port, like 127.0.0.1:53", where("dns", "--dns"), strconv.QuoteToASCII(f.DNS))
			}
		}
	}
	if f.Workers != nil && *f.Workers < 1 {
		return cli.Usagef("%s %d: want at least 1 lookup in flight", where("workers", "--workers"), *f.Workers)
	}
	if f.Timeout != nil && *f.Timeout <= 0 {
		return cli.Usagef("%s %s: want a time above zero, like 2s or 500ms", where("timeout", "--timeout"), *f.Timeout)
	}
	if f.IPinfoURL != "" {
		if err := enrich.CheckIPinfoURL(f.IPinfoURL); err != nil {
			return cli.Usagef("%s: %w", cfg.Where("ENRICH", "ipinfo_url"), err)
		}
	}
	return nil
}
