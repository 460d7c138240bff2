package record

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// The Encoder's cached seconds give what time.RFC3339Nano gives, whether
// the next record shares the second, the zone, neither or both.
func TestEncoderTime(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	locs := []*time.Location{time.UTC, berlin, time.FixedZone("", 5*3600+30*60), time.FixedZone("X", -7*3600), time.Local}
	r := rand.New(rand.NewPCG(5, 6))
	var e Encoder
	base := time.Date(2026, 3, 29, 0, 59, 58, 0, time.UTC) // Berlin changes to summer time at 01:00 UTC
	for i := range 20000 {
		var ts time.Time
		switch i % 4 {
		case 0: // around a zone change, often in the same second as the last
			ts = base.Add(time.Duration(r.IntN(4000)) * time.Millisecond)
		case 1: // nanoseconds of every length
			ts = base.Add(time.Duration(r.Int64N(1e12)))
		case 2: // far years, negative ones included
			ts = time.Unix(r.Int64N(1<<40)-1<<39, r.Int64N(1e9))
		case 3:
			ts = time.Unix(1764239536, 0)
		}
		ts = ts.In(locs[r.IntN(len(locs))])
		got := string(e.appendTime(nil, ts))
		if want := ts.Format(time.RFC3339Nano); got != want {
			t.Fatalf("%v: got %s, want %s", ts, got, want)
		}
	}
}

// AppendJSON writes what encoding/json reads back as the same fields.
func TestEncoderMatchesEncodingJSON(t *testing.T) {
	from := "a\"b\\c\x01"
	r := &Record{Type: TypeReject, Time: time.Date(2026, 11, 27, 10, 32, 16, 120000000, time.UTC), Host: "h", Service: "postfix/smtpd",
		PID: 42, QueueID: "Q", User: "ü\xff", IP: "192.0.2.1", Port: 65535, From: &from, To: new(string), SrcFile: "f", SrcLine: 1 << 40,
		AccuracyKM: -3, ASN: 4294967295, EnrichErrors: []string{"x", "y"}}
	b := AppendJSON([]byte("prefix"), r)
	if !strings.HasPrefix(string(b), "prefix{") {
		t.Fatalf("got %s", b)
	}
	var m map[string]any
	if err := json.Unmarshal(b[len("prefix"):], &m); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	for k, want := range map[string]any{"type": "reject", "time": "2026-11-27T10:32:16.12Z", "pid": 42.0, "user": "ü\ufffd",
		"port": 65535.0, "from": from, "to": "", "src": "f:1099511627776", "accuracy_km": -3.0, "asn": 4294967295.0} {
		if m[k] != want {
			t.Errorf("%s: got %#v, want %#v", k, m[k], want)
		}
	}
	if got := string(AppendJSON(nil, &Record{})); got != "{}" {
		t.Errorf("empty record: %s", got)
	}
}
