package record

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the zones below, wherever the test runs
)

// The Encoder's cached seconds give what time.RFC3339Nano gives, whether
// the next record shares the second, the zone, neither or both.
func TestEncoderTime(t *testing.T) {
	locs := []*time.Location{time.UTC, time.FixedZone("", 5*3600+30*60), time.FixedZone("X", -7*3600), time.Local,
		time.FixedZone("seconds", -(3600 + 23*60 + 17))}
	// Berlin changes to summer time on 2026-03-29 at 01:00 UTC, Lord Howe
	// by half an hour, Kathmandu is 5:45 ahead, Apia skipped a day.
	for _, name := range []string{"Europe/Berlin", "Australia/Lord_Howe", "Asia/Kathmandu", "Pacific/Apia", "America/St_Johns"} {
		l, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		locs = append(locs, l)
	}
	r := rand.New(rand.NewPCG(5, 6))
	var e Encoder
	base := time.Date(2026, 3, 29, 0, 59, 58, 0, time.UTC)
	for i := range 50000 {
		var ts time.Time
		switch i % 5 {
		case 0: // around a zone change, often in the same second as the last
			ts = base.Add(time.Duration(r.IntN(4000)) * time.Millisecond)
		case 1: // nanoseconds of every length
			ts = base.Add(time.Duration(r.Int64N(1e12)))
		case 2: // far years, negative ones included
			ts = time.Unix(r.Int64N(1<<40)-1<<39, r.Int64N(1e9))
		case 3:
			ts = time.Unix(1764239536, 0)
		case 4: // around other zone changes and midnights, in order
			ts = time.Date(2011, 12, 29, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * 7 * time.Minute)
		}
		ts = ts.In(locs[i/97%len(locs)]) // a run of records in each zone
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

// Strings of every length up to 20, with a byte that needs care at every
// position, come back from encoding/json as they went in (invalid UTF-8 as
// U+FFFD).
func TestStringEscapingEveryPosition(t *testing.T) {
	for _, special := range []string{`"`, `\`, "\x00", "\x1f", "\n", "\x7f", "\x80", "\xff", "é", "\u2028", "<"} {
		for n := 0; n <= 20; n++ {
			for pos := 0; pos <= n; pos++ {
				s := strings.Repeat("a", pos) + special + strings.Repeat("b", n-pos)
				out := appendString(nil, s)
				var back string
				if err := json.Unmarshal(out, &back); err != nil {
					t.Fatalf("%q: %v: %s", s, err, out)
				}
				if want := strings.ToValidUTF8(s, "\ufffd"); back != want {
					t.Fatalf("%q: came back as %q", s, back)
				}
				if plain(s) != (special == "<" || special == "\x7f") { // both allowed raw in JSON
					t.Fatalf("plain(%q) = %v", s, plain(s))
				}
			}
		}
	}
}

func BenchmarkAppendJSON(b *testing.B) {
	r := &Record{Type: TypeLogin, Time: time.Date(2026, 11, 27, 10, 32, 16, 0, time.Local), Host: "mail",
		Service: "postfix/submission/smtpd", PID: 8251, QueueID: "CEED5BA1AA", User: "alice@example.test", IP: "187.45.12.9",
		ClientName: "187-45-12-9.user.vivozap.com.br", Method: "PLAIN", SrcFile: "/var/log/mail.log", SrcLine: 123456}
	var e Encoder
	var out []byte
	for b.Loop() {
		out = e.AppendJSON(out[:0], r)
	}
	b.SetBytes(int64(len(out)))
}

func TestAppendInt(t *testing.T) {
	for _, n := range []int64{0, 1, 9, 10, 11, 99, 100, 65535, 1 << 40, 999999999999999, 1e15, math.MaxInt64, -1, math.MinInt64} {
		if got, want := string(appendInt([]byte("x"), n)), "x"+strconv.FormatInt(n, 10); got != want {
			t.Errorf("appendInt(%d) = %s, want %s", n, got, want)
		}
	}
}

// A byte that is not UTF-8 and U+FFFD, which replaces it, are written
// alike: a record made valid in the parser is written as one that was not.
func TestReplacementWrittenAlike(t *testing.T) {
	for _, s := range []string{"a\xffb", "a\uFFFDb"} {
		if got := string(appendString(nil, s)); got != `"a\ufffdb"` {
			t.Errorf("%q: %s", s, got)
		}
	}
}
