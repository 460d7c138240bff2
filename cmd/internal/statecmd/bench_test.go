package statecmd

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/record"
	"github.com/loganom/loganom/pkg/report"
	"github.com/loganom/loganom/pkg/state"
)

// benchReport is a report shaped like scripts/bench-state's 300 MB log:
// 2,000 accounts, 4,900 (account, address) rows, 1,300 accounts flagged
// with 3 or 4 addresses each.
func benchReport() *report.Report {
	rep := report.New(report.Rule{MinIPs: 3})
	base := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	countries := []string{"DE", "FR", "PL", "RU", "BR", "CN"}
	yes := true
	for u := range 2000 {
		n := 2
		if u < 1300 {
			n = 3 + u%2
		}
		for k := range n {
			for l := range 3 {
				r := &record.Record{Type: record.TypeLogin, Time: base.Add(time.Duration(u+k*l) * time.Second),
					User: fmt.Sprintf("user%d@example.org", u), IP: fmt.Sprintf("10.%d.%d.%d", u%200, u/200, k),
					Country: countries[(u+k)%len(countries)], City: "Somewhere", ASN: uint32(64500 + k), Org: "Some Network Operator",
					RDNS: fmt.Sprintf("host-%d-%d.dynamic.example.net", u, k), RDNSVerified: &yes, HasLoc: true, Lat: 52.5, Lon: 13.4, AccuracyKM: 20}
				if err := rep.Process(r, nil); err != nil {
					panic(err)
				}
			}
		}
	}
	return rep
}

// BenchmarkCommit records, into an empty SQLite state each time, the
// report of benchReport, with the history (the wrapper with --resume).
func BenchmarkCommit(b *testing.B) {
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		rep := benchReport()
		st, err := state.Open(ctx, filepath.Join(b.TempDir(), "state.db"), state.Options{})
		if err != nil {
			b.Fatal(err)
		}
		s := &State{Store: st, Instance: "mx1", Keep: DefaultKeep, RealertAfter: DefaultRealertAfter, Window: DefaultWindow}
		b.StartTimer()
		if err := s.Recall(ctx, rep); err != nil {
			b.Fatal(err)
		}
		r, err := s.Commit(ctx, rep, true, nil, nil, nil)
		if err != nil {
			b.Fatal(err)
		}
		if r.New != 1300 {
			b.Fatalf("%d new alerts; want 1300", r.New)
		}
		b.StopTimer()
		st.Close()
		b.StartTimer()
	}
}
