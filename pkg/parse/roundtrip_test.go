package parse

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/record"
)

// roundTrip checks that r, written as loganom-parse writes it, is read by
// the record.Reader of the next stage and decodes to r itself: a stage
// behind a pipe gets the same record as one that loganom postfix-sasl
// chains in-process. It returns the length of the encoded record.
func roundTrip(t *testing.T, r *record.Record) int {
	t.Helper()
	line := record.AppendJSON(nil, r)
	got, err := record.NewReader(bytes.NewReader(append(line, '\n')), "parsed").Next()
	if err != nil {
		t.Fatalf("the next stage cannot read the record (%d bytes): %v", len(line), err)
	}
	if !got.Time.Equal(r.Time) || got.Time.Format(time.RFC3339Nano) != r.Time.Format(time.RFC3339Nano) {
		t.Fatalf("time %v came back as %v", r.Time, got.Time)
	}
	got.Time = r.Time
	if !reflect.DeepEqual(got, r) {
		g, w := reflect.ValueOf(got).Elem(), reflect.ValueOf(r).Elem()
		for i := range g.NumField() {
			if !reflect.DeepEqual(g.Field(i).Interface(), w.Field(i).Interface()) {
				t.Errorf("%s came back as %.80q, was %.80q", g.Type().Field(i).Name,
					fmt.Sprint(reflect.Indirect(g.Field(i))), fmt.Sprint(reflect.Indirect(w.Field(i))))
			}
		}
		t.FailNow()
	}
	return len(line)
}

// Lines with every field that the parser copies filled with bytes that
// JSON escaping makes six times longer, and other hostile bytes.
var worstLines = []struct {
	name string
	line func(fill string) string
}{
	{"login user", func(f string) string {
		return "Nov 27 10:32:16 mail postfix/smtpd[1]: CEED5BA1AA: client=h[192.0.2.1]:25, sasl_method=PLAIN, sasl_username=" + f
	}},
	{"login client name and sender", func(f string) string {
		half := f[:len(f)/2]
		return "Nov 27 10:32:16 mail postfix/smtpd[1]: CEED5BA1AA: client=" + half + "[192.0.2.1], sasl_method=PLAIN, sasl_username=u, sasl_sender=" + f[len(half):]
	}},
	{"host and service", func(f string) string {
		half := f[:len(f)/2]
		return "Nov 27 10:32:16 " + half + " " + f[len(half):] + "/smtpd[1]: CEED5BA1AA: client=h[192.0.2.1], sasl_method=PLAIN, sasl_username=u"
	}},
	{"failure reason", func(f string) string {
		return "Nov 27 10:32:16 mail postfix/smtpd[1]: warning: h[2001:db8::1]: SASL LOGIN authentication failed: " + f
	}},
	{"reject reason, from and to", func(f string) string {
		third := len(f) / 3
		return "<22>1 2026-11-27T10:32:16Z mail postfix 1 - - NOQUEUE: reject: RCPT from h[192.0.2.1]: " + f[:third] +
			"; from=<" + f[third:2*third] + "> to=<" + f[2*third:] + "> proto=ESMTP helo=<x>"
	}},
	{"journald message of bytes", func(f string) string {
		// Each byte of the message is written "1," or so: the line is
		// about three times the message.
		var b strings.Builder
		b.WriteString(`{"__REALTIME_TIMESTAMP":"1764239536000000","_HOSTNAME":"mail","SYSLOG_IDENTIFIER":"postfix/smtpd","MESSAGE":[`)
		for i, c := range []byte("warning: u[1.2.3.4]: SASL LOGIN authentication failed: ") {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprint(&b, c)
		}
		for i := 0; i < len(f)/2; i++ {
			b.WriteString(",")
			b.WriteByte(byte('1' + i%9))
		}
		b.WriteString("]}")
		return b.String()
	}},
}

// fillTo returns line(fill) made n bytes long, fill being made of unit
// repeated (and cut to fit); the journald line, which grows in steps, may
// come out up to 8 bytes short.
func fillTo(t *testing.T, line func(string) string, unit string, n int) string {
	t.Helper()
	fill := strings.Repeat(unit, n/len(unit)+1)
	if k := n - len(line("")); k >= 0 && k < len(fill) {
		for _, k := range []int{k, k + 1} { // the journald line grows two bytes every other fill byte
			if s := line(fill[:k]); len(s) == n {
				return s
			}
		}
	}
	lo, hi := 0, len(fill) // the longest fill that keeps the line within n
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if len(line(fill[:mid])) <= n {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	s := line(fill[:lo])
	if len(s) > n || len(s) < n-8 {
		t.Fatalf("cannot make a line of %d bytes: %d", n, len(s))
	}
	return s
}

// TestWorstCaseLines: whatever a line holds, the record it gives is one
// the next stage reads, and the same record. A line of up to MaxEventLine
// bytes gives a record that stays under half of record.MaxLine even with
// the longest file name; a longer event line, up to the 1 MiB lines that
// the reader keeps, is malformed, never a record too long to read.
func TestWorstCaseLines(t *testing.T) {
	longName := strings.Repeat("\x01", 4096) // PATH_MAX bytes, each escaped to six
	for _, wl := range worstLines {
		// Bytes escaped to six, and valid and invalid UTF-8 mixed (the
		// record package's tests have the other escapes).
		for _, unit := range []string{"\x01", "\xff", "é\xc3\"\u2028"} {
			for _, n := range []int{MaxEventLine, MaxEventLine + 1, MaxLine - 1} {
				if n == MaxLine-1 && unit != "\x01" {
					continue // one will do, and they take time under -race
				}
				line := fillTo(t, wl.line, unit, n)
				if n == MaxEventLine+1 && len(line) <= MaxEventLine {
					line = fillTo(t, wl.line, unit, n+8) // the journald line grows in steps
				}
				var r record.Record
				res, why := testParser().Parse([]byte(line), &r)
				if len(line) > MaxEventLine {
					if res != Malformed || why != tooLongEvent {
						t.Fatalf("%s, %q, %d bytes: %v %q, want malformed: %s", wl.name, unit, len(line), res, why, tooLongEvent)
					}
					continue
				}
				if res != Event {
					t.Fatalf("%s, %q, %d bytes: %v %q, want an event", wl.name, unit, len(line), res, why)
				}
				r.SrcFile, r.SrcLine = longName, 1<<40
				if size := roundTrip(t, &r); size > record.MaxLine/2 {
					t.Errorf("%s, %q: a line of %d bytes gives a record of %d", wl.name, unit, len(line), size)
				}
			}
		}
	}
}

// What loganom-parse writes for such lines, from a file with an odd name
// or from stdin, the next stage reads in full.
func TestWorstCaseOutput(t *testing.T) {
	// The journald line in a file of its own: a file is journald JSON or
	// not from its first byte.
	for _, lines := range [][]int{{0, 1, 2, 3, 4}, {5}} {
		var in bytes.Buffer
		events, malformed := 0, 0
		for _, i := range lines {
			for _, n := range []int{MaxEventLine - 100, MaxEventLine, MaxEventLine + 1, MaxLine - 1} {
				if n == MaxLine-1 && i != 0 {
					continue // one will do (TestWorstCaseLines has the others), and they take time under -race
				}
				line := fillTo(t, worstLines[i].line, "\x01\xff\"", n)
				in.WriteString(line + "\n")
				if len(line) <= MaxEventLine {
					events++
				} else {
					malformed++
				}
			}
		}
		name := filepath.Join(t.TempDir(), "mail\x01\xff\"log")
		if err := os.WriteFile(name, in.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, stdin := range []bool{false, true} {
			opts := Options{Loc: time.UTC, Year: 2026}
			names := []string{name}
			if stdin {
				opts.Stdin, names = bytes.NewReader(in.Bytes()), []string{"-"}
			}
			// run checks that Run and RunNDJSON write the same bytes.
			text, src, err := run(t, opts, names...)
			if err != nil {
				t.Fatal(err)
			}
			out := bytes.NewBufferString(text)
			if src.Stats.Events() != int64(events) || src.Stats.Malformed != int64(malformed) {
				t.Fatalf("stdin %v: stats %+v, want %d events, %d malformed", stdin, src.Stats, events, malformed)
			}
			rd := record.NewReader(out, "out")
			read := 0
			for {
				r, err := rd.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("stdin %v: %v", stdin, err)
				}
				if want := map[bool]string{false: "mail\x01\ufffd\"log", true: "stdin"}[stdin]; filepath.Base(r.SrcFile) != want {
					t.Fatalf("src %q, want %q", r.SrcFile, want)
				}
				read++
			}
			if read != events {
				t.Errorf("stdin %v: %d records read, want %d", stdin, read, events)
			}
		}
	}
}
