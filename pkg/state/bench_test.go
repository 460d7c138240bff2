package state

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkCommit commits runs of 100,000 logins (1,000 accounts from 100
// addresses each): the first inserts the rows, the next ones add to them.
func BenchmarkCommit(b *testing.B) {
	const accounts, perAccount = 1000, 100
	logins := make([]Login, 0, accounts*perAccount)
	yes := true
	for u := range accounts {
		for i := range perAccount {
			logins = append(logins, Login{
				User: fmt.Sprintf("user%d@example.org", u), IP: fmt.Sprintf("10.%d.%d.%d", u%200, u/200, i),
				Count: 3, First: t0, Last: t0.Add(time.Hour), Country: "DE", City: "Berlin", HasLoc: true,
				Lat: 52.5, Lon: 13.4, AccuracyKM: 20, ASN: 3320, Org: "DTAG", RDNS: "p1.example", RDNSVerified: &yes,
			})
		}
	}
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			s := open(b, be.dsn(b))
			ctx := context.Background()
			i := 0
			for b.Loop() {
				i++
				if _, err := s.Commit(ctx, &Run{Instance: "mx1", Now: t0.Add(time.Duration(i) * time.Hour), Logins: logins}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(logins)), "ns/login")
		})
	}
}
