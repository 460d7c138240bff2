package record

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

func sample() *Record {
	return &Record{
		Type: TypeReject, Time: time.Date(2026, 11, 27, 10, 32, 16, 500000000, time.FixedZone("", 3600)),
		Host: "mail", Service: "postfix/smtpd", PID: 8259, QueueID: "17D8EBA1AE",
		User: "bob@example.test", IP: "2001:db8::1", ClientName: "unknown", Port: 4711,
		Method: "PLAIN", Sender: "bob@example.test", From: Str(""), To: Str("x@example.net"),
		Command: "RCPT", Reason: "450 4.7.1 Quota per hour exceeded",
		SrcFile: "/var/log/mail.log.1", SrcLine: 42,
		RDNS: "x.example.net", RDNSVerified: Bool(false), Country: "BR", City: "São Paulo",
		HasLoc: true, Lat: -23.5475, Lon: -46.63611, AccuracyKM: 20, ASN: 28573, Org: "Claro NXT",
		EnrichErrors: []string{"rdns: timeout"},
	}
}

func TestRoundTrip(t *testing.T) {
	r := sample()
	r.Extra = []Field{{"note", []byte(`"x.example.net"`)}, {"tags", []byte(`["a",{"b":1}]`)}}
	line := AppendJSON(nil, r)
	if !json.Valid(line) {
		t.Fatalf("invalid JSON: %s", line)
	}
	var got Record
	if err := Decode(line, &got); err != nil {
		t.Fatal(err)
	}
	if !got.Time.Equal(r.Time) {
		t.Errorf("time %v, want %v", got.Time, r.Time)
	}
	got.Time, r.Time = time.Time{}, time.Time{}
	if !reflect.DeepEqual(&got, r) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, *r)
	}
}

func TestEncodeShape(t *testing.T) {
	r := &Record{Type: TypeLogin, User: "a", From: Str("")}
	got := string(AppendJSON(nil, r))
	want := `{"type":"login","user":"a","from":""}`
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	r = sample()
	got = string(AppendJSON(nil, r))
	want = `{"type":"reject","time":"2026-11-27T10:32:16.5+01:00","host":"mail","service":"postfix/smtpd","pid":8259,"queue_id":"17D8EBA1AE","user":"bob@example.test","ip":"2001:db8::1","client_name":"unknown","port":4711,"method":"PLAIN","sender":"bob@example.test","from":"","to":"x@example.net","command":"RCPT","reason":"450 4.7.1 Quota per hour exceeded","rdns":"x.example.net","rdns_verified":false,"country":"BR","city":"São Paulo","lat":-23.5475,"lon":-46.63611,"accuracy_km":20,"asn":28573,"org":"Claro NXT","enrich_errors":["rdns: timeout"],"src":"/var/log/mail.log.1:42"}`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// Strings from the network can hold anything; the output must stay valid
// JSON and say the same thing as encoding/json would.
func TestEscaping(t *testing.T) {
	for _, s := range []string{
		"plain", `quo"te`, `back\slash`, "tab\tnew\nline\r", "\x00\x01\x1f\x7f",
		"ünïcödé ✓ 😀", "bad\xffutf8\xc3", "\u2028\u2029", "\x1b[31mred\x1b[0m", strings.Repeat("x", 100) + `"`,
	} {
		line := AppendJSON(nil, &Record{User: s})
		if !json.Valid(line) {
			t.Errorf("%q: invalid JSON %s", s, line)
			continue
		}
		var m map[string]string
		json.Unmarshal(line, &m)
		want := strings.ToValidUTF8(s, "\uFFFD")
		if m["user"] != want {
			t.Errorf("%q: decoded %q, want %q", s, m["user"], want)
		}
		var r Record
		if err := Decode(line, &r); err != nil || r.User != want {
			t.Errorf("%q: Decode %q, %v", s, r.User, err)
		}
	}
}

func TestUnknownFieldsPassThrough(t *testing.T) {
	in := `{"my_note":"keep me","type":"login","nested":{"a":[1,2,{"b":null}]},"user":"u","n":-1.5e3,"t":true,"USER":"other"}`
	var r Record
	if err := Decode([]byte(in), &r); err != nil {
		t.Fatal(err)
	}
	if r.Type != "login" || r.User != "u" {
		t.Errorf("known fields: %+v", r)
	}
	got := string(AppendJSON(nil, &r))
	want := `{"type":"login","user":"u","my_note":"keep me","nested":{"a":[1,2,{"b":null}]},"n":-1.5e3,"t":true,"USER":"other"}`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestDuplicateKeysLastWins(t *testing.T) {
	var r Record
	if err := Decode([]byte(`{"user":"a","x":1,"user":"b","x":2}`), &r); err != nil {
		t.Fatal(err)
	}
	if r.User != "b" || string(r.Get("x")) != "2" || len(r.Extra) != 1 {
		t.Errorf("got %+v", r)
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, in := range []string{
		``, `[]`, `"s"`, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a":1} x`, `{"pid":"12"}`,
		`{"pid":1.5}`, `{"time":"yesterday"}`, `{"user":5}`, `{"a":tru}`, `{"a":01}`,
		`{"a":"\x"}`, "{\"a\":\"\x01\"}", `{"a":[1,}`, `{"a":{"b":1]}`, `{"from":1}`,
	} {
		var r Record
		if err := Decode([]byte(in), &r); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}

func TestReader(t *testing.T) {
	long := `{"x":"` + strings.Repeat("a", MaxLine) + `"}`
	in := strings.Join([]string{
		`{"type":"login","user":"a"}`,
		``,
		`not json`,
		long,
		`  {"type":"login","user":"b"}  `,
		`{"type":"login","user":"c"}`, // no newline at the end
	}, "\n")
	rd := NewReader(strings.NewReader(in), "in.ndjson")
	var users []string
	var bad []string
	for {
		r, err := rd.Next()
		if err == io.EOF {
			break
		}
		var le *LineError
		if errors.As(err, &le) {
			bad = append(bad, le.Error()[:min(len(le.Error()), 40)])
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		users = append(users, r.User)
	}
	if strings.Join(users, ",") != "a,b,c" {
		t.Errorf("users %v", users)
	}
	if len(bad) != 2 || !strings.HasPrefix(bad[0], "in.ndjson:3: malformed record") || !strings.HasPrefix(bad[1], "in.ndjson:4: malformed record: longer") {
		t.Errorf("errors %q", bad)
	}
}

func TestWriter(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	w.Write(&Record{Type: "login", User: "a"})
	w.Write(&Record{Type: "login", User: "b"})
	if buf.Len() != 0 {
		t.Error("writer is not buffered")
	}
	w.Flush()
	if got := buf.String(); got != "{\"type\":\"login\",\"user\":\"a\"}\n{\"type\":\"login\",\"user\":\"b\"}\n" {
		t.Errorf("got %q", got)
	}
}

// A record of 96,000 unknown fields (just under 1 MiB) is read in time
// linear in its size. The decoder's key comparisons and lookups are
// counted, not timed: before the index, each field was compared with every
// earlier one, 4.6 billion comparisons here.
func TestManyUnknownFields(t *testing.T) {
	for _, n := range []int{0, 1, indexFrom - 1, indexFrom, indexFrom + 1, 1000, 96000} {
		line := manyKeys(n)
		var r Record
		d := decoder{s: line}
		if err := d.object(&r); err != nil {
			t.Fatalf("%d fields: %v", n, err)
		}
		if len(r.Extra) != n {
			t.Fatalf("%d fields: %d kept", n, len(r.Extra))
		}
		// At most indexFrom comparisons for each of the first fields,
		// then one index for them, then one lookup per field.
		if limit := indexFrom*indexFrom + 2*n; d.ops > limit {
			t.Errorf("%d fields: %d operations, want at most %d", n, d.ops, limit)
		}
		// Kept in input order: encoded, it is the same text again.
		if got := AppendJSON(nil, &r); !bytes.Equal(got, line) {
			t.Errorf("%d fields: encoded differently", n)
		}
	}
	line := manyKeys(96000)
	if len(line) > MaxLine {
		t.Fatalf("the record is %d bytes, more than a Reader takes", len(line))
	}
	r, err := NewReader(bytes.NewReader(append(line, '\n')), "big").Next()
	if err != nil || len(r.Extra) != 96000 {
		t.Fatalf("Reader: %v", err)
	}
}

// With the index or without it, a key given again keeps its first place
// and takes its last value, as Set does.
func TestUnknownFieldsRepeated(t *testing.T) {
	rnd := rand.New(rand.NewPCG(9, 10))
	for range 300 {
		var sb strings.Builder
		var want Record
		sb.WriteString("{")
		n := rnd.IntN(4 * indexFrom)
		for i := range n {
			if i > 0 {
				sb.WriteString(",")
			}
			key := "k" + strconv.Itoa(rnd.IntN(3*indexFrom))
			val := strconv.Itoa(i)
			sb.WriteString(`"` + key + `":` + val)
			want.Set(key, []byte(val))
		}
		sb.WriteString("}")
		var got Record
		if err := Decode([]byte(sb.String()), &got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(normal(&got), normal(&want)) {
			t.Fatalf("%s:\n got %v\nwant %v", sb.String(), got.Extra, want.Extra)
		}
	}
}

// A record of MaxLine bytes is read, newline or not; one byte more is not.
func TestReaderLimit(t *testing.T) {
	rec := func(n int) string { return `{"x":"` + strings.Repeat("a", n-len(`{"x":""}`)) + `"}` }
	for _, c := range []struct {
		in   string
		want []string // "ok" or the error
	}{
		{rec(MaxLine) + "\n", []string{"ok"}},
		{rec(MaxLine), []string{"ok"}},
		{rec(MaxLine) + "\r\n" + rec(20) + "\n", []string{"ok", "ok"}},
		{rec(MaxLine+1) + "\n" + rec(20), []string{"in:1: malformed record: longer than 1048576 bytes", "ok"}},
		{rec(MaxLine + 1), []string{"in:1: malformed record: longer than 1048576 bytes"}},
	} {
		rd := NewReader(strings.NewReader(c.in), "in")
		var got []string
		for {
			r, err := rd.Next()
			if err == io.EOF {
				break
			}
			switch {
			case err != nil:
				got = append(got, err.Error())
			case len(r.Get("x")) < 10:
				got = append(got, "short")
			default:
				got = append(got, "ok")
			}
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%d bytes: got %q, want %q", len(c.in), got, c.want)
		}
	}
}

// A record whose first fields are short and the rest one long value does
// not keep the room that the decoder guessed for more fields.
func TestManyFieldsGuessTooHigh(t *testing.T) {
	var sb strings.Builder
	sb.WriteString("{")
	for i := range 2 * indexFrom {
		sb.WriteString(`"` + strconv.Itoa(i) + `":1,`)
	}
	sb.WriteString(`"long":"` + strings.Repeat("x", 100000) + `"}`)
	var r Record
	if err := Decode([]byte(sb.String()), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Extra) != 2*indexFrom+1 || cap(r.Extra) > 2*len(r.Extra) {
		t.Errorf("%d fields kept in room for %d", len(r.Extra), cap(r.Extra))
	}
}
