package state

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"
)

// Recent: per account, the rows seen since its own time; in one query
// even for thousands of accounts.
func testRecent(t *testing.T, b backend) {
	ctx := context.Background()
	s := open(t, b.dsn(t))
	var logins []Login
	const many = 3000
	for u := range many {
		for i := range 3 { // seen at 0, 1 and 2 hours
			logins = append(logins, Login{User: fmt.Sprintf("user%04d", u), IP: fmt.Sprintf("192.0.2.%d", i), Count: int64(i + 1), Last: at(time.Duration(i) * time.Hour), Country: "DE"})
		}
	}
	logins = append(logins, Login{User: "o'brien", IP: "2001:db8::1", Count: 1, Last: at(0)})
	commit(t, s, &Run{Now: at(3 * time.Hour), Logins: logins})

	if got, err := s.Recent(ctx, nil); err != nil || len(got) != 0 {
		t.Errorf("Recent(nil) = %v, %v", got, err)
	}
	cases := []struct {
		name  string
		since map[string]time.Time
		want  []string // user/ip
	}{
		{"since each's own time", map[string]time.Time{
			"user0001": at(time.Hour),        // two rows
			"user0002": at(2 * time.Hour),    // the last
			"user0003": at(3 * time.Hour),    // none
			"user0004": {},                   // all
			"nobody":   {},                   // none
			"o'brien":  at(-time.Hour),       // its one
			"user0005": at(90 * time.Minute), // between: the last
		}, []string{
			"o'brien/2001:db8::1",
			"user0001/192.0.2.2", "user0001/192.0.2.1",
			"user0002/192.0.2.2",
			"user0004/192.0.2.2", "user0004/192.0.2.1", "user0004/192.0.2.0",
			"user0005/192.0.2.2",
		}},
	}
	all := map[string]time.Time{}
	var allWant []string
	for u := range many {
		user := fmt.Sprintf("user%04d", u)
		all[user] = at(time.Hour)
		allWant = append(allWant, user+"/192.0.2.2", user+"/192.0.2.1")
	}
	cases = append(cases, struct {
		name  string
		since map[string]time.Time
		want  []string
	}{"thousands of accounts", all, allWant})
	for _, c := range cases {
		got, err := s.Recent(ctx, c.since)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var keys []string
		for _, a := range got {
			keys = append(keys, a.User+"/"+a.IP)
		}
		if !slices.Equal(keys, c.want) {
			t.Errorf("%s: Recent =\n %.300q; want\n %.300q", c.name, keys, c.want)
		}
	}
	// The rows are History's.
	got, _ := s.Recent(ctx, map[string]time.Time{"user0007": {}})
	h, _ := s.History(ctx, "user0007")
	if len(got) != 3 || fmt.Sprint(got) != fmt.Sprint(h) || got[0].Count != 3 || got[0].Country != "DE" || !got[0].Last.Equal(at(2*time.Hour)) {
		t.Errorf("Recent = %+v; History = %+v", got, h)
	}
}
