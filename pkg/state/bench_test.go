package state

import (
	"context"
	"fmt"
	"strings"
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

// BenchmarkCommitAlerts commits runs like that of scripts/bench-state's
// 30 MB log: 3,600 logins, 1,200 anomalous accounts with 3 addresses
// each, no channel. "new": each run's accounts are new (every anomaly
// opens an alert); "again": the same accounts each run, with later logins
// (every anomaly adds to its open alert).
func BenchmarkCommitAlerts(b *testing.B) {
	const users, perUser = 1200, 3
	payload := []byte(`{"user":"someone@example.org","addresses":[` + strings.Repeat(`{"ip":"192.0.2.1","country":"DE","asn":3320,"org":"DTAG"},`, 5) + `{}]}`)
	mkRun := func(prefix string, i int) *Run {
		base := t0.Add(time.Duration(i) * time.Hour)
		run := &Run{Instance: "mx1", Now: base.Add(time.Hour)}
		for u := range users {
			user := fmt.Sprintf("%suser%d@example.org", prefix, u)
			a := Anomaly{User: user, Last: base, Rule: "2 or more countries: 3 addresses in 3 countries", Payload: payload}
			for k := range perUser {
				ip := fmt.Sprintf("10.%d.%d.%d", u%200, u/200, k)
				run.Logins = append(run.Logins, Login{User: user, IP: ip, Count: 2, First: base.Add(-time.Minute), Last: base,
					Country: "DE", City: "Berlin", HasLoc: true, Lat: 52.5, Lon: 13.4, AccuracyKM: 20, ASN: 3320, Org: "DTAG"})
				a.Addresses = append(a.Addresses, Evidence{IP: ip, Count: 2, First: base.Add(-time.Minute), Last: base, Country: "DE", ASN: 3320, Org: "DTAG"})
			}
			run.Anomalies = append(run.Anomalies, a)
		}
		return run
	}
	for _, be := range backends {
		for _, mode := range []string{"new", "again"} {
			b.Run(be.name+"/"+mode, func(b *testing.B) {
				s := open(b, be.dsn(b))
				ctx := context.Background()
				i := 0
				prefix := func() string {
					if mode == "new" {
						return fmt.Sprintf("r%d-", i)
					}
					return ""
				}
				if _, err := s.Commit(ctx, mkRun(prefix(), i)); err != nil { // untimed: the alerts of "again"
					b.Fatal(err)
				}
				for b.Loop() {
					b.StopTimer()
					i++
					run := mkRun(prefix(), i)
					b.StartTimer()
					out, err := s.Commit(ctx, run)
					if err != nil {
						b.Fatal(err)
					}
					if st := out.Alerts[run.Anomalies[0].User]; st.New != (mode == "new") || st.Known {
						b.Fatalf("outcome %+v", st)
					}
				}
			})
		}
	}
}

// BenchmarkOpen opens (and closes) a database of the current schema, as
// each run does.
func BenchmarkOpen(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			dsn := be.dsn(b)
			open(b, dsn).Close() // made
			ctx := context.Background()
			for b.Loop() {
				s, err := Open(ctx, dsn, Options{})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := s.Positions(ctx, "mx1", []string{"/var/log/mail.log"}); err != nil {
					b.Fatal(err)
				}
				s.Close()
			}
		})
	}
}

// BenchmarkCommitBenchLog commits, into an empty database each time, a run
// shaped like scripts/bench-state's on the 300 MB log: 2,000 accounts,
// 4,900 (account, address) rows; "alerts": 1,300 of the accounts flagged,
// with 3 or 4 addresses each and a payload of about 600 bytes; "history":
// none flagged.
func BenchmarkCommitBenchLog(b *testing.B) {
	const users, anomalous = 2000, 1300
	payload := []byte(`{"user":"someone@example.org","addresses":[` + strings.Repeat(`{"ip":"192.0.2.1","country":"DE","asn":3320,"org":"DTAG","n":2},`, 8) + `{}]}`)
	yes := true
	mkRun := func(alerts bool) *Run {
		base := t0.Add(-time.Hour)
		run := &Run{Instance: "mx1", Now: t0, Channels: []string{"smtp"}}
		for u := range users {
			user := fmt.Sprintf("user%d@example.org", u)
			n := 2
			if u < anomalous {
				n = 3 + u%2
			}
			a := Anomaly{User: user, Last: base, Rule: "2 or more countries", Payload: payload}
			for k := range n {
				ip := fmt.Sprintf("10.%d.%d.%d", u%200, u/200, k)
				run.Logins = append(run.Logins, Login{User: user, IP: ip, Count: 2, First: base.Add(-time.Minute), Last: base,
					Country: "DE", City: "Berlin", HasLoc: true, Lat: 52.5, Lon: 13.4, AccuracyKM: 20, ASN: 3320, Org: "DTAG", RDNS: "p1.example", RDNSVerified: &yes})
				a.Addresses = append(a.Addresses, Evidence{IP: ip, Count: 2, First: base.Add(-time.Minute), Last: base, Country: "DE", ASN: 3320, Org: "DTAG"})
			}
			if alerts && u < anomalous {
				run.Anomalies = append(run.Anomalies, a)
			}
		}
		return run
	}
	for _, be := range backends {
		for _, mode := range []string{"history", "alerts"} {
			b.Run(be.name+"/"+mode, func(b *testing.B) {
				s := open(b, be.dsn(b))
				ctx := context.Background()
				run := mkRun(mode == "alerts")
				for b.Loop() {
					b.StopTimer()
					empty(b, s)
					b.StartTimer()
					out, err := s.Commit(ctx, run)
					if err != nil {
						b.Fatal(err)
					}
					if len(out.Alerts) != len(run.Anomalies) {
						b.Fatalf("%d alerts for %d anomalies", len(out.Alerts), len(run.Anomalies))
					}
				}
			})
		}
	}
}

// empty deletes every row of the tables a Commit writes.
func empty(b *testing.B, s *store) {
	b.Helper()
	for _, t := range []string{"history", "evidence", "deliveries", "alerts", "positions"} {
		q := `DELETE FROM ` + t
		if s.pg {
			q = `TRUNCATE ` + t
		}
		if _, err := s.db.Exec(q); err != nil {
			b.Fatal(err)
		}
	}
}
