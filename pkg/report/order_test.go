package report

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/record"
)

// TestReadOrder: the verdict, and its reasons' counts, do not depend on
// the order the logs were read in. A thief's run of logins from one
// address that rotation split between mail.log.1 and mail.log, read
// newest first (-l mail.log -l mail.log.1), made two steps where one read
// in time order made one, and the burst's count and span said otherwise
// ("97 logins within 24 h 20 min" against "98 logins within 24 h 43
// min"): a step was an hour from its first login; it is now an hour of
// the clock, and the steps a log's end split are merged once sorted.
func TestReadOrder(t *testing.T) {
	t0 := time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)
	var recs []*record.Record
	for d := range 7 { // a week at home
		for h := range 3 {
			recs = append(recs, loginAt("ana@x.test", home, t0.Add(time.Duration(d)*24*time.Hour+time.Duration(h)*4*time.Hour)))
		}
	}
	start := t0.Add(7*24*time.Hour + 10*time.Hour + 17*time.Minute)
	for i := range 300 { // every 7 minutes for 35 hours, across the rotation
		recs = append(recs, loginAt("ana@x.test", thiefs[0], start.Add(time.Duration(i)*7*time.Minute)))
	}
	verdict := func(logs ...[]*record.Record) string {
		t.Helper()
		rep := New(Rule{})
		for _, l := range logs {
			for _, r := range l {
				rep.Process(r, nil)
			}
		}
		out, err := json.Marshal(rep.Anomalies())
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	whole := verdict(recs)
	if whole == "null" || whole == "[]" {
		t.Fatalf("the thief is not found: %s", whole)
	}
	for cut := 21 + 1; cut < len(recs); cut += 13 {
		older, newer := recs[:cut], recs[cut:]
		if inOrder := verdict(older, newer); inOrder != whole {
			t.Errorf("cut after login %d: two logs in time order:\n%s\none log:\n%s", cut, inOrder, whole)
		}
		if newestFirst := verdict(newer, older); newestFirst != whole {
			t.Errorf("cut after login %d: newest first:\n%s\none log:\n%s", cut, newestFirst, whole)
		}
	}
}
