package main

// The world of -population: real cities (their real coordinates and time
// zones) and the networks a German company's mail accounts log in from,
// with plausible public address ranges. The ranges are a synthetic
// database's, in the spirit of the real allocations (Deutsche Telekom's
// home lines in 79.192.0.0/10 and 2003::/19, its phones in 80.187.0.0/16,
// Google's mail servers in 209.85.128.0/17, T-Mobile US in 172.32.0.0/11 …),
// not a copy of any registry: never private, reserved or documentation
// ranges (TestWorld checks it with the filter itself). Each range is
// carved into blocks (/20 for IPv4, /40 for IPv6, smaller for small
// ranges), and each block is placed in one of its network's cities, or at
// its country's centre for the addresses a database knows only by country,
// with an accuracy radius of the kind MaxMind's databases give: a few
// kilometres for a home line in a city, hundreds for a mobile carrier's
// gateway, 1,000 for a country.

import (
	"fmt"
	"math"
	"net/netip"
	"strings"
)

type city struct {
	name, cc string
	lat, lon float64
	tz       string
}

// cities: real coordinates. The time zone is the country's unless given.
var cities = map[string]*city{}

func init() {
	for _, c := range []city{
		// Germany: the company's headquarters (Munich), its branches
		// (Hamburg, Berlin), its people's towns, and the cities where the
		// databases place German addresses.
		{"Munich", "DE", 48.1374, 11.5755, ""}, {"Augsburg", "DE", 48.3705, 10.8978, ""},
		{"Freising", "DE", 48.4029, 11.7488, ""}, {"Dachau", "DE", 48.2600, 11.4342, ""},
		{"Erding", "DE", 48.3064, 11.9077, ""}, {"Starnberg", "DE", 47.9990, 11.3410, ""},
		{"Rosenheim", "DE", 47.8571, 12.1181, ""}, {"Ingolstadt", "DE", 48.7665, 11.4258, ""},
		{"Landshut", "DE", 48.5442, 12.1469, ""}, {"Regensburg", "DE", 49.0134, 12.1016, ""},
		{"Nuremberg", "DE", 49.4521, 11.0767, ""}, {"Stuttgart", "DE", 48.7758, 9.1829, ""},
		{"Hamburg", "DE", 53.5511, 9.9937, ""}, {"Norderstedt", "DE", 53.7064, 9.9990, ""},
		{"Pinneberg", "DE", 53.6550, 9.7990, ""}, {"Lübeck", "DE", 53.8655, 10.6866, ""},
		{"Kiel", "DE", 54.3233, 10.1228, ""}, {"Bremen", "DE", 53.0793, 8.8017, ""},
		{"Hanover", "DE", 52.3759, 9.7320, ""}, {"Berlin", "DE", 52.5200, 13.4050, ""},
		{"Potsdam", "DE", 52.3906, 13.0645, ""}, {"Bernau", "DE", 52.6795, 13.5871, ""},
		{"Leipzig", "DE", 51.3397, 12.3731, ""}, {"Dresden", "DE", 51.0504, 13.7373, ""},
		{"Cologne", "DE", 50.9375, 6.9603, ""}, {"Bonn", "DE", 50.7374, 7.0982, ""},
		{"Düsseldorf", "DE", 51.2277, 6.7735, ""}, {"Dortmund", "DE", 51.5136, 7.4653, ""},
		{"Essen", "DE", 51.4556, 7.0116, ""}, {"Frankfurt am Main", "DE", 50.1109, 8.6821, ""},
		{"Falkenstein", "DE", 50.4779, 12.3713, ""}, {"Limburg an der Lahn", "DE", 50.3836, 8.0503, ""},
		// Europe
		{"Vienna", "AT", 48.2082, 16.3738, ""}, {"Graz", "AT", 47.0707, 15.4395, ""},
		{"Linz", "AT", 48.3069, 14.2858, ""}, {"Salzburg", "AT", 47.8095, 13.0550, ""},
		{"Innsbruck", "AT", 47.2692, 11.4041, ""},
		{"Zurich", "CH", 47.3769, 8.5417, ""}, {"Geneva", "CH", 46.2044, 6.1432, ""},
		{"Basel", "CH", 47.5596, 7.5886, ""}, {"Bern", "CH", 46.9480, 7.4474, ""},
		{"Lausanne", "CH", 46.5197, 6.6323, ""},
		{"London", "GB", 51.5074, -0.1278, ""}, {"Manchester", "GB", 53.4808, -2.2426, ""},
		{"Birmingham", "GB", 52.4862, -1.8904, ""}, {"Edinburgh", "GB", 55.9533, -3.1883, ""},
		{"Bristol", "GB", 51.4545, -2.5879, ""}, {"Leeds", "GB", 53.8008, -1.5491, ""},
		{"Glasgow", "GB", 55.8642, -4.2518, ""},
		{"Paris", "FR", 48.8566, 2.3522, ""}, {"Lyon", "FR", 45.7640, 4.8357, ""},
		{"Marseille", "FR", 43.2965, 5.3698, ""}, {"Nice", "FR", 43.7102, 7.2620, ""},
		{"Toulouse", "FR", 43.6047, 1.4442, ""}, {"Bordeaux", "FR", 44.8378, -0.5792, ""},
		{"Roubaix", "FR", 50.6942, 3.1746, ""}, {"Gravelines", "FR", 50.9865, 2.1281, ""},
		{"Madrid", "ES", 40.4168, -3.7038, ""}, {"Barcelona", "ES", 41.3874, 2.1686, ""},
		{"Valencia", "ES", 39.4699, -0.3763, ""}, {"Seville", "ES", 37.3891, -5.9845, ""},
		{"Malaga", "ES", 36.7213, -4.4214, ""}, {"Palma", "ES", 39.5696, 2.6502, ""},
		{"Rome", "IT", 41.9028, 12.4964, ""}, {"Milan", "IT", 45.4642, 9.1900, ""},
		{"Turin", "IT", 45.0703, 7.6869, ""}, {"Naples", "IT", 40.8518, 14.2681, ""},
		{"Florence", "IT", 43.7696, 11.2558, ""}, {"Bolzano", "IT", 46.4983, 11.3548, ""},
		{"Verona", "IT", 45.4384, 10.9916, ""},
		{"Amsterdam", "NL", 52.3676, 4.9041, ""}, {"Rotterdam", "NL", 51.9244, 4.4777, ""},
		{"The Hague", "NL", 52.0705, 4.3007, ""}, {"Utrecht", "NL", 52.0907, 5.1214, ""},
		{"Eindhoven", "NL", 51.4416, 5.4697, ""},
		{"Brussels", "BE", 50.8503, 4.3517, ""}, {"Antwerp", "BE", 51.2194, 4.4025, ""},
		{"Warsaw", "PL", 52.2297, 21.0122, ""}, {"Krakow", "PL", 50.0647, 19.9450, ""},
		{"Wroclaw", "PL", 51.1079, 17.0385, ""}, {"Gdansk", "PL", 54.3520, 18.6466, ""},
		{"Poznan", "PL", 52.4064, 16.9252, ""},
		{"Prague", "CZ", 50.0755, 14.4378, ""}, {"Brno", "CZ", 49.1951, 16.6068, ""},
		{"Lisbon", "PT", 38.7223, -9.1393, ""}, {"Porto", "PT", 41.1579, -8.6291, ""},
		{"Faro", "PT", 37.0194, -7.9322, ""},
		{"Athens", "GR", 37.9838, 23.7275, ""}, {"Thessaloniki", "GR", 40.6401, 22.9444, ""},
		{"Heraklion", "GR", 35.3387, 25.1442, ""},
		{"Zagreb", "HR", 45.8150, 15.9819, ""}, {"Split", "HR", 43.5081, 16.4402, ""},
		{"Dubrovnik", "HR", 42.6507, 18.0944, ""},
		{"Stockholm", "SE", 59.3293, 18.0686, ""}, {"Gothenburg", "SE", 57.7089, 11.9746, ""},
		{"Helsinki", "FI", 60.1699, 24.9384, ""}, {"Dublin", "IE", 53.3498, -6.2603, ""},
		{"Bucharest", "RO", 44.4268, 26.1025, ""}, {"Cluj-Napoca", "RO", 46.7712, 23.6236, ""},
		{"Iasi", "RO", 47.1585, 27.6014, ""},
		{"Kyiv", "UA", 50.4501, 30.5234, ""}, {"Kharkiv", "UA", 49.9935, 36.2304, ""},
		{"Odesa", "UA", 46.4825, 30.7233, ""},
		{"Moscow", "RU", 55.7558, 37.6173, ""}, {"Saint Petersburg", "RU", 59.9343, 30.3351, ""},
		{"Novosibirsk", "RU", 55.0084, 82.9357, "Asia/Novosibirsk"},
		{"Yekaterinburg", "RU", 56.8389, 60.6057, "Asia/Yekaterinburg"},
		{"Istanbul", "TR", 41.0082, 28.9784, ""}, {"Ankara", "TR", 39.9334, 32.8597, ""},
		{"Izmir", "TR", 38.4237, 27.1428, ""}, {"Antalya", "TR", 36.8969, 30.7133, ""},
		// Americas
		{"New York", "US", 40.7128, -74.0060, "America/New_York"},
		{"Philadelphia", "US", 39.9526, -75.1652, "America/New_York"},
		{"Ashburn", "US", 39.0438, -77.4874, "America/New_York"},
		{"Atlanta", "US", 33.7490, -84.3880, "America/New_York"},
		{"Chicago", "US", 41.8781, -87.6298, "America/Chicago"},
		{"Houston", "US", 29.7604, -95.3698, "America/Chicago"},
		{"Denver", "US", 39.7392, -104.9903, "America/Denver"},
		{"Seattle", "US", 47.6062, -122.3321, "America/Los_Angeles"},
		{"San Francisco", "US", 37.7749, -122.4194, "America/Los_Angeles"},
		{"Toronto", "CA", 43.6532, -79.3832, ""},
		{"Mexico City", "MX", 19.4326, -99.1332, ""}, {"Guadalajara", "MX", 20.6597, -103.3496, ""},
		{"Monterrey", "MX", 25.6866, -100.3161, ""},
		{"São Paulo", "BR", -23.5505, -46.6333, ""}, {"Rio de Janeiro", "BR", -22.9068, -43.1729, ""},
		{"Belo Horizonte", "BR", -19.9167, -43.9345, ""}, {"Curitiba", "BR", -25.4284, -49.2733, ""},
		{"Recife", "BR", -8.0476, -34.8770, "America/Recife"},
		{"Buenos Aires", "AR", -34.6037, -58.3816, ""}, {"Córdoba", "AR", -31.4201, -64.1888, ""},
		// Africa, Middle East
		{"Lagos", "NG", 6.5244, 3.3792, ""}, {"Abuja", "NG", 9.0765, 7.3986, ""},
		{"Cairo", "EG", 30.0444, 31.2357, ""}, {"Alexandria", "EG", 31.2001, 29.9187, ""},
		{"Casablanca", "MA", 33.5731, -7.5898, ""}, {"Rabat", "MA", 34.0209, -6.8416, ""},
		{"Dubai", "AE", 25.2048, 55.2708, ""}, {"Abu Dhabi", "AE", 24.4539, 54.3773, ""},
		// Asia, Oceania
		{"Mumbai", "IN", 19.0760, 72.8777, ""}, {"Delhi", "IN", 28.6139, 77.2090, ""},
		{"Bengaluru", "IN", 12.9716, 77.5946, ""}, {"Chennai", "IN", 13.0827, 80.2707, ""},
		{"Kolkata", "IN", 22.5726, 88.3639, ""},
		{"Karachi", "PK", 24.8607, 67.0011, ""}, {"Lahore", "PK", 31.5204, 74.3587, ""},
		{"Islamabad", "PK", 33.6844, 73.0479, ""},
		{"Bangkok", "TH", 13.7563, 100.5018, ""}, {"Chiang Mai", "TH", 18.7883, 98.9853, ""},
		{"Phuket", "TH", 7.8804, 98.3923, ""},
		{"Hanoi", "VN", 21.0278, 105.8342, ""}, {"Ho Chi Minh City", "VN", 10.8231, 106.6297, ""},
		{"Da Nang", "VN", 16.0544, 108.2022, ""},
		{"Jakarta", "ID", -6.2088, 106.8456, ""}, {"Surabaya", "ID", -7.2575, 112.7521, ""},
		{"Bandung", "ID", -6.9175, 107.6191, ""},
		{"Manila", "PH", 14.5995, 120.9842, ""}, {"Cebu City", "PH", 10.3157, 123.8854, ""},
		{"Singapore", "SG", 1.3521, 103.8198, ""},
		{"Shanghai", "CN", 31.2304, 121.4737, ""}, {"Beijing", "CN", 39.9042, 116.4074, ""},
		{"Nanjing", "CN", 32.0603, 118.7969, ""}, {"Suzhou", "CN", 31.2990, 120.5853, ""},
		{"Tianjin", "CN", 39.3434, 117.3616, ""}, {"Shenyang", "CN", 41.8057, 123.4315, ""},
		{"Seoul", "KR", 37.5665, 126.9780, ""}, {"Busan", "KR", 35.1796, 129.0756, ""},
		{"Tokyo", "JP", 35.6762, 139.6503, ""}, {"Osaka", "JP", 34.6937, 135.5023, ""},
		{"Sydney", "AU", -33.8688, 151.2093, "Australia/Sydney"},
		{"Melbourne", "AU", -37.8136, 144.9631, "Australia/Melbourne"},
	} {
		c := c
		if c.tz == "" {
			c.tz = countryTZ[c.cc]
		}
		if c.tz == "" {
			panic("no time zone for " + c.name)
		}
		cities[c.name] = &c
	}
}

var countryTZ = map[string]string{
	"DE": "Europe/Berlin", "AT": "Europe/Vienna", "CH": "Europe/Zurich", "GB": "Europe/London",
	"FR": "Europe/Paris", "ES": "Europe/Madrid", "IT": "Europe/Rome", "NL": "Europe/Amsterdam",
	"BE": "Europe/Brussels", "PL": "Europe/Warsaw", "CZ": "Europe/Prague", "PT": "Europe/Lisbon",
	"GR": "Europe/Athens", "HR": "Europe/Zagreb", "SE": "Europe/Stockholm", "FI": "Europe/Helsinki",
	"IE": "Europe/Dublin", "RO": "Europe/Bucharest", "UA": "Europe/Kyiv", "RU": "Europe/Moscow",
	"TR": "Europe/Istanbul", "CA": "America/Toronto", "MX": "America/Mexico_City",
	"BR": "America/Sao_Paulo", "AR": "America/Argentina/Buenos_Aires", "NG": "Africa/Lagos",
	"EG": "Africa/Cairo", "MA": "Africa/Casablanca", "AE": "Asia/Dubai", "IN": "Asia/Kolkata",
	"PK": "Asia/Karachi", "TH": "Asia/Bangkok", "VN": "Asia/Ho_Chi_Minh", "ID": "Asia/Jakarta",
	"PH": "Asia/Manila", "SG": "Asia/Singapore", "CN": "Asia/Shanghai", "KR": "Asia/Seoul",
	"JP": "Asia/Tokyo",
}

// countryLoc is where a database puts an address it knows only by country,
// and with what accuracy radius (km): 1,000 for the large countries, as
// MaxMind does for the United States.
var countryLoc = map[string]struct {
	lat, lon float64
	radius   uint16
}{
	"DE": {51.2993, 9.4910, 500}, "AT": {47.6965, 13.3457, 200}, "CH": {47.1449, 8.1551, 100},
	"GB": {51.4964, -0.1224, 500}, "FR": {48.8582, 2.3387, 500}, "ES": {40.4172, -3.6840, 500},
	"IT": {43.1479, 12.1097, 500}, "NL": {52.3824, 4.8995, 100}, "BE": {50.8509, 4.3447, 100},
	"PL": {52.2394, 21.0362, 500}, "CZ": {50.0848, 14.4112, 200}, "PT": {38.7057, -9.1359, 200},
	"GR": {37.9842, 23.7353, 200}, "HR": {45.1667, 15.5000, 200}, "SE": {59.3247, 18.0560, 500},
	"FI": {60.1708, 24.9375, 500}, "IE": {53.3382, -6.2591, 200}, "RO": {45.9968, 24.9970, 500},
	"UA": {50.4522, 30.5287, 500}, "RU": {55.7386, 37.6068, 1000}, "TR": {41.0214, 28.9948, 500},
	"US": {37.7510, -97.8220, 1000}, "CA": {43.6319, -79.3716, 1000}, "MX": {19.4326, -99.1332, 500},
	"BR": {-22.8305, -43.2192, 1000}, "AR": {-34.6022, -58.3845, 500}, "NG": {9.0820, 8.6753, 500},
	"EG": {30.0355, 31.2230, 500}, "MA": {33.5792, -7.6133, 500}, "AE": {24.0000, 54.0000, 200},
	"IN": {21.9974, 79.0011, 1000}, "PK": {30.0000, 70.0000, 500}, "TH": {13.7500, 100.4667, 500},
	"VN": {16.0000, 106.0000, 500}, "ID": {-6.1728, 106.8272, 1000}, "PH": {14.5955, 121.0000, 500},
	"SG": {1.3667, 103.8000, 50}, "CN": {34.7732, 113.7220, 1000}, "KR": {37.5112, 126.9741, 200},
	"JP": {35.6900, 139.6900, 500}, "AU": {-33.4940, 143.2104, 1000},
}

// Kinds of network.
const (
	kBroadband = "broadband" // home lines: rotating (a new address a day) or stable
	kMobile    = "mobile"    // phone carriers: an address per few minutes, at their gateways
	kOffice    = "office"    // a company's fixed addresses
	kMail      = "mail"      // a mail provider's servers (Gmail's "send mail as")
	kVPN       = "vpn"       // a corporate VPN's exit
	kHosting   = "hosting"   // data centres: bots, attackers, application servers
)

type network struct {
	key     string
	asn     uint32
	org     string
	cc      string // the country of "*" in locs
	kind    string
	rotate  bool // broadband: a new address every day
	v4, v6  []string
	v6share float64 // of a client's connections, over IPv6 when it has it
	// locs: the places of its blocks, in turn: a city name, "*" for its
	// country's centre, "*XX" for country XX's centre. A name repeated
	// holds more blocks.
	locs   []string
	radius []uint16                  // accuracy radii of its city-placed blocks, in turn
	share  float64                   // market share among the networks of its kind and country
	rdns   func(a netip.Addr) string // the reverse name, for IPv4 (and IPv6 when rdns6)
	rdns6  bool

	p4, p6 []netip.Prefix
	bits4  int
	bits6  int
}

func dashed(a netip.Addr) string {
	b := a.As4()
	return fmt.Sprintf("%d-%d-%d-%d", b[0], b[1], b[2], b[3])
}

func hex4(a netip.Addr) string {
	b := a.As4()
	return fmt.Sprintf("%02x%02x%02x%02x", b[0], b[1], b[2], b[3])
}

func padded(a netip.Addr) string {
	b := a.As4()
	return fmt.Sprintf("%03d-%03d-%03d-%03d", b[0], b[1], b[2], b[3])
}

func nameIn(domain string) func(netip.Addr) string {
	return func(a netip.Addr) string {
		if !a.Is4() {
			return "unknown"
		}
		return dashed(a) + "." + domain
	}
}

var (
	rBroadband = []uint16{5, 10, 20, 20, 50, 50, 100, 200}
	rMobile    = []uint16{100, 200, 500, 500, 1000}
	rHosting   = []uint16{1, 5, 20, 20, 50}
	rFixed     = []uint16{5, 10, 20}
)

var networks = []*network{
	// Germany: home lines
	{key: "dtag", asn: 3320, org: "Deutsche Telekom AG", cc: "DE", kind: kBroadband, rotate: true, share: 0.42,
		v4: []string{"79.192.0.0/10", "84.128.0.0/10", "87.128.0.0/10", "91.0.0.0/10", "93.192.0.0/10", "217.224.0.0/11"},
		v6: []string{"2003::/19"}, v6share: 0.8,
		locs:   []string{"Munich", "Munich", "Augsburg", "Nuremberg", "Regensburg", "Ingolstadt", "Rosenheim", "Stuttgart", "Hamburg", "Hamburg", "Kiel", "Bremen", "Hanover", "Berlin", "Berlin", "Potsdam", "Leipzig", "Dresden", "Cologne", "Düsseldorf", "Frankfurt am Main", "Dortmund", "Bonn", "Essen", "*", "*"},
		radius: rBroadband, rdns6: true,
		rdns: func(a netip.Addr) string {
			if a.Is4() {
				return "p" + hex4(a) + ".dip0.t-ipconnect.de"
			}
			b := a.As16()
			return fmt.Sprintf("p%x.dip0.t-ipconnect.de", b[:])
		}},
	{key: "kabel", asn: 3209, org: "Vodafone GmbH", cc: "DE", kind: kBroadband, share: 0.26,
		v4: []string{"95.88.0.0/14", "37.4.0.0/14"}, v6: []string{"2a02:8108::/32"}, v6share: 0.8,
		locs:   []string{"Munich", "Munich", "Augsburg", "Nuremberg", "Hamburg", "Hamburg", "Kiel", "Bremen", "Hanover", "Berlin", "Berlin", "Leipzig", "Dresden", "Cologne", "Düsseldorf", "Frankfurt am Main", "Dortmund", "Stuttgart", "*"},
		radius: rBroadband,
		rdns: func(a netip.Addr) string {
			if a.Is4() {
				return "ip" + hex4(a) + ".dynamic.kabel-deutschland.de"
			}
			return "unknown"
		}},
	{key: "vfdsl", asn: 3209, org: "Vodafone GmbH", cc: "DE", kind: kBroadband, rotate: true, share: 0.08,
		v4: []string{"88.64.0.0/12"}, v6: []string{"2a02:8070::/32"}, v6share: 0.5,
		locs:   []string{"Munich", "Nuremberg", "Stuttgart", "Hamburg", "Hanover", "Berlin", "Leipzig", "Cologne", "Düsseldorf", "Frankfurt am Main", "*", "*"},
		radius: rBroadband,
		rdns: func(a netip.Addr) string {
			if !a.Is4() {
				return "unknown"
			}
			b := a.As4()
			return fmt.Sprintf("dslb-%s.%03d.%03d.pools.vodafone-ip.de", padded(a), b[0], b[1])
		}},
	{key: "o2dsl", asn: 6805, org: "Telefonica Germany GmbH & Co.OHG", cc: "DE", kind: kBroadband, rotate: true, share: 0.1,
		v4: []string{"78.48.0.0/13", "95.112.0.0/12"}, v6: []string{"2a01:c22::/32"}, v6share: 0.5,
		locs:   []string{"Munich", "Nuremberg", "Hamburg", "Berlin", "Leipzig", "Cologne", "Frankfurt am Main", "Stuttgart", "Hanover", "*", "*", "*"},
		radius: rBroadband,
		rdns: func(a netip.Addr) string {
			if !a.Is4() {
				return "unknown"
			}
			b := a.As4()
			return fmt.Sprintf("dynamic-%s.%d.%d.pool.telefonica.de", padded(a), b[0], b[1])
		}},
	{key: "versatel", asn: 8881, org: "1&1 Versatel Deutschland GmbH", cc: "DE", kind: kBroadband, rotate: true, share: 0.1,
		v4: []string{"92.72.0.0/14"}, v6: []string{"2001:16b8::/32"}, v6share: 0.6,
		locs:   []string{"Munich", "Augsburg", "Nuremberg", "Hamburg", "Kiel", "Berlin", "Dresden", "Düsseldorf", "Dortmund", "Frankfurt am Main", "Stuttgart", "*"},
		radius: rBroadband,
		rdns: func(a netip.Addr) string {
			if !a.Is4() {
				return "unknown"
			}
			return "i" + strings.ToUpper(hex4(a)) + ".versanet.de"
		}},
	{key: "mnet", asn: 8767, org: "M-net Telekommunikations GmbH", cc: "DE", kind: kBroadband, share: 0.2,
		v4: []string{"188.174.0.0/15"}, v6: []string{"2001:a61::/32"}, v6share: 0.6,
		locs:   []string{"Munich", "Munich", "Munich", "Augsburg", "Ingolstadt", "Rosenheim", "Landshut", "Nuremberg"},
		radius: rBroadband, rdns: nameIn("m-online.net")},
	// Germany: phone carriers. Their addresses come out of a few gateways:
	// the databases place them there, or only in Germany, far from the phone.
	{key: "telekom-mobile", asn: 3320, org: "Deutsche Telekom AG", cc: "DE", kind: kMobile, share: 0.45,
		v4: []string{"80.187.0.0/16"}, v6: []string{"2a01:598::/32"}, v6share: 0.6,
		locs:   []string{"Frankfurt am Main", "Munich", "Hamburg", "Berlin", "Düsseldorf", "Stuttgart", "*", "*", "*"},
		radius: rMobile,
		rdns: func(a netip.Addr) string {
			if !a.Is4() {
				return "unknown"
			}
			return "tmo-" + padded(a) + ".customers.d1-online.com"
		}},
	{key: "vodafone-mobile", asn: 3209, org: "Vodafone GmbH", cc: "DE", kind: kMobile, share: 0.3,
		v4: []string{"109.40.0.0/14"}, v6: []string{"2a00:20::/32"}, v6share: 0.3,
		locs:   []string{"Düsseldorf", "Frankfurt am Main", "Munich", "Hamburg", "Berlin", "*", "*"},
		radius: rMobile},
	{key: "o2-mobile", asn: 6805, org: "Telefonica Germany GmbH & Co.OHG", cc: "DE", kind: kMobile, share: 0.25,
		v4: []string{"176.0.0.0/14", "89.204.128.0/17"}, v6: []string{"2a02:3030::/32"}, v6share: 0.3,
		locs:   []string{"Munich", "Nuremberg", "Hamburg", "Düsseldorf", "Berlin", "Frankfurt am Main", "*", "*"},
		radius: rMobile},
	// the company's offices
	{key: "office-muc", asn: 8767, org: "M-net Telekommunikations GmbH", cc: "DE", kind: kOffice,
		v4: []string{"212.18.6.64/28"}, locs: []string{"Munich"}, radius: rFixed, rdns: func(netip.Addr) string { return "gw-muc.example.com" }},
	{key: "office-ham", asn: 3209, org: "Vodafone GmbH", cc: "DE", kind: kOffice,
		v4: []string{"80.146.112.0/28"}, locs: []string{"Hamburg"}, radius: rFixed, rdns: func(netip.Addr) string { return "gw-ham.example.com" }},
	{key: "office-ber", asn: 3320, org: "Deutsche Telekom AG", cc: "DE", kind: kOffice,
		v4: []string{"62.153.44.0/28"}, locs: []string{"Berlin"}, radius: rFixed, rdns: func(netip.Addr) string { return "gw-ber.example.com" }},
	// Gmail's servers, for "send mail as": the United States, by country only
	{key: "google", asn: 15169, org: "GOOGLE", cc: "US", kind: kMail,
		v4: []string{"209.85.128.0/17"}, v6: []string{"2a00:1450:4864::/48"}, v6share: 0.5,
		locs: []string{"*"}, rdns6: true,
		rdns: func(a netip.Addr) string {
			pre := []string{"wr1", "ej1", "ed1", "lf1", "wm1", "pl1", "oa1", "yw1", "qk1", "lj1"}
			b := a.As16()
			return fmt.Sprintf("mail-%s-f%d.google.com", pre[int(b[15])%len(pre)], b[14]%200)
		}},
	// Microsoft's cloud, which the Outlook app for phones sends through for
	// accounts of other providers (IMAP and SMTP from its data centres)
	{key: "microsoft", asn: 8075, org: "MICROSOFT-CORP-MSN-AS-BLOCK", cc: "US", kind: kMail,
		v4: []string{"52.96.0.0/14"}, v6: []string{"2603:1026::/32"}, v6share: 0.5,
		locs: []string{"Dublin", "Amsterdam", "Dublin", "Amsterdam", "*"}, radius: []uint16{20, 100, 1000}},
	// corporate VPN exits abroad: a partner's in Amsterdam, the parent's in Zurich
	{key: "vpn-ams", asn: 60781, org: "LeaseWeb Netherlands B.V.", cc: "NL", kind: kVPN,
		v4: []string{"95.211.146.0/29"}, locs: []string{"Amsterdam"}, radius: []uint16{20}, rdns: func(netip.Addr) string { return "vpn-gw.example.net" }},
	{key: "vpn-zrh", asn: 3303, org: "Swisscom (Schweiz) AG", cc: "CH", kind: kVPN,
		v4: []string{"195.65.70.0/29"}, locs: []string{"Zurich"}, radius: []uint16{10}, rdns: func(netip.Addr) string { return "vpn.example-holding.ch" }},
	// data centres
	{key: "hetzner", asn: 24940, org: "Hetzner Online GmbH", cc: "DE", kind: kHosting,
		v4: []string{"88.198.0.0/16", "78.46.0.0/15", "65.21.0.0/16"}, v6: []string{"2a01:4f8::/32"}, v6share: 0.3,
		locs: []string{"Falkenstein", "Nuremberg", "Helsinki", "Falkenstein", "Nuremberg"}, radius: rHosting,
		rdns: func(a netip.Addr) string {
			if !a.Is4() {
				return "unknown"
			}
			return "static." + dashedRev(a) + ".clients.your-server.de"
		}},
	{key: "digitalocean", asn: 14061, org: "DIGITALOCEAN-ASN", cc: "US", kind: kHosting,
		v4:   []string{"167.99.0.0/16", "159.65.0.0/16"},
		locs: []string{"New York", "San Francisco", "Amsterdam", "London", "Frankfurt am Main", "Singapore", "Bengaluru", "Toronto"}, radius: rHosting},
	{key: "ovh", asn: 16276, org: "OVH SAS", cc: "FR", kind: kHosting,
		v4: []string{"51.68.0.0/16", "145.239.0.0/16"}, locs: []string{"Roubaix", "Gravelines", "Limburg an der Lahn", "Warsaw", "*"}, radius: rHosting},
	{key: "aws-use1", asn: 14618, org: "AMAZON-AES", cc: "US", kind: kHosting,
		v4: []string{"3.80.0.0/12"}, locs: []string{"Ashburn"}, radius: []uint16{1000}},
	{key: "leaseweb", asn: 60781, org: "LeaseWeb Netherlands B.V.", cc: "NL", kind: kHosting,
		v4: []string{"5.79.64.0/18", "37.48.64.0/18"}, locs: []string{"Amsterdam", "*"}, radius: rHosting},

	// Europe: home lines (hotels, customers, people abroad) and phones
	{key: "a1", asn: 8447, org: "A1 Telekom Austria AG", cc: "AT", kind: kBroadband, rotate: true, share: 1,
		v4: []string{"178.112.0.0/13"}, locs: []string{"Vienna", "Vienna", "Graz", "Linz", "Salzburg", "Innsbruck", "*"}, radius: rBroadband, rdns: nameIn("adsl.highway.telekom.at")},
	{key: "a1-mobile", asn: 8447, org: "A1 Telekom Austria AG", cc: "AT", kind: kMobile, share: 1,
		v4: []string{"77.116.0.0/14"}, locs: []string{"Vienna", "*", "*"}, radius: rMobile},
	{key: "swisscom", asn: 3303, org: "Swisscom (Schweiz) AG", cc: "CH", kind: kBroadband, share: 1,
		v4: []string{"178.192.0.0/13"}, v6: []string{"2a02:1205::/32"}, v6share: 0.6,
		locs: []string{"Zurich", "Zurich", "Geneva", "Basel", "Bern", "Lausanne", "*"}, radius: rBroadband, rdns: nameIn("dynamic.hispeed.ch")},
	{key: "swisscom-mobile", asn: 3303, org: "Swisscom (Schweiz) AG", cc: "CH", kind: kMobile, share: 1,
		v4: []string{"31.164.0.0/15"}, locs: []string{"Zurich", "Bern", "*"}, radius: rMobile},
	{key: "bt", asn: 2856, org: "British Telecommunications PLC", cc: "GB", kind: kBroadband, share: 0.6,
		v4: []string{"86.128.0.0/12"}, locs: []string{"London", "London", "Manchester", "Birmingham", "Edinburgh", "Bristol", "Leeds", "*"}, radius: rBroadband,
		rdns: func(a netip.Addr) string { return "host" + dashed(a) + ".range86-128.btcentralplus.com" }},
	{key: "virgin", asn: 5089, org: "Virgin Media Limited", cc: "GB", kind: kBroadband, share: 0.4,
		v4: []string{"82.0.0.0/14"}, locs: []string{"London", "Manchester", "Leeds", "Glasgow", "Birmingham", "*"}, radius: rBroadband},
	{key: "ee", asn: 12576, org: "EE Limited", cc: "GB", kind: kMobile, share: 1,
		v4: []string{"31.94.0.0/16"}, locs: []string{"London", "*", "*"}, radius: rMobile},
	{key: "orange-fr", asn: 3215, org: "Orange S.A.", cc: "FR", kind: kBroadband, share: 0.6,
		v4: []string{"90.0.0.0/9"}, locs: []string{"Paris", "Paris", "Lyon", "Marseille", "Nice", "Toulouse", "Bordeaux", "*"}, radius: rBroadband,
		rdns: func(a netip.Addr) string {
			return "a" + dashed(a)[strings.IndexByte(dashed(a), '-')+1:] + ".lfbn.orange.fr"
		}},
	{key: "free", asn: 12322, org: "Free SAS", cc: "FR", kind: kBroadband, share: 0.4,
		v4: []string{"82.64.0.0/12"}, locs: []string{"Paris", "Lyon", "Marseille", "Toulouse", "*"}, radius: rBroadband, rdns: nameIn("subs.proxad.net")},
	{key: "orange-fr-mobile", asn: 3215, org: "Orange S.A.", cc: "FR", kind: kMobile, share: 1,
		v4: []string{"92.184.96.0/19"}, locs: []string{"Paris", "*", "*"}, radius: rMobile},
	{key: "telefonica-es", asn: 3352, org: "TELEFONICA DE ESPANA S.A.U.", cc: "ES", kind: kBroadband, share: 1,
		v4: []string{"83.32.0.0/11"}, locs: []string{"Madrid", "Madrid", "Barcelona", "Barcelona", "Valencia", "Seville", "Malaga", "Palma", "*"}, radius: rBroadband, rdns: nameIn("dyn.user.ono.com")},
	{key: "movistar-mobile", asn: 3352, org: "TELEFONICA DE ESPANA S.A.U.", cc: "ES", kind: kMobile, share: 1,
		v4: []string{"37.132.0.0/14"}, locs: []string{"Madrid", "Barcelona", "*", "*"}, radius: rMobile},
	{key: "tim", asn: 3269, org: "Telecom Italia S.p.A.", cc: "IT", kind: kBroadband, share: 1,
		v4: []string{"79.0.0.0/11"}, locs: []string{"Rome", "Milan", "Milan", "Turin", "Naples", "Florence", "Bolzano", "Verona", "*"}, radius: rBroadband},
	{key: "kpn", asn: 1136, org: "KPN B.V.", cc: "NL", kind: kBroadband, share: 1,
		v4: []string{"77.160.0.0/12"}, locs: []string{"Amsterdam", "Amsterdam", "Rotterdam", "The Hague", "Utrecht", "Eindhoven", "*"}, radius: rBroadband, rdns: nameIn("fixed.kpn.net")},
	{key: "kpn-mobile", asn: 1136, org: "KPN B.V.", cc: "NL", kind: kMobile, share: 1,
		v4: []string{"77.60.0.0/15"}, locs: []string{"Amsterdam", "*"}, radius: rMobile},
	{key: "proximus", asn: 5432, org: "Proximus NV", cc: "BE", kind: kBroadband, share: 1,
		v4: []string{"81.240.0.0/12"}, locs: []string{"Brussels", "Brussels", "Antwerp", "*"}, radius: rBroadband},
	{key: "orange-pl", asn: 5617, org: "Orange Polska Spolka Akcyjna", cc: "PL", kind: kBroadband, share: 1,
		v4: []string{"83.0.0.0/11"}, locs: []string{"Warsaw", "Warsaw", "Krakow", "Wroclaw", "Gdansk", "Poznan", "*"}, radius: rBroadband, rdns: nameIn("dynamic.neostrada.pl")},
	{key: "orange-pl-mobile", asn: 5617, org: "Orange Polska Spolka Akcyjna", cc: "PL", kind: kMobile, share: 1,
		v4: []string{"46.112.0.0/13"}, locs: []string{"Warsaw", "*", "*"}, radius: rMobile},
	{key: "o2-cz", asn: 5610, org: "O2 Czech Republic, a.s.", cc: "CZ", kind: kBroadband, share: 1,
		v4: []string{"90.176.0.0/13"}, locs: []string{"Prague", "Prague", "Brno", "*"}, radius: rBroadband},
	{key: "meo", asn: 3243, org: "MEO - SERVICOS DE COMUNICACOES E MULTIMEDIA S.A.", cc: "PT", kind: kBroadband, share: 1,
		v4: []string{"85.240.0.0/13"}, locs: []string{"Lisbon", "Lisbon", "Porto", "Faro", "*"}, radius: rBroadband},
	{key: "ote", asn: 6799, org: "OTEnet S.A.", cc: "GR", kind: kBroadband, share: 1,
		v4: []string{"79.128.0.0/13"}, locs: []string{"Athens", "Athens", "Thessaloniki", "Heraklion", "*"}, radius: rBroadband},
	{key: "ht", asn: 5391, org: "Hrvatski Telekom d.d.", cc: "HR", kind: kBroadband, share: 1,
		v4: []string{"93.136.0.0/13"}, locs: []string{"Zagreb", "Split", "Dubrovnik", "*"}, radius: rBroadband},
	{key: "telia", asn: 3301, org: "Telia Company AB", cc: "SE", kind: kBroadband, share: 1,
		v4: []string{"78.64.0.0/12"}, locs: []string{"Stockholm", "Stockholm", "Gothenburg", "*"}, radius: rBroadband},
	{key: "eir", asn: 5466, org: "Eir Broadband", cc: "IE", kind: kBroadband, share: 1,
		v4: []string{"86.40.0.0/13"}, locs: []string{"Dublin", "*"}, radius: rBroadband},
	{key: "rcs-rds", asn: 8708, org: "RCS & RDS SA", cc: "RO", kind: kBroadband, share: 1,
		v4: []string{"86.120.0.0/13"}, locs: []string{"Bucharest", "Bucharest", "Cluj-Napoca", "Iasi", "*"}, radius: rBroadband},
	{key: "kyivstar", asn: 15895, org: "Kyivstar PJSC", cc: "UA", kind: kBroadband, share: 1,
		v4: []string{"46.211.0.0/16"}, locs: []string{"Kyiv", "Kharkiv", "Odesa", "*"}, radius: rMobile},
	{key: "rostelecom", asn: 12389, org: "PJSC Rostelecom", cc: "RU", kind: kBroadband, share: 0.5,
		v4: []string{"178.64.0.0/13"}, locs: []string{"Moscow", "Saint Petersburg", "Novosibirsk", "Yekaterinburg", "*"}, radius: rBroadband},
	{key: "beeline", asn: 8402, org: "PJSC Vimpelcom", cc: "RU", kind: kBroadband, share: 0.5,
		v4: []string{"95.24.0.0/13"}, locs: []string{"Moscow", "Moscow", "Saint Petersburg", "*"}, radius: rBroadband},
	{key: "turktelekom", asn: 9121, org: "Turk Telekomunikasyon Anonim Sirketi", cc: "TR", kind: kBroadband, share: 1,
		v4: []string{"78.160.0.0/11"}, locs: []string{"Istanbul", "Istanbul", "Ankara", "Izmir", "Antalya", "*"}, radius: rBroadband},

	// the rest of the world
	{key: "comcast", asn: 7922, org: "COMCAST-7922", cc: "US", kind: kBroadband, share: 0.4,
		v4: []string{"73.0.0.0/8"}, v6: []string{"2601::/20"}, v6share: 0.5,
		locs: []string{"Philadelphia", "Chicago", "Denver", "Houston", "Atlanta", "Seattle", "San Francisco", "New York", "*"}, radius: rBroadband,
		rdns: func(a netip.Addr) string { return "c-" + dashed(a) + ".hsd1.il.comcast.net" }},
	{key: "spectrum", asn: 12271, org: "TWC-12271-NYC", cc: "US", kind: kBroadband, share: 0.3,
		v4: []string{"66.108.0.0/15"}, locs: []string{"New York", "New York", "*"}, radius: rBroadband, rdns: nameIn("res.spectrum.com")},
	{key: "verizon", asn: 701, org: "UUNET", cc: "US", kind: kBroadband, share: 0.3,
		v4: []string{"71.160.0.0/11"}, locs: []string{"New York", "Philadelphia", "Ashburn", "Seattle", "*"}, radius: rBroadband},
	{key: "tmobile-us", asn: 21928, org: "T-MOBILE-AS21928", cc: "US", kind: kMobile, share: 1,
		v4: []string{"172.32.0.0/11"}, v6: []string{"2607:fb90::/32"}, v6share: 0.7, locs: []string{"*", "*", "Seattle", "New York"}, radius: rMobile},
	{key: "rogers", asn: 812, org: "ROGERS-COMMUNICATIONS", cc: "CA", kind: kBroadband, share: 1,
		v4: []string{"99.224.0.0/11"}, locs: []string{"Toronto", "*"}, radius: rBroadband},
	{key: "telmex", asn: 8151, org: "UNINET", cc: "MX", kind: kBroadband, share: 1,
		v4: []string{"189.128.0.0/10"}, locs: []string{"Mexico City", "Guadalajara", "Monterrey", "*"}, radius: rBroadband},
	{key: "vivo", asn: 26599, org: "TELEFONICA BRASIL S.A", cc: "BR", kind: kBroadband, share: 0.5,
		v4: []string{"187.64.0.0/11"}, locs: []string{"São Paulo", "São Paulo", "Rio de Janeiro", "Belo Horizonte", "Curitiba", "*"}, radius: rBroadband},
	{key: "claro-br", asn: 28573, org: "Claro NXT Telecomunicacoes Ltda", cc: "BR", kind: kBroadband, share: 0.5,
		v4: []string{"177.128.0.0/12"}, locs: []string{"São Paulo", "Rio de Janeiro", "Recife", "*"}, radius: rBroadband},
	{key: "telecom-ar", asn: 7303, org: "Telecom Argentina S.A.", cc: "AR", kind: kBroadband, share: 1,
		v4: []string{"181.0.0.0/12"}, locs: []string{"Buenos Aires", "Córdoba", "*"}, radius: rBroadband},
	{key: "airtel-ng", asn: 36873, org: "Airtel Networks Limited", cc: "NG", kind: kBroadband, share: 1,
		v4: []string{"105.112.0.0/12"}, locs: []string{"Lagos", "Lagos", "Abuja", "*"}, radius: rMobile},
	{key: "tedata", asn: 8452, org: "TE Data", cc: "EG", kind: kBroadband, share: 1,
		v4: []string{"41.32.0.0/12"}, locs: []string{"Cairo", "Alexandria", "*"}, radius: rBroadband},
	{key: "iam", asn: 6713, org: "Office National des Postes et Telecommunications ONPT (Maroc Telecom) / IAM", cc: "MA", kind: kBroadband, share: 1,
		v4: []string{"105.128.0.0/11"}, locs: []string{"Casablanca", "Rabat", "*"}, radius: rBroadband},
	{key: "etisalat", asn: 5384, org: "Emirates Telecommunications Group Company (etisalat group) PJSC", cc: "AE", kind: kBroadband, share: 1,
		v4: []string{"94.200.0.0/13"}, locs: []string{"Dubai", "Dubai", "Abu Dhabi", "*"}, radius: rBroadband},
	{key: "airtel-in", asn: 24560, org: "Bharti Airtel Ltd., Telemedia Services", cc: "IN", kind: kBroadband, share: 0.5,
		v4: []string{"122.160.0.0/12"}, locs: []string{"Mumbai", "Delhi", "Bengaluru", "Chennai", "Kolkata", "*"}, radius: rBroadband},
	{key: "jio", asn: 55836, org: "Reliance Jio Infocomm Limited", cc: "IN", kind: kBroadband, share: 0.5,
		v4: []string{"49.32.0.0/11"}, locs: []string{"Mumbai", "Delhi", "*", "*"}, radius: rMobile},
	{key: "ptcl", asn: 17557, org: "Pakistan Telecommunication Company Limited", cc: "PK", kind: kBroadband, share: 1,
		v4: []string{"39.32.0.0/11"}, locs: []string{"Karachi", "Lahore", "Islamabad", "*"}, radius: rBroadband},
	{key: "true", asn: 7470, org: "TRUE INTERNET Co.,Ltd.", cc: "TH", kind: kBroadband, share: 1,
		v4: []string{"171.96.0.0/13"}, locs: []string{"Bangkok", "Bangkok", "Chiang Mai", "Phuket", "*"}, radius: rBroadband},
	{key: "vnpt", asn: 45899, org: "VNPT Corp", cc: "VN", kind: kBroadband, share: 0.5,
		v4: []string{"113.160.0.0/11"}, locs: []string{"Hanoi", "Ho Chi Minh City", "Da Nang", "*"}, radius: rBroadband},
	{key: "viettel", asn: 7552, org: "Viettel Group", cc: "VN", kind: kBroadband, share: 0.5,
		v4: []string{"27.64.0.0/12"}, locs: []string{"Hanoi", "Ho Chi Minh City", "*"}, radius: rBroadband},
	{key: "telkom-id", asn: 7713, org: "PT Telekomunikasi Indonesia", cc: "ID", kind: kBroadband, share: 1,
		v4: []string{"36.64.0.0/11"}, locs: []string{"Jakarta", "Surabaya", "Bandung", "*"}, radius: rBroadband},
	{key: "pldt", asn: 9299, org: "Philippine Long Distance Telephone Company", cc: "PH", kind: kBroadband, share: 1,
		v4: []string{"112.198.0.0/15"}, locs: []string{"Manila", "Cebu City", "*"}, radius: rBroadband},
	{key: "singtel", asn: 9506, org: "Singtel Fibre Broadband", cc: "SG", kind: kBroadband, share: 1,
		v4: []string{"116.14.0.0/15"}, locs: []string{"Singapore"}, radius: rBroadband},
	{key: "chinanet", asn: 4134, org: "CHINANET-BACKBONE", cc: "CN", kind: kBroadband, share: 0.6,
		v4: []string{"58.208.0.0/12", "101.80.0.0/13"}, locs: []string{"Shanghai", "Nanjing", "Suzhou", "Shanghai", "*"}, radius: rBroadband},
	{key: "unicom", asn: 4837, org: "CHINA UNICOM China169 Backbone", cc: "CN", kind: kBroadband, share: 0.4,
		v4: []string{"123.112.0.0/12"}, locs: []string{"Beijing", "Beijing", "Tianjin", "Shenyang", "*"}, radius: rBroadband},
	{key: "kt", asn: 4766, org: "Korea Telecom", cc: "KR", kind: kBroadband, share: 1,
		v4: []string{"121.128.0.0/10"}, locs: []string{"Seoul", "Seoul", "Busan", "*"}, radius: rBroadband},
	{key: "ntt", asn: 4713, org: "NTT Communications Corporation", cc: "JP", kind: kBroadband, share: 1,
		v4: []string{"153.128.0.0/10"}, locs: []string{"Tokyo", "Tokyo", "Osaka", "*"}, radius: rBroadband},
	{key: "telstra", asn: 1221, org: "Telstra Corporation Ltd", cc: "AU", kind: kBroadband, share: 1,
		v4: []string{"1.120.0.0/13"}, locs: []string{"Sydney", "Melbourne", "*"}, radius: rBroadband},
}

func dashedRev(a netip.Addr) string {
	b := a.As4()
	return fmt.Sprintf("%d.%d.%d.%d", b[3], b[2], b[1], b[0])
}

var networkByKey = map[string]*network{}

func init() {
	for _, n := range networks {
		networkByKey[n.key] = n
		for _, s := range n.v4 {
			n.p4 = append(n.p4, netip.MustParsePrefix(s))
		}
		for _, s := range n.v6 {
			n.p6 = append(n.p6, netip.MustParsePrefix(s))
		}
		n.bits4, n.bits6 = 20, 40
		for _, p := range n.p4 {
			n.bits4 = max(n.bits4, p.Bits())
		}
		for _, p := range n.p6 {
			n.bits6 = max(n.bits6, p.Bits())
		}
		for _, l := range n.locs {
			if l != "*" && !strings.HasPrefix(l, "*") && cities[l] == nil {
				panic("network " + n.key + ": no city " + l)
			}
		}
	}
}

// A place in a database: a city, or a country's centre.
type place struct {
	city     string // "" when known only by country
	cc       string
	lat, lon float64
	radius   uint16
}

// loc is where n's i-th block is.
func (n *network) loc(i int) place {
	l := n.locs[i%len(n.locs)]
	if cc, ok := strings.CutPrefix(l, "*"); ok {
		if cc == "" {
			cc = n.cc
		}
		c := countryLoc[cc]
		return place{cc: cc, lat: c.lat, lon: c.lon, radius: c.radius}
	}
	c := cities[l]
	r := n.radius[(i/len(n.locs))%len(n.radius)]
	return place{city: c.name, cc: c.cc, lat: c.lat, lon: c.lon, radius: r}
}

// blocks is how many blocks n has in a family.
func (n *network) blocks(v6 bool) int {
	ps, bits := n.p4, n.bits4
	if v6 {
		ps, bits = n.p6, n.bits6
	}
	total := 0
	for _, p := range ps {
		total += 1 << min(bits-p.Bits(), 20)
	}
	return total
}

// block returns n's i-th block in a family.
func (n *network) block(v6 bool, i int) netip.Prefix {
	ps, bits := n.p4, n.bits4
	if v6 {
		ps, bits = n.p6, n.bits6
	}
	for _, p := range ps {
		k := 1 << min(bits-p.Bits(), 20)
		if i < k {
			return netip.PrefixFrom(offset(p.Addr(), uint64(i), bits), bits)
		}
		i -= k
	}
	panic("block out of range")
}

// offset adds i times the size of a /bits network to a.
func offset(a netip.Addr, i uint64, bits int) netip.Addr {
	b := a.As16()
	total := 128
	if a.Is4() {
		total = 32
		var x [16]byte
		copy(x[12:], b[12:])
		b = x
		bits += 96
		total = 128
	}
	// add i << (total-bits) to the 128-bit number b
	shift := total - bits
	hi, lo := beUint64(b[:8]), beUint64(b[8:])
	var addHi, addLo uint64
	if shift >= 64 {
		addHi = i << (shift - 64)
	} else {
		addLo = i << shift
		if shift > 0 {
			addHi = i >> (64 - shift)
		}
	}
	lo2 := lo + addLo
	if lo2 < lo {
		hi++
	}
	hi += addHi
	putUint64(b[:8], hi)
	putUint64(b[8:], lo2)
	if a.Is4() {
		return netip.AddrFrom4([4]byte(b[12:]))
	}
	return netip.AddrFrom16(b)
}

func beUint64(b []byte) uint64 {
	var v uint64
	for _, x := range b {
		v = v<<8 | uint64(x)
	}
	return v
}

func putUint64(b []byte, v uint64) {
	for i := 7; i >= 0; i-- {
		b[i] = byte(v)
		v >>= 8
	}
}

// blocksAt lists the indexes of n's blocks (in a family) placed within km
// of c, and, when none is, those placed at the country's centre.
func (n *network) blocksAt(v6 bool, c *city, km float64) []int {
	var near, country []int
	total := n.blocks(v6)
	for i := 0; i < total && i < 64*len(n.locs); i++ {
		p := n.loc(i)
		if p.city == "" {
			if p.cc == c.cc {
				country = append(country, i)
			}
			continue
		}
		if distance(p.lat, p.lon, c.lat, c.lon) <= km {
			near = append(near, i)
		}
	}
	if len(near) == 0 {
		return country
	}
	return near
}

// distance is the great-circle distance in km.
func distance(lat1, lon1, lat2, lon2 float64) float64 {
	const r = 6371.0
	rad := math.Pi / 180
	dlat, dlon := (lat2-lat1)*rad, (lon2-lon1)*rad
	a := math.Sin(dlat/2)*math.Sin(dlat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dlon/2)*math.Sin(dlon/2)
	return 2 * r * math.Asin(math.Sqrt(a))
}
