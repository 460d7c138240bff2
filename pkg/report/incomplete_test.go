package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/record"
)

// An input that was not read makes the report say so, in text and JSON,
// and never gives an all-clear; an input_error record, as loganom-parse
// writes it, does the same as a direct call.
func TestIncomplete(t *testing.T) {
	rep := New(Rule{Original: true})
	tm := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	for _, r := range []*record.Record{
		{Type: record.TypeLogin, User: "alice@example.test", IP: "187.45.12.9", Country: "BR", Time: tm},
		{Type: record.TypeInputError, SrcFile: "maillog.2.gz", SrcLine: 1200, Reason: "unexpected EOF"},
	} {
		if err := rep.Process(r, nil); err != nil {
			t.Fatal(err)
		}
	}
	rep.Incomplete("maillog.1", 0, "open maillog.1: permission denied\x1b[2J")

	var text bytes.Buffer
	if err := Text(&text, rep.Anomalies(), rep.Accounts(), rep.Unread()); err != nil {
		t.Fatal(err)
	}
	want := `INCOMPLETE: 2 inputs could not be read in full; accounts in them may be missing from this report:
  maillog.2.gz (read up to line 1200): unexpected EOF
  maillog.1 (not read): "open maillog.1: permission denied\x1b[2J"

Nothing found in what was read (1 account with logins after the whitelist), but this is no all-clear: see above.
`
	if text.String() != want {
		t.Errorf("text:\n%s\nwant:\n%s", text.String(), want)
	}
	if strings.Contains(text.String(), "No account looks compromised") {
		t.Error("an incomplete run gave an all-clear")
	}

	var js bytes.Buffer
	if err := JSON(&js, rep.Anomalies(), rep.Unread()); err != nil {
		t.Fatal(err)
	}
	wantJSON := `{"incomplete":true,"unread":[{"input":"maillog.2.gz","lines_read":1200,"error":"unexpected EOF"},{"input":"maillog.1","lines_read":0,"error":"open maillog.1: permission denied\u001b[2J"}]}` + "\n"
	if js.String() != wantJSON {
		t.Errorf("json:\n%s\nwant:\n%s", js.String(), wantJSON)
	}

	// A complete run says no account looks compromised, and JSON prints
	// nothing at all.
	clean := New(Rule{Original: true})
	text.Reset()
	js.Reset()
	Text(&text, clean.Anomalies(), clean.Accounts(), clean.Unread())
	JSON(&js, clean.Anomalies(), clean.Unread())
	if text.String() != "No account looks compromised (0 accounts with logins after the whitelist).\n" || js.Len() != 0 {
		t.Errorf("complete run: text %q, json %q", text.String(), js.String())
	}
}

// An input_error record of an empty input (record.EmptyInput, which
// loganom-parse writes when no input had a line) is no input not read:
// the report says that nothing was read, and gives no all-clear.
func TestEmptyInput(t *testing.T) {
	rep := New(Rule{})
	if err := rep.Process(&record.Record{Type: record.TypeInputError, SrcFile: "mail.log", Reason: record.EmptyInput}, nil); err != nil {
		t.Fatal(err)
	}
	g := rep.Gaps()
	if len(g.Unread) != 0 || len(g.Empty) != 1 || g.Empty[0] != "mail.log" {
		t.Fatalf("gaps %+v: want mail.log empty, nothing unread", g)
	}
	var text, js bytes.Buffer
	TextGaps(&text, rep.Anomalies(), rep.Accounts(), g)
	want := `INCOMPLETE: no log line was read: the input is empty; check the path, and whether the log was just rotated (its lines are then in the one before):
  mail.log

Nothing found (0 accounts with logins after the whitelist), but this is no all-clear: see above.
`
	if text.String() != want {
		t.Errorf("text:\n%s\nwant:\n%s", text.String(), want)
	}
	JSONGaps(&js, rep.Anomalies(), g)
	if want := `{"incomplete":true,"unread":[],"empty":["mail.log"]}` + "\n"; js.String() != want {
		t.Errorf("json %q, want %q", js.String(), want)
	}
}

// An empty input's record is no gap in a report that read records of
// log lines besides it: loganom-parse writes it when none of its own
// inputs had a line, but a report may read the output of several
// (loganom-report day1.ndjson day2.ndjson, or two parses piped in one
// after the other), and what the others read was seen. "No log line was
// read" would be false there, and exit 1 for nothing.
func TestEmptyInputBesideRecords(t *testing.T) {
	tm := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	login := &record.Record{Type: record.TypeLogin, User: "alice@example.test", IP: "187.45.12.9", Country: "BR", Time: tm}
	empty := &record.Record{Type: record.TypeInputError, SrcFile: "mail.log", Reason: record.EmptyInput}
	for name, recs := range map[string][]*record.Record{
		"empty first": {empty, login},
		"empty last":  {login, empty},
	} {
		rep := New(Rule{})
		for _, r := range recs {
			c := *r
			if err := rep.Process(&c, nil); err != nil {
				t.Fatal(err)
			}
		}
		if g := rep.Gaps(); !g.None() {
			t.Errorf("%s: gaps %+v: want none, a login was read", name, g)
		}
	}
}
