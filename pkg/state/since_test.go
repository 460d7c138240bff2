package state

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"
)

// sinceRows is HistorySince's rows as "user ip count", sorted, and the
// time it answered with.
func sinceRows(t *testing.T, s Store, since time.Time) ([]string, time.Time) {
	t.Helper()
	var got []string
	asked, err := s.HistorySince(context.Background(), since, func(a *Address) error {
		got = append(got, fmt.Sprintf("%s %s %d", a.User, a.IP, a.Count))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	return got, asked
}

// HistorySince gives the rows written since a time, by any process: the
// rows made and the rows added to (in PostgreSQL, new accounts' rows are
// written by COPY, the others' by INSERT ... ON CONFLICT; both are dated),
// not the rows left alone.
func TestHistorySince(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			dsn := b.dsn(t)
			s, err := Open(context.Background(), dsn, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			other, err := Open(context.Background(), dsn, Options{}) // another mail server's
			if err != nil {
				t.Fatal(err)
			}
			defer other.Close()
			commit(t, s, &Run{Instance: "mx1", Logins: []Login{
				{User: "anna", IP: "192.0.2.1", Count: 3, First: at(0), Last: at(time.Minute)},
				{User: "bert", IP: "192.0.2.2", Count: 1, First: at(0), Last: at(0)},
			}})
			all, asked := sinceRows(t, s, time.Time{})
			if want := []string{"anna 192.0.2.1 3", "bert 192.0.2.2 1"}; !slices.Equal(all, want) {
				t.Fatalf("HistorySince(zero) = %q; want %q", all, want)
			}
			if asked.IsZero() || time.Since(asked).Abs() > time.Minute {
				t.Fatalf("HistorySince answered at %v; want about now", asked)
			}
			if got, _ := sinceRows(t, s, asked.Add(time.Millisecond)); len(got) != 0 {
				t.Fatalf("HistorySince(after the writes) = %q; want none", got)
			}
			time.Sleep(10 * time.Millisecond)
			commit(t, other, &Run{Instance: "mx2", Logins: []Login{
				{User: "anna", IP: "192.0.2.1", Count: 2, First: at(2 * time.Minute), Last: at(3 * time.Minute)},
				{User: "cleo", IP: "198.51.100.7", Count: 1, First: at(2 * time.Minute), Last: at(2 * time.Minute)},
			}})
			got, next := sinceRows(t, s, asked)
			if want := []string{"anna 192.0.2.1 5", "cleo 198.51.100.7 1"}; !slices.Equal(got, want) {
				t.Errorf("HistorySince(the last answer) = %q; want %q (bert's row was not written)", got, want)
			}
			if !next.After(asked) {
				t.Errorf("the second answer %v is not after the first %v", next, asked)
			}
		})
	}
}

// A state of schema 6 (before the rows were dated) upgrades with its rows
// dated 0, never since a daemon's first question; a row added to after is.
func TestHistorySinceUpgradeFrom6(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			dsn := b.dsn(t)
			s6 := openAtSchema(t, dsn, 6)
			// as loganom of schema 6 wrote them
			for _, r := range []string{"'anna', '192.0.2.1', 3", "'bert', '192.0.2.2', 1"} {
				if _, err := s6.db.Exec(`INSERT INTO history (account, ip, logins, first_seen, last_seen, country, city, has_loc, lat, lon, accuracy_km, asn, org, rdns, rdns_verified, methods)
VALUES (` + r + `, 1, 2, '', '', false, 0, 0, 0, 0, '', '', NULL, 0)`); err != nil {
					t.Fatal(err)
				}
			}
			s6.Close()
			from, to, err := Migrate(ctx, dsn)
			if err != nil || from != 6 || to != SchemaVersion() {
				t.Fatalf("Migrate = %d, %d, %v", from, to, err)
			}
			s, err := Open(ctx, dsn, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			got, asked := sinceRows(t, s, time.Unix(1, 0))
			if len(got) != 0 {
				t.Fatalf("HistorySince after the upgrade = %q; want none", got)
			}
			time.Sleep(10 * time.Millisecond)
			commit(t, s, &Run{Instance: "mx1", Logins: []Login{{User: "bert", IP: "192.0.2.2", Count: 1, First: at(time.Hour), Last: at(time.Hour)}}})
			if got, _ := sinceRows(t, s, asked); !slices.Equal(got, []string{"bert 192.0.2.2 2"}) {
				t.Errorf("HistorySince after a run = %q; want bert's row", got)
			}
		})
	}
}
