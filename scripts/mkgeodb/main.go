// Command mkgeodb writes the small example geo databases bundled in
// testdata/geo, for the README's demo and the tests: a city database in
// the GeoLite2-City layout, an AS database in the GeoLite2-ASN layout and
// the same AS data as ip-location-db CSV. They cover the client addresses
// of the bundled logs with plausible, illustrative data, and the networks
// of the scenario suite (testdata/scenarios) with real data, as GeoLite2
// and DB-IP had it: they are not a geolocation database to use.
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
	radius              uint16 // location.accuracy_radius, km
}

var places = []place{
	{"187.45.0.0/16", "BR", "São Paulo", -23.5475, -46.6361, 26599, "TELEFONICA BRASIL S.A", 50},
	{"177.66.160.0/19", "BR", "Campinas", -22.9056, -47.0608, 28573, "Claro NXT Telecomunicacoes Ltda", 50},
	{"2804:14c::/32", "BR", "São Paulo", -23.5475, -46.6361, 28573, "Claro NXT Telecomunicacoes Ltda", 50},
	{"209.85.128.0/17", "US", "Mountain View", 37.4043, -122.0748, 15169, "GOOGLE", 50},
	{"92.36.0.0/16", "BA", "Sarajevo", 43.8486, 18.3564, 9146, "BH Telecom d.d. Sarajevo", 50},
	{"176.63.0.0/16", "HU", "Budapest", 47.4984, 19.0404, 6830, "Liberty Global B.V.", 50},
	{"195.242.176.0/21", "PL", "Warsaw", 52.2298, 21.0118, 50481, "Fibee Sp. z o.o.", 50},
	{"188.76.0.0/16", "ES", "Madrid", 40.4165, -3.7026, 12479, "Orange Espagne SA", 50},
	{"87.116.176.0/20", "RS", "Belgrade", 44.8040, 20.4651, 31042, "Serbia BroadBand-Srpske Kablovske mreze d.o.o.", 50},
	{"188.69.192.0/18", "LT", "Vilnius", 54.6892, 25.2798, 15440, "UAB Baltnetos komunikacijos", 50},
	{"52.125.128.0/18", "IE", "Dublin", 53.3331, -6.2489, 8075, "MICROSOFT-CORP-MSN-AS-BLOCK", 50},
	{"45.227.254.0/24", "NL", "Amsterdam", 52.3740, 4.8897, 209588, "Flyservers S.A.", 50},
	{"80.94.95.0/24", "RO", "Bucharest", 44.4323, 26.1063, 204428, "SS-Net", 50},
	{"118.69.0.0/16", "VN", "Ho Chi Minh City", 10.8230, 106.6296, 18403, "FPT Telecom Company", 50},
	{"41.203.64.0/18", "NG", "Lagos", 6.4541, 3.3947, 37148, "Globacom Limited", 50},
	{"81.2.69.0/24", "GB", "London", 51.5142, -0.0931, 20712, "Andrews & Arnold Ltd", 50},
	// The scenario suite (testdata/scenarios): real networks, as GeoLite2 City
	// (the network, its country, city, coordinates and accuracy radius) and
	// DB-IP's AS data (number and organisation, as spelled there) described
	// them in 2026. Networks located only to the country sit at its centre,
	// with no city and a radius of up to 1,000 km, as GeoLite2 has them.
	{"200.158.0.0/23", "BR", "São Paulo", -23.5475, -46.6361, 27699, "TELEFONICA BRASIL S.A", 20},
	{"177.102.32.0/22", "BR", "São Paulo", -23.5475, -46.6361, 27699, "TELEFONICA BRASIL S.A", 20},
	{"177.138.20.0/22", "BR", "São Paulo", -23.5475, -46.6361, 27699, "TELEFONICA BRASIL S.A", 20},
	{"177.33.120.0/22", "BR", "São Paulo", -23.6293, -46.6351, 28573, "Claro NXT Telecomunicacoes Ltda", 10},
	{"179.208.10.0/23", "BR", "São Paulo", -23.6293, -46.6351, 28573, "Claro NXT Telecomunicacoes Ltda", 5},
	{"189.100.8.0/21", "BR", "São Paulo", -23.5475, -46.6361, 28573, "Claro NXT Telecomunicacoes Ltda", 20},
	{"177.80.0.0/18", "BR", "Santo André", -23.6730, -46.5302, 28573, "Claro NXT Telecomunicacoes Ltda", 20},
	{"186.220.0.0/18", "BR", "São Paulo", -23.5475, -46.6361, 28573, "Claro NXT Telecomunicacoes Ltda", 20},
	{"187.122.8.0/21", "BR", "Osasco", -23.5312, -46.7901, 28573, "Claro NXT Telecomunicacoes Ltda", 20},
	{"152.240.0.0/16", "BR", "", -22.8305, -43.2192, 26599, "TELEFONICA BRASIL S.A", 1000},
	{"152.244.2.0/23", "BR", "São Paulo", -23.5475, -46.6361, 26599, "TELEFONICA BRASIL S.A", 20},
	{"177.48.0.0/15", "BR", "", -22.8305, -43.2192, 26615, "TIM S/A", 1000},
	{"177.30.32.0/20", "BR", "São Paulo", -23.6293, -46.6351, 26615, "TIM S/A", 10},
	{"177.50.16.0/20", "BR", "Rio de Janeiro", -22.9201, -43.0811, 26615, "TIM S/A", 200},
	{"177.164.0.0/15", "BR", "", -22.8305, -43.2192, 26615, "TIM S/A", 1000},
	{"177.121.192.0/20", "BR", "Rio de Janeiro", -22.9201, -43.0811, 26615, "TIM S/A", 5},
	{"179.241.0.0/19", "BR", "Campinas", -22.8951, -47.0439, 22085, "Claro S/A", 100},
	{"201.17.30.0/23", "BR", "Rio de Janeiro", -22.9201, -43.0811, 28573, "Claro NXT Telecomunicacoes Ltda", 10},
	{"60.56.32.0/20", "JP", "Osaka", 34.6967, 135.5154, 17511, "OPTAGE Inc.", 20},
	{"46.138.0.0/19", "RU", "Moscow", 55.7487, 37.6187, 25513, "PJSC Moscow city telephone network", 20},
	{"46.138.192.0/19", "RU", "Moscow", 55.7487, 37.6187, 25513, "PJSC Moscow city telephone network", 5},
	{"79.168.0.0/20", "PT", "Lisbon", 38.7219, -9.1398, 2860, "NOS COMUNICACOES, S.A.", 10},
	{"82.154.0.0/19", "PT", "", 38.7057, -9.1359, 3243, "MEO - SERVICOS DE COMUNICACOES E MULTIMEDIA S.A.", 200},
	{"5.9.16.0/21", "DE", "Falkenstein", 50.4777, 12.3649, 24940, "Hetzner Online GmbH", 20},
	{"161.97.96.0/20", "FR", "Lauterbourg", 48.9742, 8.1851, 51167, "Contabo GmbH", 20},
	{"165.225.8.0/23", "US", "Reston", 38.9653, -77.3380, 22616, "ZSCALER, INC.", 20},
	{"79.148.0.0/19", "ES", "Madrid", 40.4697, -3.7090, 3352, "TELEFONICA DE ESPANA S.A.U.", 5},
	{"117.200.0.0/19", "IN", "Kallakūru", 16.5225, 81.3918, 9829, "Bharat Sanchar Nigam Ltd", 200},
	{"36.80.96.0/20", "ID", "Bekasi", -6.2244, 106.9726, 7713, "Telekomunikasi Indonesia (PT)", 10},
	{"78.180.96.0/20", "TR", "Istanbul", 41.0146, 28.9532, 9121, "Turk Telekomunikasyon Anonim Sirketi", 5},
	{"197.34.0.0/16", "EG", "", 30.0355, 31.2230, 8452, "TE-AS", 100},
	{"58.210.0.0/17", "CN", "Suzhou", 31.3093, 120.6020, 4134, "Chinanet", 10},
	{"182.180.8.0/21", "PK", "Rawalpindi", 33.5990, 73.0436, 17557, "Pakistan Telecommuication company limited", 20},
	{"189.216.0.0/20", "MX", "Naucalpan", 19.4692, -99.2974, 28548, "Cablevision, S.A. de C.V.", 20},
	{"181.29.100.0/22", "AR", "Tandil", -37.3287, -59.1369, 7303, "Telecom Argentina S.A.", 20},
	{"73.10.0.0/20", "US", "Vineland", 39.4826, -75.0027, 7922, "Comcast Cable Communications, LLC", 50},
	{"27.72.0.0/19", "VN", "Hanoi", 21.0184, 105.8461, 7552, "Viettel Group", 20},
	{"105.112.8.0/22", "NG", "Lagos", 6.4474, 3.3903, 36873, "Airtel Networks Limited", 10},
	{"59.88.0.0/20", "IN", "Mavelikkara", 9.2601, 76.5487, 9829, "Bharat Sanchar Nigam Ltd", 20},
	{"110.136.8.0/21", "ID", "West Jakarta", -6.1810, 106.7739, 7713, "Telekomunikasi Indonesia (PT)", 20},
	{"88.240.0.0/19", "TR", "Ankara", 39.9207, 32.8540, 9121, "Turk Telekomunikasyon Anonim Sirketi", 10},
	{"41.33.10.0/25", "EG", "Giza", 30.0046, 31.2044, 8452, "TE-AS", 5},
	{"39.32.0.0/19", "PK", "Peshawar", 34.0083, 71.5812, 17557, "Pakistan Telecommuication company limited", 20},
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: mkgeodb DIR")
		os.Exit(2)
	}
	dir := os.Args[1]
	sort.Slice(places, func(i, j int) bool { return places[i].cidr < places[j].cidr })
	checkOverlaps()
	city := tree("GeoLite2-City")
	asn := tree("GeoLite2-ASN")
	var csvText string
	for _, p := range places {
		_, n, err := net.ParseCIDR(p.cidr)
		check(err)
		rec := mmdbtype.Map{
			"country":  mmdbtype.Map{"iso_code": mmdbtype.String(p.country)},
			"location": mmdbtype.Map{"latitude": mmdbtype.Float64(p.lat), "longitude": mmdbtype.Float64(p.lon), "accuracy_radius": mmdbtype.Uint16(p.radius)},
		}
		if p.city != "" { // located to the country only: no city, as in GeoLite2
			rec["city"] = mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String(p.city)}}
		}
		check(city.Insert(n, rec))
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

// checkOverlaps stops on two places whose networks overlap: the databases
// would silently keep one of them.
func checkOverlaps() {
	for i, p := range places {
		_, a, err := net.ParseCIDR(p.cidr)
		check(err)
		for _, q := range places[i+1:] {
			_, b, err := net.ParseCIDR(q.cidr)
			check(err)
			if a.Contains(b.IP) || b.Contains(a.IP) {
				check(fmt.Errorf("%s and %s overlap", p.cidr, q.cidr))
			}
		}
	}
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
