package report

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/record"
)

// A batch's accounts are judged on several goroutines (judgeAll): the
// verdicts are those of one goroutine, account by account, and the race
// detector sees the detectors share nothing but what they read.
func TestJudgeAllParallel(t *testing.T) {
	at := func(day, h, m int) time.Time { return time.Date(2026, 11, 20+day, h, m, 0, 0, time.UTC) }
	place := func(r *record.Record, lat, lon float64) *record.Record {
		r.HasLoc, r.Lat, r.Lon, r.AccuracyKM = true, lat, lon, 10
		return r
	}
	var recs []*record.Record
	for i := range 600 {
		user := fmt.Sprintf("user%d@example.test", i)
		home := fmt.Sprintf("187.45.%d.%d", i/200, i%200+1)
		for d := range 4 {
			r := login(user, home, "BR", 26599, 0)
			r.Time = at(d, 9, i%60)
			recs = append(recs, place(r, -23.55, -46.63)) // São Paulo
		}
		switch i % 7 {
		case 0: // Osaka 20 minutes after home
			r := login(user, fmt.Sprintf("133.242.%d.%d", i/200, i%200+1), "JP", 7684, 0)
			r.Time = at(3, 9, i%60+20)
			recs = append(recs, place(r, 34.69, 135.50))
		case 1: // a botnet: three countries in minutes
			for k, cc := range []string{"NG", "VN", "RU"} {
				r := login(user, fmt.Sprintf("41.%d.%d.%d", k, i/200, i%200+1), cc, uint32(37000+k), 0)
				r.Time = at(3, 12, k)
				recs = append(recs, r)
			}
		case 2: // a holiday in Lisbon, days later
			r := login(user, fmt.Sprintf("85.240.%d.%d", i/200, i%200+1), "PT", 3243, 0)
			r.Time = at(5, 18, 0)
			recs = append(recs, place(r, 38.72, -9.14))
		}
	}
	verdicts := func(procs int) string {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		rep := New(Rule{})
		feed(rep, recs...)
		var b strings.Builder
		for _, a := range rep.Anomalies() {
			fmt.Fprintf(&b, "%s %s\n", a.User, a.Severity)
			for _, r := range a.Reasons {
				fmt.Fprintf(&b, "  %s %s %s\n", r.Detector, r.Severity, r.Text)
			}
		}
		return b.String()
	}
	one := verdicts(1)
	if n := strings.Count(one, "\nuser"); n < 100 {
		t.Fatalf("%d accounts flagged, want the trips and the botnets (more than 100):\n%s", n, one)
	}
	for _, procs := range []int{2, 4} {
		if got := verdicts(procs); got != one {
			t.Errorf("GOMAXPROCS=%d: the verdicts differ from one goroutine's", procs)
		}
	}
}
