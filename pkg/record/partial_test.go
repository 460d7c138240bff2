package record

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// enrichLike changes a record as the enrich stage does: it reads the ip and
// sets the enrich fields.
func enrichLike(r *Record) {
	if r.IP == "" {
		return
	}
	r.RDNS = "h-" + r.IP + ".example"
	r.RDNSVerified = Bool(len(r.IP)%2 == 0)
	r.Country, r.City = "BR", "São Paulo"
	r.HasLoc, r.Lat, r.Lon, r.AccuracyKM = true, -23.5, -46.6, 20
	r.ASN, r.Org = 64500, "Example \"Net\""
	r.EnrichErrors = append(r.EnrichErrors, "rdns: PTR "+r.IP+": timeout")
}

// partialLines are records as AppendJSON writes them, which a partial
// reading takes, and others, which it must decode whole: both must come
// out as decoding and encoding them whole would give.
var partialLines = []string{
	`{}`,
	`{"ip":"192.0.2.1"}`,
	`{"src":"f:3"}`,
	`{"x":1}`,
	`{"type":"login","time":"2026-11-01T00:00:00.107Z","host":"mail","service":"postfix/submission/smtpd","pid":36579,"queue_id":"D1A15A252A","user":"user140@example.com","ip":"123.193.242.97","client_name":"unknown","method":"PLAIN","src":"maillog:3"}`,
	`{"type":"login","time":"2026-11-01T00:00:00+01:00","user":"é@example.com","ip":"2001:db8::1","from":"","to":"a@b","rdns":"old.example","rdns_verified":true,"country":"US","lat":1.5,"lon":2,"asn":1,"org":"Old","enrich_errors":["geo: x"],"filtered_by":"country_ignore: US","src":"/var/log/mail.log:0042","note":{"a":[1,2]},"tag":"x"}`,
	`{"user":"a","src":"f:007","x":null}`,
	`{"user":"a","src":"f:000","x":null}`,
	`{"user":"a","src":"f:0"}`,
	`{"user":"a","src":"f:"}`,
	`{"user":"a","src":":5"}`,
	`{"user":"a","src":""}`,
	// Not as AppendJSON writes them.
	`{ "ip":"192.0.2.1"}`,
	`{"ip" :"192.0.2.1"}`,
	`{"ip":"192.0.2.1" }`,
	`{"user":"a","ip":"192.0.2.1","type":"login"}`,
	`{"ip":"192.0.2.1","ip":"192.0.2.2"}`,
	`{"x":1,"ip":"192.0.2.1"}`,
	`{"x":1,"x":2,"ip":"192.0.2.1"}`,
	`{"ip":"192.0.2.1","x":1,"x":2}`,
	`{"user":"\u00e9","ip":"192.0.2.1"}`,
	`{"user":"a\"b","ip":"192.0.2.1"}`,
	`{"user":"\xff","ip":"192.0.2.1"}`,
	`{"user":"�","ip":"192.0.2.1"}`,
	`{"user":"","ip":"192.0.2.1"}`,
	`{"user":null,"ip":"192.0.2.1"}`,
	`{"pid":0,"ip":"192.0.2.1"}`,
	`{"pid":007,"ip":"192.0.2.1"}`,
	`{"pid":-7,"ip":"192.0.2.1"}`,
	`{"pid":1e3,"ip":"192.0.2.1"}`,
	`{"pid":"7","ip":"192.0.2.1"}`,
	`{"pid":12345678901,"ip":"192.0.2.1"}`,
	`{"time":"2026-11-01T00:00:00.100Z","ip":"192.0.2.1"}`,
	`{"time":"2026-11-01T00:00:00.000Z","ip":"192.0.2.1"}`,
	`{"time":"2026-11-01T00:00:00+00:00","ip":"192.0.2.1"}`,
	`{"time":"2026-11-01T00:00:00-00:00","ip":"192.0.2.1"}`,
	`{"time":"2026-11-01t00:00:00Z","ip":"192.0.2.1"}`,
	`{"time":"2026-02-29T00:00:00Z","ip":"192.0.2.1"}`,
	`{"time":"2024-02-29T23:59:59.123456789-09:30","ip":"192.0.2.1"}`,
	`{"time":"2026-11-01T24:00:00Z","ip":"192.0.2.1"}`,
	`{"time":"2026-11-01T00:00:60Z","ip":"192.0.2.1"}`,
	`{"time":"1969-12-31T23:59:59Z","ip":"192.0.2.1"}`,
	`{"time":"","ip":"192.0.2.1"}`,
	`{"ip":"192.0.2.1","rdns":null,"rdns_verified":"yes"}`,
	`{"ip":"192.0.2.1","lat":"1"}`,
	`{"ip":"192.0.2.1","enrich_errors":"x"}`,
	`{"ip":"192.0.2.1","x":[1,}`,
	`{"ip":"192.0.2.1","x":tru}`,
	`{"ip":"192.0.2.1"}x`,
	`{"ip":"192.0.2.1",}`,
	`{"ip":"192.0.2.1"`,
	`{"\u0069p":"192.0.2.1"}`,
	`{"ip":"192.0.2.1","\u0078":1}`,
	`{"ip":"192.0.2.1","é":1}`,
	`[1]`,
	`{"a":1,"b":1,"c":1,"d":1,"e":1,"f":1,"g":1,"h":1,"i":1,"j":1}`,
}

// whole decodes and encodes line, changed as enrich would change it.
func whole(t *testing.T, line []byte) (string, error) {
	t.Helper()
	var r Record
	if err := Decode(line, &r); err != nil {
		return "", err
	}
	enrichLike(&r)
	return string(AppendJSON(nil, &r)), nil
}

func TestPartialSameAsWhole(t *testing.T) {
	lines := partialLines
	data, err := os.ReadFile(filepath.Join("testdata", "seed.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		lines = append(lines, string(l))
	}
	lines = append(lines, string(AppendJSON(nil, sample())))
	took := 0
	for _, l := range lines {
		want, wantErr := whole(t, []byte(l))
		r := new(Record)
		err := decodeLine(r, []byte(l), "in", 7, true)
		if (err == nil) != (wantErr == nil) || err != nil && err.Error() != (&LineError{"in", 7, wantErr}).Error() {
			t.Errorf("%s: error %v, want %v", l, err, wantErr)
			continue
		}
		if err != nil {
			continue
		}
		if r.raw != nil {
			took++
		}
		enrichLike(r)
		if got := string(AppendJSON(nil, r)); got != want {
			t.Errorf("%s (partial %v):\n got %s\nwant %s", l, r.raw != nil, got, want)
		}
	}
	// Most of the lines above are as AppendJSON writes them: a partial
	// reading that took none would prove nothing.
	if took < 15 {
		t.Errorf("only %d lines were read partially", took)
	}
}

// The lines a partial reading takes are exactly those that AppendJSON
// writes back the same.
func TestPartialOnlyCanonical(t *testing.T) {
	for _, l := range partialLines {
		var r Record
		if Decode([]byte(l), &r) != nil {
			continue
		}
		canonical := string(AppendJSON(nil, &r)) == l
		var p Record
		if took := decodePartial([]byte(l), &p, new(rawLine)); took && !canonical {
			t.Errorf("read partially, but not as AppendJSON writes it: %s", l)
		}
	}
}

// ReaderSource with Partial, then a Writer, give the bytes of a whole
// reading, in order, with the same errors.
func TestReaderSourcePartial(t *testing.T) {
	in := strings.Join(partialLines, "\n") + "\n"
	run := func(partial bool) (string, []string) {
		var out bytes.Buffer
		var errs []string
		w := NewWriter(&out)
		src := ReaderSource{R: NewReader(strings.NewReader(in), "in"), Partial: partial,
			OnError: func(le *LineError) { errs = append(errs, le.Error()) }}
		if err := Run(src, w.Write, Func(func(r *Record, emit Emit) error { enrichLike(r); return emit(r) })); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		return out.String(), errs
	}
	wantOut, wantErrs := run(false)
	gotOut, gotErrs := run(true)
	if gotOut != wantOut {
		t.Errorf("partial:\n%s\nwhole:\n%s", gotOut, wantOut)
	}
	if strings.Join(gotErrs, "\n") != strings.Join(wantErrs, "\n") {
		t.Errorf("partial errors:\n%s\nwhole:\n%s", strings.Join(gotErrs, "\n"), strings.Join(wantErrs, "\n"))
	}
	if len(wantErrs) < 5 {
		t.Errorf("only %d malformed lines", len(wantErrs))
	}
}

// A partial reading gives the bytes and the errors of a whole one, for any
// line.
func FuzzPartial(f *testing.F) {
	for _, l := range partialLines {
		f.Add([]byte(l))
	}
	f.Add(AppendJSON(nil, sample()))
	f.Fuzz(func(t *testing.T, line []byte) {
		line = bytes.TrimSpace(line)
		want, wantErr := whole(t, line)
		r := new(Record)
		err := decodeLine(r, bytes.Clone(line), "in", 1, true)
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("%q: error %v, want %v", line, err, wantErr)
		}
		if err != nil {
			if err.Err.Error() != wantErr.Error() {
				t.Fatalf("%q: error %v, want %v", line, err.Err, wantErr)
			}
			return
		}
		enrichLike(r)
		if got := string(AppendJSON(nil, r)); got != want {
			t.Fatalf("%q (partial %v):\n got %s\nwant %s", line, r.raw != nil, got, want)
		}
	})
}
