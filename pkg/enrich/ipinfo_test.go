package enrich

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/record"
)

const token = "s3cr3t-t0ken"

// ipinfoServer answers as ipinfo.io does (the /IP/json shape), over TLS,
// with per-address behaviour: fail N times with a status first, or always.
func ipinfoServer(t *testing.T, failFirst map[string][2]int) (*httptest.Server, *atomic.Int64) {
	var calls atomic.Int64
	counts := map[string]int{}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(w, `{"error":{"title":"Wrong token"}}`, http.StatusForbidden)
			return
		}
		if strings.Contains(r.URL.RawQuery, token) {
			t.Error("the token is in the URL")
		}
		ip := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/"), "/json")
		if f, ok := failFirst[ip]; ok && (f[1] < 0 || counts[ip] < f[1]) {
			counts[ip]++
			if f[0] == http.StatusTooManyRequests {
				w.Header().Set("Retry-After", "0")
			}
			w.WriteHeader(f[0])
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch ip {
		case "10.1.2.3":
			w.Write([]byte(`{"ip": "10.1.2.3", "bogon": true}`))
		case "8.8.8.8":
			w.Write([]byte(`{"ip": "8.8.8.8", "hostname": "dns.google", "city": "Mountain View", "region": "California", "country": "US", "loc": "37.4056,-122.0775", "org": "AS15169 Google LLC", "postal": "94043", "timezone": "America/Los_Angeles"}`))
		default:
			w.Write([]byte(`{"ip": "` + ip + `", "city": "Budapest", "region": "Budapest", "country": "HU", "loc": "47.4984,19.0404", "org": "AS6830 Liberty Global B.V.", "timezone": "Europe/Budapest"}`))
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func newIPinfo(srv *httptest.Server, tok string) *IPinfo {
	return &IPinfo{Token: tok, BaseURL: srv.URL, Client: srv.Client(), Backoff: time.Millisecond}
}

func TestIPinfo(t *testing.T) {
	srv, _ := ipinfoServer(t, map[string][2]int{
		"176.63.195.207": {http.StatusTooManyRequests, 2},     // rate limited twice, then fine
		"176.63.195.208": {http.StatusInternalServerError, 1}, // a 500, then fine
		"176.63.195.209": {http.StatusBadGateway, -1},         // always down
	})
	p := newIPinfo(srv, token)
	ctx := context.Background()
	g, err := p.Lookup(ctx, netip.MustParseAddr("8.8.8.8"))
	if err != nil || g != (Geo{Country: "US", City: "Mountain View", HasLoc: true, Lat: 37.4056, Lon: -122.0775, ASN: 15169, Org: "Google LLC"}) {
		t.Errorf("8.8.8.8: %+v %v", g, err)
	}
	if g, err := p.Lookup(ctx, netip.MustParseAddr("10.1.2.3")); err != nil || g != (Geo{}) {
		t.Errorf("bogon: %+v %v", g, err)
	}
	for _, ip := range []string{"176.63.195.207", "176.63.195.208"} {
		if g, err := p.Lookup(ctx, netip.MustParseAddr(ip)); err != nil || g.Country != "HU" || g.ASN != 6830 {
			t.Errorf("%s after retries: %+v %v", ip, g, err)
		}
	}
	if _, err := p.Lookup(ctx, netip.MustParseAddr("176.63.195.209")); err == nil || err.Error() != "ipinfo: HTTP 502" {
		t.Errorf("down: %v", err)
	}
	if p.stopped.Load() != nil {
		t.Error("stopped after server errors")
	}
	if _, err := (&IPinfo{BaseURL: "http://ipinfo.io"}).Lookup(ctx, netip.MustParseAddr("8.8.8.8")); err == nil || !strings.Contains(err.Error(), "not an https URL") {
		t.Errorf("plain http: %v", err)
	}
}

// A spent quota (429 that does not go away) or a refused token stops the
// asking; the records say why; the token appears in no message.
func TestIPinfoStops(t *testing.T) {
	srv, calls := ipinfoServer(t, map[string][2]int{"8.8.8.8": {http.StatusTooManyRequests, -1}})
	p := newIPinfo(srv, token)
	out := runStage(t, New(Options{IPinfo: p}), "8.8.8.8")
	// lookups run at once, so the stop shows from the next ones on
	out = append(out, runStage(t, New(Options{IPinfo: p}), "176.63.195.207", "176.63.195.210")...)
	if n := calls.Load(); n != 4 { // the first address, tried 1+3 times; then no more
		t.Errorf("%d calls", n)
	}
	for _, line := range out {
		if !strings.Contains(line, `"enrich_errors":["geo: ipinfo: quota exceeded (HTTP 429); not asked again in this run"]`) {
			t.Errorf("record without the reason: %s", line)
		}
	}

	srv2, calls2 := ipinfoServer(t, nil)
	p = newIPinfo(srv2, "wrong-token")
	out = runStage(t, New(Options{IPinfo: p}), "8.8.8.8")
	out = append(out, runStage(t, New(Options{IPinfo: p}), "176.63.195.207")...)
	if calls2.Load() != 1 || !strings.Contains(out[1], "token refused (HTTP 403)") {
		t.Errorf("%d calls, %s", calls2.Load(), out[1])
	}
	for _, line := range out {
		if strings.Contains(line, "wrong-token") {
			t.Error("the token leaked into a record")
		}
	}
}

// ipinfo fills what the local databases do not know, and its answers are
// cached.
func TestIPinfoWithDatabasesAndCache(t *testing.T) {
	srv, calls := ipinfoServer(t, nil)
	path := filepath.Join(t.TempDir(), "cache.db")
	run := func() []string {
		c, err := OpenCache(path, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		e := New(Options{IPinfo: newIPinfo(srv, token), Geo: geoSet(t), Cache: c})
		return runStage(t, e, "187.45.12.9", "8.8.8.8", "8.8.8.8")
	}
	first := run()
	if calls.Load() != 1 { // 187.45.12.9 is fully known locally
		t.Errorf("%d calls", calls.Load())
	}
	if !strings.Contains(first[1], `"country":"US","city":"Mountain View"`) || !strings.Contains(first[0], `"asn":28573`) {
		t.Errorf("got %s", strings.Join(first, "\n"))
	}
	second := run()
	if calls.Load() != 1 || strings.Join(first, "\n") != strings.Join(second, "\n") {
		t.Errorf("second run: %d calls\n%s", calls.Load(), strings.Join(second, "\n"))
	}
	_ = record.TypeLogin
}

// A country from ipinfo.io is taken only as two letters A-Z (after trimming
// and upper-casing); anything else is left out and named, escaped, in
// enrich_errors, while the rest of the answer is kept and nothing is cached.
func TestIPinfoCountry(t *testing.T) {
	answers := map[string]string{
		"192.0.2.1": `{"country": "US", "city": "Ashburn", "org": "AS14618 Amazon.com, Inc."}`,
		"192.0.2.2": `{"country": " de ", "city": "Berlin"}`,
		"192.0.2.3": `{"country": "USA", "city": "Boston"}`,
		"192.0.2.4": `{"country": "\u001b]0;owned\u0007", "city": "Nowhere", "org": "AS64500 Example"}`,
		"192.0.2.5": `{"country": "\u202eSU", "city": "Moscow"}`,
		"192.0.2.6": `{"country": "1A"}`,
		"192.0.2.7": `{"country": "ÄB"}`,
		"192.0.2.8": `{"city": "Lost"}`,
		"192.0.2.9": `{"country": "` + strings.Repeat("X", 100) + `"}`,
	}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/"), "/json")
		w.Write([]byte(answers[ip]))
	}))
	t.Cleanup(srv.Close)
	for _, c := range []struct {
		ip      string
		country string
		city    string
		err     string
	}{
		{"192.0.2.1", "US", "Ashburn", ""},
		{"192.0.2.2", "DE", "Berlin", ""},
		{"192.0.2.3", "", "Boston", `ipinfo: country "USA" is not a two-letter code; left out`},
		{"192.0.2.4", "", "Nowhere", `ipinfo: country "\x1b]0;owned\a" is not a two-letter code; left out`},
		{"192.0.2.5", "", "Moscow", `ipinfo: country "\u202eSU" is not a two-letter code; left out`},
		{"192.0.2.6", "", "", `ipinfo: country "1A" is not a two-letter code; left out`},
		{"192.0.2.7", "", "", `ipinfo: country "\u00c4B" is not a two-letter code; left out`},
		{"192.0.2.8", "", "Lost", ""},
		{"192.0.2.9", "", "", `ipinfo: country "XXXXXXXXXXXXXXXX"… is not a two-letter code; left out`},
	} {
		p := newIPinfo(srv, token)
		g, err := p.Lookup(context.Background(), netip.MustParseAddr(c.ip))
		if g.Country != c.country || g.City != c.city {
			t.Errorf("%s: %+v, want country %q city %q", c.ip, g, c.country, c.city)
		}
		if got := fmt.Sprint(err); (err == nil) != (c.err == "") || err != nil && got != c.err {
			t.Errorf("%s: error %s, want %s", c.ip, got, c.err)
		}
	}

	// Through the stage, with a cache: the record keeps city and AS, names
	// the bad country, and the answer is asked again next time.
	path := filepath.Join(t.TempDir(), "cache.db")
	for run := 0; run < 2; run++ {
		cache, err := OpenCache(path, 0)
		if err != nil {
			t.Fatal(err)
		}
		e := New(Options{IPinfo: newIPinfo(srv, token), Cache: cache})
		out := runStage(t, e, "192.0.2.4")
		cache.Close()
		want := `{"type":"login","user":"u0","ip":"192.0.2.4","city":"Nowhere","asn":64500,"org":"Example","enrich_errors":["geo: ipinfo: country \"\\x1b]0;owned\\a\" is not a two-letter code; left out"]}`
		if len(out) != 1 || out[0] != want {
			t.Errorf("run %d: got\n%s\nwant\n%s", run, strings.Join(out, "\n"), want)
		}
		if s := e.Stats().Summary(); s != "ipinfo.io: country is not a two-letter code ×1" {
			t.Errorf("run %d: summary %q", run, s)
		}
	}
}
