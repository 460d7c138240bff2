package record

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

var knownKeys = map[string]bool{
	"type": true, "time": true, "host": true, "service": true, "pid": true,
	"queue_id": true, "user": true, "ip": true, "client_name": true,
	"port": true, "method": true, "sender": true, "from": true, "to": true,
	"command": true, "reason": true, "src": true,
	"rdns": true, "rdns_verified": true, "country": true, "city": true, "lat": true, "lon": true,
	"accuracy_km": true, "asn": true, "org": true, "enrich_errors": true, "filtered_by": true,
}

// FuzzDecode checks Decode against encoding/json on any bytes: no panic,
// errors only where encoding/json also refuses the object (or a known field
// has the wrong type), the same values where both accept, and records that
// encode back to valid JSON and decode to themselves.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"type":"login","user":"a","x":[1,{"y":null}]}`))
	f.Add([]byte(`{"user":"\u00e9\ud83d\ude00","from":null,"pid":12,"src":"f:3"}`))
	f.Add([]byte(`{"a":"\xff","b":1e5,"c":-0.5,"a":2}`))
	f.Add(AppendJSON(nil, sample()))
	// Real records: what loganom-parse wrote for the logs in testdata/,
	// and what the commands' tests expect of enrich and filter.
	data, err := os.ReadFile(filepath.Join("testdata", "seed.ndjson"))
	if err != nil {
		f.Fatal(err)
	}
	for _, l := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		f.Add(l)
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		var r Record
		err := Decode(line, &r)
		var m map[string]json.RawMessage
		stdErr := json.Unmarshal(line, &m)
		if err == nil && (stdErr != nil || m == nil) {
			t.Fatalf("Decode accepted what encoding/json refuses (%v): %q", stdErr, line)
		}
		if err != nil {
			// With a key given twice, a map shows only the last value; an
			// earlier one of the wrong type is rightly refused.
			if stdErr == nil && m != nil && allTypesRight(m) && !repeatsKey(line) {
				t.Fatalf("Decode refused a valid record: %v: %q", err, line)
			}
			return
		}
		// Unknown fields are kept exactly; known ones mean the same.
		for k, v := range m {
			if knownKeys[k] {
				continue
			}
			if got := r.Get(k); !bytes.Equal(got, bytes.TrimSpace(v)) {
				t.Fatalf("field %q: kept %q, encoding/json has %q", k, got, v)
			}
		}
		var s string
		if v, ok := m["user"]; ok && json.Unmarshal(v, &s) == nil && s != r.User {
			t.Fatalf("user %q, encoding/json %q", r.User, s)
		}
		if v, ok := m["reason"]; ok && json.Unmarshal(v, &s) == nil && s != r.Reason {
			t.Fatalf("reason %q, encoding/json %q", r.Reason, s)
		}
		out := AppendJSON(nil, &r)
		if !json.Valid(out) {
			t.Fatalf("encoded record is not valid JSON: %q", out)
		}
		var again Record
		if err := Decode(out, &again); err != nil {
			t.Fatalf("re-decode: %v: %q", err, out)
		}
		if !again.Time.Equal(r.Time) {
			t.Fatalf("time changed: %v -> %v", r.Time, again.Time)
		}
		again.Time = r.Time
		if !reflect.DeepEqual(normal(&again), normal(&r)) {
			t.Fatalf("round trip changed the record:\n%+v\n%+v", again, r)
		}
	})
}

// repeatsKey says whether the top-level object names a key twice.
func repeatsKey(line []byte) bool {
	d := json.NewDecoder(bytes.NewReader(line))
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return false
	}
	seen := map[string]bool{}
	for d.More() {
		t, err := d.Token()
		if err != nil {
			return false
		}
		k, _ := t.(string)
		if seen[k] {
			return true
		}
		seen[k] = true
		var skip json.RawMessage
		if d.Decode(&skip) != nil {
			return false
		}
	}
	return false
}

// normal clears what a round trip may legitimately change: an empty
// slice (Extra, or EnrichErrors from "enrich_errors":[]) versus nil. Both
// mean "none", and the encoder writes neither.
func normal(r *Record) *Record {
	c := *r
	if len(c.Extra) == 0 {
		c.Extra = nil
	}
	if len(c.EnrichErrors) == 0 {
		c.EnrichErrors = nil
	}
	return &c
}

// allTypesRight says whether the known fields of m have the types Decode
// needs, so that Decode must accept m.
func allTypesRight(m map[string]json.RawMessage) bool {
	for k, v := range m {
		if !knownKeys[k] || string(v) == "null" {
			continue
		}
		switch k {
		case "pid", "port", "accuracy_km":
			var n int
			if json.Unmarshal(v, &n) != nil {
				return false
			}
		case "asn":
			var n uint32
			if json.Unmarshal(v, &n) != nil {
				return false
			}
		case "lat", "lon":
			var f float64
			if json.Unmarshal(v, &f) != nil {
				return false
			}
		case "rdns_verified":
			var b bool
			if json.Unmarshal(v, &b) != nil {
				return false
			}
		case "enrich_errors":
			var l []string
			if json.Unmarshal(v, &l) != nil {
				return false
			}
		case "time":
			var s string
			if json.Unmarshal(v, &s) != nil {
				return false
			}
			var r Record
			if s != "" && r.assign(&decoder{s: v}, "time", 0, len(v)) != nil {
				return false
			}
		default:
			var s string
			if json.Unmarshal(v, &s) != nil {
				return false
			}
		}
	}
	return true
}
