package state

import (
	"context"
	"fmt"
	"testing"
)

// What the logins showed of several people using an account is kept
// between runs: merged (the more days of each kind, the later day, the
// first pair), read back for many accounts at once, and pruned with the
// history once its last day counted is older than the cutoff.
func TestSharing(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := open(t, b.dsn(t))
			d0 := at(0).Unix() / 86400
			commit(t, s, &Run{Instance: "mx1", Now: at(0), Sharing: []Sharing{
				{User: "team", NearDays: 2, NearDay: d0, NearPair: "Munich, DE ↔ Augsburg, DE, 60 km in 10 min"},
				{User: "quiet"}, // nothing shown: no row
				{User: "old", FarDays: 1, FarDay: d0 - 40, FarPair: "Lisbon, PT ↔ São Paulo, BR, 7,950 km in 17 min"},
			}})
			// a later run (another mail server's, say) showed one day
			// less of one kind, one more of the other
			commit(t, s, &Run{Instance: "mx2", Now: at(day), Sharing: []Sharing{
				{User: "team", NearDays: 1, NearDay: d0 + 1, NearPair: "Augsburg, DE ↔ Munich, DE, 60 km in 5 min",
					FarDays: 1, FarDay: d0 + 1, FarPair: "Munich, DE ↔ Dubai, AE, 4,600 km in 30 min"},
			}})
			got, err := s.SharingOf(ctx, []string{"team", "quiet", "old", "nobody", "team"})
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]Sharing{
				"team": {User: "team", NearDays: 2, NearDay: d0 + 1, NearPair: "Munich, DE ↔ Augsburg, DE, 60 km in 10 min",
					FarDays: 1, FarDay: d0 + 1, FarPair: "Munich, DE ↔ Dubai, AE, 4,600 km in 30 min"},
				"old": {User: "old", FarDays: 1, FarDay: d0 - 40, FarPair: "Lisbon, PT ↔ São Paulo, BR, 7,950 km in 17 min"},
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("SharingOf:\n got %v\nwant %v", got, want)
			}
			if got, err := s.SharingOf(ctx, nil); err != nil || len(got) != 0 {
				t.Errorf("SharingOf(nil) = %v, %v", got, err)
			}
			if _, err := s.Prune(ctx, at(-30*day)); err != nil {
				t.Fatal(err)
			}
			got, err = s.SharingOf(ctx, []string{"team", "old"})
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := got["old"]; ok || got["team"].NearDays != 2 {
				t.Errorf("after a prune at 30 days: %v; want team's row only", got)
			}
		})
	}
}

// A state of schema 5 (before the sharing table) upgrades to one that
// holds none, and keeps what the next run records.
func TestSharingUpgradeFrom5(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			dsn := b.dsn(t)
			openAtSchema(t, dsn, 5).Close()
			from, to, err := Migrate(ctx, dsn)
			if err != nil || from != 5 || to != SchemaVersion() {
				t.Fatalf("Migrate = %d, %d, %v", from, to, err)
			}
			s := open(t, dsn)
			if got, err := s.SharingOf(ctx, []string{"team"}); err != nil || len(got) != 0 {
				t.Fatalf("SharingOf after the upgrade = %v, %v; want none", got, err)
			}
			d0 := at(0).Unix() / 86400
			commit(t, s, &Run{Instance: "mx1", Now: at(0), Sharing: []Sharing{{User: "team", NearDays: 2, NearDay: d0, NearPair: "Munich, DE ↔ Augsburg, DE, 60 km in 10 min"}}})
			if got, err := s.SharingOf(ctx, []string{"team"}); err != nil || got["team"].NearDays != 2 {
				t.Fatalf("SharingOf = %v, %v; want team's 2 days", got, err)
			}
		})
	}
}
