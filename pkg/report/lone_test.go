package report

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/record"
)

// TestLoneFarLiveAndBatch: a stolen password checked once from Vietnam,
// 10 minutes after the owner's phone in Brazil (located to the country
// only: it says nothing of where the phone is), and never again, is
// medium once a day has passed: the live reader says so when the
// account's day is over on the log's time (Tick, with other accounts'
// logins read), the batch at its last login read; both with the same
// words. Logs that end 2 hours after the check leave it low: not alerted,
// live or batch.
func TestLoneFarLiveAndBatch(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	// a phone's address of a session, located to the country
	phone := func(i int) place { return place{fmt.Sprintf("177.79.%d.10", i), "BR", 26599, -14.24, -51.93} }
	var recs []*record.Record
	add := func(user string, p place, at time.Time) {
		r := loginAt(user, p, at)
		if p.asn == 26599 {
			r.City, r.AccuracyKM = "", 1000
		}
		recs = append(recs, r)
	}
	for d := range 7 {
		day := t0.Add(time.Duration(d) * 24 * time.Hour)
		add("bob@x.test", home, day)
		add("bob@x.test", phone(d), day.Add(5*time.Hour))
		add("ana@x.test", home, day.Add(time.Hour))
	}
	check := t0.Add(7*24*time.Hour + 5*time.Hour)
	add("bob@x.test", phone(7), check)
	add("bob@x.test", thiefs[1], check.Add(10*time.Minute))
	short := len(recs)
	// ana, every 20 minutes for two days: the log's time goes on
	for at := check.Add(time.Hour); at.Before(check.Add(48 * time.Hour)); at = at.Add(20 * time.Minute) {
		add("ana@x.test", home, at)
	}
	// bob alone: his own next login, at home, a day and more later
	alone := []*record.Record{}
	for _, r := range recs[:short] {
		if r.User == "bob@x.test" {
			alone = append(alone, r)
		}
	}
	alone = append(alone, loginAt("bob@x.test", home, check.Add(30*time.Hour)))
	const want = "its only login from there, 10 min after one from BR (AS26599), 17,660 km away; none from there, nor within 3,000 km, in the 24 h after"

	for _, c := range []struct {
		name string
		recs []*record.Record
		want string // "": no alert
	}{
		{"two days after", recs, want},
		{"2 hours after", recs[:short+6], ""},
		{"the account's next login, 30 hours after", alone, want},
	} {
		t.Run(c.name, func(t *testing.T) {
			var clock time.Time
			l := NewLive(Rule{})
			l.Now = func() time.Time { return clock }
			var alerted []*Account
			l.OnAlert = func(a *Account) error { alerted = append(alerted, a); return nil }
			var emitted []*record.Record
			emit := func(r *record.Record) error { emitted = append(emitted, r); return nil }
			for _, r := range c.recs {
				clock = r.Time.Add(time.Minute)
				if err := l.Process(r, emit); err != nil {
					t.Fatal(err)
				}
			}
			// (told as the log is read, not at its end)
			if c.want != "" && len(alerted) != 1 {
				t.Errorf("%d alerts before the end of the logins read, want 1", len(alerted))
			}
			if err := l.Flush(emit); err != nil {
				t.Fatal(err)
			}
			rep := batchOf(t, c.recs, false)
			got := rep.Anomalies()
			if c.want == "" {
				if len(alerted) != 0 || len(emitted) != 0 || len(got) != 0 {
					for _, a := range append(alerted, got...) {
						t.Logf("%s %s %+v", a.User, a.Severity, a.Reasons)
					}
					t.Fatalf("live alerts %d, emitted %d, batch %d: want none", len(alerted), len(emitted), len(got))
				}
				return
			}
			if len(alerted) != 1 || len(emitted) != 1 || emitted[0].User != "bob@x.test" {
				for _, a := range alerted {
					t.Logf("%s %s %+v", a.User, a.Severity, a.Reasons)
				}
				t.Fatalf("live alerts %d, emitted %d: want one, bob's", len(alerted), len(emitted))
			}
			if len(got) != 1 {
				t.Fatalf("batch: %v", got)
			}
			for _, a := range []*Account{alerted[0], got[0]} {
				if a.User != "bob@x.test" || a.Severity != "medium" || len(a.Reasons) == 0 || !strings.HasPrefix(a.Reasons[0].Text, "new country VN") || !strings.Contains(a.Reasons[0].Text, c.want) {
					t.Errorf("%s %s %+v\nwant medium, with %q", a.User, a.Severity, a.Reasons, c.want)
				}
			}
			// (live, the account's days are "of history": its detector
			// restarts from the rows of the logins before the window)
			_, l1, _ := strings.Cut(alerted[0].Reasons[0].Text, ";")
			_, b1, _ := strings.Cut(got[0].Reasons[0].Text, ";")
			if l1 != b1 {
				t.Errorf("live and batch differ:\n%s\n%s", alerted[0].Reasons[0].Text, got[0].Reasons[0].Text)
			}
		})
	}
}
