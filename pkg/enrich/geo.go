package enrich

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/oschwald/maxminddb-golang/v2"
)

// Geo is what the local databases say of one address.
type Geo struct {
	Country    string // ISO 3166-1 alpha-2
	City       string
	HasLoc     bool
	Lat, Lon   float64
	AccuracyKM int
	ASN        uint32
	Org        string
}

// merge fills the fields of g that are still empty from o: the first
// database that knows a thing wins.
func (g *Geo) merge(o Geo) {
	if g.Country == "" {
		g.Country = o.Country
	}
	if g.City == "" {
		g.City = o.City
	}
	if !g.HasLoc && o.HasLoc {
		g.HasLoc, g.Lat, g.Lon, g.AccuracyKM = true, o.Lat, o.Lon, o.AccuracyKM
	}
	if g.ASN == 0 && o.ASN != 0 {
		g.ASN, g.Org = o.ASN, o.Org
	}
}

// layout is the shape of a database's records.
type layout int

const (
	// nested: MaxMind's GeoLite2/GeoIP2 City, Country and ASN, and DB-IP
	// Lite: country.iso_code, city.names.en, location.latitude …,
	// autonomous_system_number, autonomous_system_organization.
	nested layout = iota + 1
	// flat: IPinfo Lite (country_code, asn "AS15169", as_name) and the
	// ip-location-db packages (country_code, city, latitude, longitude).
	flat
)

func (l layout) String() string {
	if l == nested {
		return "MaxMind/DB-IP"
	}
	return "IPinfo Lite/ip-location-db"
}

// GeoDB is one MaxMind-format database file.
type GeoDB struct {
	Path  string
	Type  string    // the database_type of its metadata
	Built time.Time // the build_epoch of its metadata
	// IPv4Only is true for a database of IPv4 networks alone (ip_version 4
	// in its metadata), as the free databases split by family are: it is
	// not asked about IPv6 addresses, which are no error.
	IPv4Only bool
	layout   layout
	r        *maxminddb.Reader
}

// OpenGeoDB opens a .mmdb file and recognises its layout from its
// records. A file that is missing, corrupt or of an unknown layout is an
// error that names it.
func OpenGeoDB(path string) (*GeoDB, error) {
	r, err := maxminddb.Open(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return nil, err // names the file already
		}
		return nil, fmt.Errorf("%s: not a MaxMind DB file: %w", path, err)
	}
	db := &GeoDB{Path: path, r: r, Type: r.Metadata.DatabaseType, Built: time.Unix(int64(r.Metadata.BuildEpoch), 0).UTC(),
		IPv4Only: r.Metadata.IPVersion == 4}
	if db.layout, err = detect(r); err != nil {
		r.Close()
		return nil, fmt.Errorf("%s (%s): %w", path, db.Type, err)
	}
	return db, nil
}

// Close releases the file.
func (db *GeoDB) Close() error { return db.r.Close() }

// Layout names the layout recognised.
func (db *GeoDB) Layout() string { return db.layout.String() }

// detect looks at the first records of the database for the fields of a
// known layout.
func detect(r *maxminddb.Reader) (layout, error) {
	n := 0
	for res := range r.Networks() {
		var m map[string]any
		if err := res.Decode(&m); err != nil {
			return 0, fmt.Errorf("reading a record: %w", err)
		}
		if l := layoutOf(m); l != 0 {
			return l, nil
		}
		if n++; n == 256 {
			break
		}
	}
	return 0, errors.New("no country, city or AS fields that this tool knows " +
		"(MaxMind/DB-IP: country.iso_code, autonomous_system_number; IPinfo Lite and ip-location-db: country_code, asn)")
}

func layoutOf(m map[string]any) layout {
	for _, k := range []string{"country", "city", "location", "registered_country"} {
		if _, ok := m[k].(map[string]any); ok {
			return nested
		}
	}
	if _, ok := m["autonomous_system_number"]; ok {
		return nested
	}
	for _, k := range []string{"country_code", "asn", "as_name"} {
		if _, ok := m[k]; ok {
			return flat
		}
	}
	return 0
}

type nestedRecord struct {
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
	RegisteredCountry struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"registered_country"`
	City struct {
		Names map[string]string `maxminddb:"names"`
	} `maxminddb:"city"`
	Location struct {
		Latitude       *float64 `maxminddb:"latitude"`
		Longitude      *float64 `maxminddb:"longitude"`
		AccuracyRadius uint16   `maxminddb:"accuracy_radius"`
	} `maxminddb:"location"`
	ASN uint32 `maxminddb:"autonomous_system_number"`
	Org string `maxminddb:"autonomous_system_organization"`
}

type flatRecord struct {
	CountryCode string `maxminddb:"country_code"`
	City        string `maxminddb:"city"`
	Latitude    any    `maxminddb:"latitude"`
	Longitude   any    `maxminddb:"longitude"`
	ASN         any    `maxminddb:"asn"` // "AS15169" in IPinfo Lite, a number elsewhere
	ASName      string `maxminddb:"as_name"`
}

// Lookup returns what the database says of ip; found is false when it has
// no record for it, as for an IPv6 address in an IPv4-only database.
func (db *GeoDB) Lookup(ip netip.Addr) (g Geo, found bool, err error) {
	ip = ip.Unmap()
	if db.IPv4Only && !ip.Is4() {
		return g, false, nil
	}
	res := db.r.Lookup(ip)
	if err := res.Err(); err != nil {
		return g, false, err
	}
	if !res.Found() {
		return g, false, nil
	}
	switch db.layout {
	case nested:
		var rec nestedRecord
		if err := res.Decode(&rec); err != nil {
			return g, false, err
		}
		g.Country = rec.Country.ISOCode
		if g.Country == "" {
			g.Country = rec.RegisteredCountry.ISOCode
		}
		g.City = name(rec.City.Names)
		if rec.Location.Latitude != nil && rec.Location.Longitude != nil {
			g.HasLoc, g.Lat, g.Lon = true, *rec.Location.Latitude, *rec.Location.Longitude
			g.AccuracyKM = int(rec.Location.AccuracyRadius)
		}
		g.ASN, g.Org = rec.ASN, rec.Org
	default:
		var rec flatRecord
		if err := res.Decode(&rec); err != nil {
			return g, false, err
		}
		g.Country, g.City = strings.ToUpper(rec.CountryCode), rec.City
		lat, ok1 := number(rec.Latitude)
		lon, ok2 := number(rec.Longitude)
		if ok1 && ok2 {
			g.HasLoc, g.Lat, g.Lon = true, lat, lon
		}
		if asn, ok := asNumber(rec.ASN); ok {
			g.ASN, g.Org = asn, rec.ASName
		}
	}
	return g, true, nil
}

// name picks the English name, or else the first one in a stable order.
func name(names map[string]string) string {
	if n, ok := names["en"]; ok {
		return n
	}
	keys := make([]string, 0, len(names))
	for k := range names {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if len(keys) > 0 {
		return names[keys[0]]
	}
	return ""
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil
	}
	return 0, false
}

// asNumber reads an AS number given as a number or as "AS15169".
func asNumber(v any) (uint32, bool) {
	switch x := v.(type) {
	case string:
		x = strings.TrimPrefix(strings.ToUpper(x), "AS")
		n, err := strconv.ParseUint(x, 10, 32)
		return uint32(n), err == nil && n > 0
	case uint64:
		return uint32(x), x > 0 && x < 1<<32
	case uint32:
		return x, x > 0
	case uint16:
		return uint32(x), x > 0
	case int:
		return uint32(x), x > 0 && uint64(x) < 1<<32 // int is 32 bits on 386
	}
	return 0, false
}

// ASNRanges is an AS database from CSV rows "start,end,asn,org", as the
// ip-location-db project publishes (IPv4 and IPv6, in one file or
// several), read through compiled tables (OpenASNCSV) or into memory
// (LoadASNCSV): the same tables, searched alike.
type ASNRanges struct {
	ts []*asnTable
}

// MaxCSVLine is the longest CSV row accepted.
const MaxCSVLine = 4096

// LoadASNCSV reads AS ranges from CSV files into memory, writing nothing.
// A row that does not parse is an error naming the file and line. Where
// ranges overlap, an address belongs to the narrowest range of its file
// that holds it; of several files, the first one that holds it answers.
func LoadASNCSV(paths ...string) (*ASNRanges, error) {
	a := &ASNRanges{}
	for _, path := range paths {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		data, _, err := compile(f, path, fingerprint{}, time.Time{})
		f.Close()
		if err != nil {
			return nil, err
		}
		t, err := tableFromBytes(data, false)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		a.ts = append(a.ts, t)
	}
	return a, nil
}

// parseASNCSV calls fn with each row of an AS CSV; a first row that is not
// a range is a header. A row that does not parse is an error naming the
// file and line.
func parseASNCSV(r io.Reader, path string, fn func(start, end netip.Addr, asn uint32, org string)) error {
	br := bufio.NewReaderSize(r, 64<<10)
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	for {
		row, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			return fmt.Errorf("%s:%d: %w", path, line, err)
		}
		if len(row) < 3 {
			return fmt.Errorf("%s:%d: want start,end,asn[,org], got %d fields", path, line, len(row))
		}
		start, err1 := netip.ParseAddr(strings.TrimSpace(row[0]))
		end, err2 := netip.ParseAddr(strings.TrimSpace(row[1]))
		if err1 != nil || err2 != nil {
			if line == 1 {
				continue // a header
			}
			return fmt.Errorf("%s:%d: bad address range %q-%q", path, line, row[0], row[1])
		}
		n, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimSpace(row[2]), "AS"), 10, 32)
		if err != nil {
			return fmt.Errorf("%s:%d: bad AS number %q", path, line, row[2])
		}
		start, end = start.Unmap(), end.Unmap()
		if start.Is4() != end.Is4() || end.Less(start) {
			return fmt.Errorf("%s:%d: bad address range %s-%s", path, line, start, end)
		}
		org := ""
		if len(row) > 3 {
			org = strings.TrimSpace(row[3])
		}
		fn(start, end, uint32(n), org)
	}
}

// Len is the number of CSV rows read.
func (a *ASNRanges) Len() int {
	n := 0
	for _, t := range a.ts {
		n += int(t.rows)
	}
	return n
}

// Lookup returns the AS of ip.
func (a *ASNRanges) Lookup(ip netip.Addr) (asn uint32, org string, found bool) {
	ip = ip.Unmap()
	if !ip.IsValid() {
		return 0, "", false
	}
	for _, t := range a.ts {
		if asn, org, found = t.lookup(ip); found {
			return asn, org, true
		}
	}
	return 0, "", false
}

// Close releases the mapped tables; Lookup must not be called after.
func (a *ASNRanges) Close() error {
	if a == nil {
		return nil
	}
	var errs []error
	for _, t := range a.ts {
		errs = append(errs, t.close())
	}
	a.ts = nil
	return errors.Join(errs...)
}

// GeoSet asks several databases in turn: for each field, the first one
// that knows it wins (a city database, then an ASN database, then CSV).
type GeoSet struct {
	DBs []*GeoDB
	ASN *ASNRanges
}

// Lookup merges what the databases say of ip.
func (s *GeoSet) Lookup(ip netip.Addr) (Geo, error) {
	var g Geo
	var errs []error
	for _, db := range s.DBs {
		o, found, err := db.Lookup(ip)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", db.Path, err))
			continue
		}
		if found {
			g.merge(o)
		}
	}
	if g.ASN == 0 && s.ASN != nil {
		if asn, org, ok := s.ASN.Lookup(ip); ok {
			g.ASN, g.Org = asn, org
		}
	}
	return g, errors.Join(errs...)
}

// Close closes every database.
func (s *GeoSet) Close() error {
	var errs []error
	for _, db := range s.DBs {
		errs = append(errs, db.Close())
	}
	errs = append(errs, s.ASN.Close())
	return errors.Join(errs...)
}
