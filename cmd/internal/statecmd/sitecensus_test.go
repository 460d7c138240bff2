package statecmd

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/detect"
	"github.com/loganom/loganom/pkg/record"
	"github.com/loganom/loganom/pkg/report"
	"github.com/loganom/loganom/pkg/state"
)

// sqliteState is a State on a new SQLite state, its store wrapped by
// wrap (nil: none), closed when the test ends.
func sqliteState(t *testing.T, wrap func(state.Store) state.Store) *State {
	t.Helper()
	st, err := state.Open(context.Background(), filepath.Join(t.TempDir(), "state.db"), state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var store state.Store = st
	if wrap != nil {
		store = wrap(st)
	}
	return &State{Store: store, Instance: "mx1", Keep: DefaultKeep, RealertAfter: DefaultRealertAfter, Window: DefaultWindow}
}

// noSite is a state whose Site gives nothing: the census of a run sees
// the run's accounts only, as before Site.
type noSite struct{ state.Store }

func (noSite) Site(context.Context, func(*state.Address) error) error { return nil }

// An hourly run sees the few accounts that logged in within the hour: the
// census (the site's lines here) is counted over the others' history too
// (Recall, report.Report.KnowSite), as one run over the whole log counts
// it. The colleagues who hold their line's addresses all day are not in
// the hour of the theft: their history shows the range is lines, and the
// trip from the robbed account's line (placed within 200 km: for it alone,
// a roaming phone's carrier) to Osaka is judged.
func TestRecallSiteCensus(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)
	login := func(user, ip string, at time.Time, osaka bool) *record.Record {
		r := &record.Record{Type: record.TypeLogin, Time: at, User: user, IP: ip, Country: "BR", City: "São Paulo", ASN: 28573, Org: "Claro NXT",
			HasLoc: true, Lat: -23.5475, Lon: -46.6361, AccuracyKM: 200}
		if osaka {
			r.Country, r.City, r.ASN, r.Org, r.Lat, r.Lon, r.AccuracyKM = "JP", "Osaka", 7684, "SAKURA Internet Inc.", 34.6937, 135.5023, 50
		}
		return r
	}
	theft := t0.Add(5 * 24 * time.Hour)
	for _, c := range []struct {
		name  string
		store func(state.Store) state.Store
		high  bool
	}{
		{"with the site's history", func(s state.Store) state.Store { return s }, true},
		{"the run's accounts only", func(s state.Store) state.Store { return noSite{s} }, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := sqliteState(t, c.store)
			// the days before, in one run: three colleagues on their lines
			// from 8:00 to 18:00, an address a day; the robbed account
			// once a day at 8:00, on its own
			rep := report.New(report.Rule{})
			for d := range 5 {
				day := t0.Add(time.Duration(d) * 24 * time.Hour)
				for u := range 3 {
					for _, h := range []time.Duration{0, 10 * time.Hour} {
						if err := rep.Process(login(fmt.Sprintf("colleague%d@example.org", u), fmt.Sprintf("189.100.%d.%d", d, u), day.Add(h), false), nil); err != nil {
							t.Fatal(err)
						}
					}
				}
				if err := rep.Process(login("bob@example.org", fmt.Sprintf("189.100.%d.50", d), day, false), nil); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Recall(ctx, rep); err != nil {
				t.Fatal(err)
			}
			if len(rep.Anomalies()) != 0 {
				t.Fatalf("the days before: %v", rep.Anomalies())
			}
			if _, err := s.Commit(ctx, rep, true, nil, nil, nil); err != nil {
				t.Fatal(err)
			}
			// the hour of the theft: bob alone
			rep = report.New(report.Rule{})
			for _, r := range []*record.Record{login("bob@example.org", "189.100.5.50", theft, false), login("bob@example.org", "133.242.1.1", theft.Add(25*time.Minute), true)} {
				if err := rep.Process(r, nil); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Recall(ctx, rep); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, a := range rep.Anomalies() {
				for _, r := range a.Reasons {
					got = append(got, a.User+" "+a.Severity+": "+report.ReasonText(r))
				}
			}
			found := strings.Contains(strings.Join(got, "\n"), "bob@example.org high: impossible travel (high): São Paulo, BR → Osaka, JP")
			if found != c.high || c.high && !strings.Contains(strings.Join(got, "\n"), "is on a line of AS28573 Claro NXT") {
				t.Errorf("the hour of the theft, found %v (want %v): %q", found, c.high, got)
			}
		})
	}
}

// LiveSite gives the live reader every account's rows, and asks nothing
// while the history reads are paused after a failure.
func TestLiveSite(t *testing.T) {
	ctx := context.Background()
	s := sqliteState(t, nil)
	rep := report.New(report.Rule{})
	at := time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)
	for i, u := range []string{"a@x.test", "b@x.test", "b@x.test"} {
		if err := rep.Process(&record.Record{Type: record.TypeLogin, Time: at, User: u, IP: fmt.Sprintf("192.0.2.%d", i), Country: "DE"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Commit(ctx, rep, true, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	site := s.LiveSite()
	if err := site(func(user string, k *detect.Known) { got[user+" "+k.IP]++ }); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "map[a@x.test 192.0.2.0:1 b@x.test 192.0.2.1:1 b@x.test 192.0.2.2:1]" {
		t.Errorf("rows: %v", got)
	}
	s.NoteDown() // a history read failed just now
	if err := site(func(string, *detect.Known) { t.Error("asked while paused") }); !errors.Is(err, report.ErrHistoryLater) {
		t.Errorf("paused: %v", err)
	}
}

// failSite is a state whose Site fails.
type failSite struct{ state.Store }

func (failSite) Site(context.Context, func(*state.Address) error) error {
	return errors.New("disk I/O error")
}

// A run whose site history cannot be read (after its accounts' own,
// which it has) says which part failed (ErrSiteHistory): the run said
// "the verdict is on this run's logins alone", which was untrue.
func TestRecallSiteFails(t *testing.T) {
	ctx := context.Background()
	s := sqliteState(t, func(s state.Store) state.Store { return failSite{s} })
	at := time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)
	login := func(ip, cc string, t time.Time) *record.Record {
		return &record.Record{Type: record.TypeLogin, Time: t, User: "bob@x.test", IP: ip, Country: cc}
	}
	rep := report.New(report.Rule{})
	for d := range 5 {
		if err := rep.Process(login("192.0.2.1", "DE", at.Add(time.Duration(d)*24*time.Hour)), nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Recall(ctx, rep); !errors.Is(err, ErrSiteHistory) {
		t.Fatalf("Recall: %v", err)
	}
	if _, err := s.Commit(ctx, rep, true, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	rep = report.New(report.Rule{})
	if err := rep.Process(login("192.0.2.1", "DE", at.Add(6*24*time.Hour)), nil); err != nil {
		t.Fatal(err)
	}
	err := s.Recall(ctx, rep)
	if !errors.Is(err, ErrSiteHistory) || !strings.Contains(err.Error(), "disk I/O error") {
		t.Fatalf("Recall: %v", err)
	}
}
