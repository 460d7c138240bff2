package parse

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/record"
)

func addSeeds(f *testing.F) {
	for _, c := range lineCases {
		f.Add([]byte(c.line))
	}
	for _, l := range notEvents {
		f.Add([]byte(l))
	}
	for _, wl := range worstLines {
		f.Add([]byte(wl.line("\x01\xff\"\\\u2028\xc3")))
	}
	for _, name := range []string{"postfix-3.7-real.log", "formats.log", "journal.json"} {
		data, err := os.ReadFile(filepath.Join(logs, name))
		if err != nil {
			f.Fatal(err)
		}
		for _, l := range bytes.Split(data, []byte("\n")) {
			f.Add(l)
		}
	}
}

// FuzzParseLine: whatever the bytes, Parse does not panic, and an event is
// a record that holds together.
func FuzzParseLine(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, line []byte) {
		p := testParser()
		var r record.Record
		res, why := p.Parse(line, &r)
		// The long way through a login line gives the same.
		loginFastPath = false
		var slow record.Record
		slowRes, _ := testParser().Parse(line, &slow)
		loginFastPath = true
		if slowRes != res || string(record.AppendJSON(nil, &slow)) != string(record.AppendJSON(nil, &r)) {
			t.Fatalf("fast path %v %+v, long way %v %+v", res, r, slowRes, slow)
		}
		switch res {
		case NotEvent:
			return
		case Malformed:
			if why == "" {
				t.Fatal("malformed without a reason")
			}
			return
		}
		ip, err := netip.ParseAddr(r.IP)
		if err != nil || ip.String() != r.IP || ip.Is4In6() {
			t.Fatalf("ip %q not canonical", r.IP)
		}
		if r.Time.IsZero() {
			t.Fatalf("no time: %+v", r) // (but no service where the log names no program)
		}
		switch r.Type {
		case record.TypeLogin:
			if r.User == "" {
				t.Fatal("login without a user")
			}
		case record.TypeAuthFailure, record.TypeReject:
		default:
			t.Fatalf("type %q", r.Type)
		}
		if r.Method != strings.ToUpper(r.Method) {
			t.Fatalf("method %q", r.Method)
		}
		out := record.AppendJSON(nil, &r)
		if !json.Valid(out) {
			t.Fatalf("invalid JSON %q", out)
		}
		// What a stage behind a pipe reads is what an in-process one gets.
		r.SrcFile, r.SrcLine = "in\x01\"é", 7 // as Source makes it: valid UTF-8
		roundTrip(t, &r)
	})
}

// FuzzSource compares the chunked, parallel, marker-searching Source with
// the plain reading of the same text line by line: the same records, with
// the same line numbers, and the same counts, at chunk sizes small enough
// that lines cross chunk boundaries.
func FuzzSource(f *testing.F) {
	real, err := os.ReadFile(filepath.Join(logs, "postfix-3.7-real.log"))
	if err != nil {
		f.Fatal(err)
	}
	formats, _ := os.ReadFile(filepath.Join(logs, "formats.log"))
	journal, _ := os.ReadFile(filepath.Join(logs, "journal.json"))
	f.Add(real, uint16(300), uint8(2))
	f.Add(formats, uint16(200), uint8(1))
	f.Add(journal, uint16(700), uint8(3))
	f.Add(append(append([]byte{}, formats...), real...), uint16(150), uint8(2))
	f.Add([]byte("\n\n"+string(real[:500])), uint16(64), uint8(2))
	long := string(real[:2000]) + strings.Repeat("x", 900) + "\n" + string(real[2000:4000]) + strings.Repeat("y", 400)
	f.Add([]byte(long), uint16(300), uint8(2))
	f.Add([]byte(long), uint16(868), uint8(1)) // the x line is exactly one chunk long
	f.Fuzz(func(t *testing.T, data []byte, size uint16, workers uint8) {
		cs := 32 + int(size)%2048
		// Lines up to cs long, in file chunks of a third of that to all of
		// it, so that lines start, end and lie across chunk ends.
		oldMax, oldChunk := maxLine, chunkSize
		maxLine, chunkSize = cs, cs/3+int(size)%(cs-cs/3)
		defer func() { maxLine, chunkSize = oldMax, oldChunk }()

		ref := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
		// reference: line by line
		var want bytes.Buffer
		var wantLines, wantMalformed, wantLong int64
		lines := bytes.Split(data, []byte("\n"))
		if len(data) == 0 || data[len(data)-1] == '\n' {
			lines = lines[:len(lines)-1]
		}
		jsonMode := false
		if t := bytes.TrimLeft(data, " \t\r\n"); len(t) > 0 {
			jsonMode = t[0] == '{'
		}
		p := &LineParser{Loc: time.UTC, Ref: ref}
		wantMail := false // a line from postfix…, or an event
		for i, l := range lines {
			wantLines++
			if len(l) >= cs {
				wantLong++
				continue
			}
			// (written out: journald JSON could escape the name's letters,
			// journalctl never does)
			var h header
			if bytes.Contains(l, postfixName) && p.header(bytes.TrimRight(l, "\r"), &h) && bytes.HasPrefix(h.prog, postfixName) {
				wantMail = true
			}
			if !jsonMode && !hasMarker(l) {
				continue
			}
			var r record.Record
			switch res, _ := p.Parse(l, &r); res {
			case Event:
				wantMail = true
				r.SrcFile, r.SrcLine = "IN", int64(i+1)
				want.Write(record.AppendJSON(nil, &r))
				want.WriteByte('\n')
			case Malformed:
				wantMalformed++
			}
		}
		// The same text as a stream (read by one reader) and as a regular
		// file (read by the workers themselves), as records and encoded.
		file := filepath.Join(t.TempDir(), "IN")
		if err := os.WriteFile(file, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(file, ref, ref); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"-", file} {
			src := func() *Source {
				return &Source{Names: []string{name}, Opts: Options{Loc: time.UTC, Stdin: bytes.NewReader(data),
					Workers: 1 + int(workers)%3, Now: func() time.Time { return ref }}}
			}
			display := map[string]string{"-": "stdin", file: file}[name]
			wantName := strings.ReplaceAll(want.String(), `"src":"IN:`, `"src":"`+display+`:`)
			if wantLines == 0 {
				// no line at all: passed on as an empty input
				wantName += string(record.AppendJSON(nil, &record.Record{Type: record.TypeInputError, SrcFile: display, Reason: record.EmptyInput})) + "\n"
			}
			var got bytes.Buffer
			w := record.NewWriter(&got)
			s := src()
			if err := record.Run(s, w.Write); err != nil {
				t.Fatal(err)
			}
			w.Flush()
			if got.String() != wantName {
				t.Fatalf("%s, chunk size %d: records differ:\n%s", name, cs, diff(wantName, got.String()))
			}
			if st := s.Stats; st.Lines != wantLines || st.Malformed != wantMalformed || st.TooLong != wantLong || (st.MailLines > 0) != wantMail {
				t.Fatalf("%s, chunk size %d: stats %+v, want lines %d malformed %d too long %d, mail lines: %v", name, cs, st, wantLines, wantMalformed, wantLong, wantMail)
			}
			var enc bytes.Buffer
			s = src()
			if err := s.RunNDJSON(func(b []byte) error { enc.Write(b); return nil }); err != nil {
				t.Fatal(err)
			}
			if enc.String() != wantName {
				t.Fatalf("%s, chunk size %d: RunNDJSON differs:\n%s", name, cs, diff(wantName, enc.String()))
			}
		}
	})
}

func hasMarker(l []byte) bool {
	for i := range markers {
		if markers[i].find(l, 0) >= 0 {
			return true
		}
	}
	return false
}
