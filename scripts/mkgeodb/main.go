// Command mkgeodb writes the small example geo databases bundled in
// testdata/geo, for the README's demo and the tests: a city database in
// the GeoLite2-City layout, an AS database in the GeoLite2-ASN layout and
// the same AS data as ip-location-db CSV. They cover the client addresses
// of the bundled logs with plausible, illustrative data: they are not a
// real geolocation database.
//
//	go run ./scripts/mkgeodb testdata/geo
package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

type place struct {
	cidr, country, city string
	lat, lon            float64
	asn                 uint32
	org                 string
}

var places = []place{
	{"187.45.0.0/16", "BR", "São Paulo", -23.5475, -46.6361, 26599, "TELEFONICA BRASIL S.A"},
	{"177.66.160.0/19", "BR", "Campinas", -22.9056, -47.0608, 28573, "Claro NXT Telecomunicacoes Ltda"},
	{"2804:14c::/32", "BR", "São Paulo", -23.5475, -46.6361, 28573, "Claro NXT Telecomunicacoes Ltda"},
	{"209.85.128.0/17", "US", "Mountain View", 37.4043, -122.0748, 15169, "GOOGLE"},
	{"92.36.0.0/16", "BA", "Sarajevo", 43.8486, 18.3564, 9146, "BH Telecom d.d. Sarajevo"},
	{"176.63.0.0/16", "HU", "Budapest", 47.4984, 19.0404, 6830, "Liberty Global B.V."},
	{"195.242.176.0/21", "PL", "Warsaw", 52.2298, 21.0118, 50481, "Fibee Sp. z o.o."},
	{"188.76.0.0/16", "ES", "Madrid", 40.4165, -3.7026, 12479, "Orange Espagne SA"},
	{"87.116.176.0/20", "RS", "Belgrade", 44.8040, 20.4651, 31042, "Serbia BroadBand-Srpske Kablovske mreze d.o.o."},
	{"188.69.192.0/18", "LT", "Vilnius", 54.6892, 25.2798, 15440, "UAB Baltnetos komunikacijos"},
	{"52.125.128.0/18", "IE", "Dublin", 53.3331, -6.2489, 8075, "MICROSOFT-CORP-MSN-AS-BLOCK"},
	{"45.227.254.0/24", "NL", "Amsterdam", 52.3740, 4.8897, 209588, "Flyservers S.A."},
	{"80.94.95.0/24", "RO", "Bucharest", 44.4323, 26.1063, 204428, "SS-Net"},
	{"118.69.0.0/16", "VN", "Ho Chi Minh City", 10.8230, 106.6296, 18403, "FPT Telecom Company"},
	{"41.203.64.0/18", "NG", "Lagos", 6.4541, 3.3947, 37148, "Globacom Limited"},
	{"81.2.69.0/24", "GB", "London", 51.5142, -0.0931, 20712, "Andrews & Arnold Ltd"},
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: mkgeodb DIR")
		os.Exit(2)
	}
	dir := os.Args[1]
	sort.Slice(places, func(i, j int) bool { return places[i].cidr < places[j].cidr })
	city := tree("GeoLite2-City")
	asn := tree("GeoLite2-ASN")
	var csvText string
	for _, p := range places {
		_, n, err := net.ParseCIDR(p.cidr)
		check(err)
		check(city.Insert(n, mmdbtype.Map{
			"country":  mmdbtype.Map{"iso_code": mmdbtype.String(p.country)},
			"city":     mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String(p.city)}},
			"location": mmdbtype.Map{"latitude": mmdbtype.Float64(p.lat), "longitude": mmdbtype.Float64(p.lon), "accuracy_radius": mmdbtype.Uint16(50)},
		}))
		check(asn.Insert(n, mmdbtype.Map{
			"autonomous_system_number":       mmdbtype.Uint32(p.asn),
			"autonomous_system_organization": mmdbtype.String(p.org),
		}))
		first, last := bounds(n)
		csvText += fmt.Sprintf("%s,%s,%d,%q\n", first, last, p.asn, p.org)
	}
	write(filepath.Join(dir, "example-city.mmdb"), city)
	write(filepath.Join(dir, "example-asn.mmdb"), asn)
	check(os.WriteFile(filepath.Join(dir, "example-asn.csv"), []byte(csvText), 0o644))
}

func tree(dbType string) *mmdbwriter.Tree {
	t, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType: dbType, RecordSize: 24, IPVersion: 6, BuildEpoch: 1764201600, // 2025-11-27, fixed: same bytes every run
		Description: map[string]string{"en": "loganom example data, not a real database"},
	})
	check(err)
	return t
}

func bounds(n *net.IPNet) (net.IP, net.IP) {
	first := n.IP.Mask(n.Mask)
	last := make(net.IP, len(first))
	for i := range first {
		last[i] = first[i] | ^n.Mask[i]
	}
	return first, last
}

func write(path string, t *mmdbwriter.Tree) {
	f, err := os.Create(path)
	check(err)
	_, err = t.WriteTo(f)
	check(err)
	check(f.Close())
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkgeodb: error:", err)
		os.Exit(1)
	}
}
