package enrich

import (
	"context"
	"database/sql"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/record"
)

// googleOnly stands for a whitelist with the pattern google.com.
func googleOnly(name string) bool {
	return name == "google.com" || strings.HasSuffix(name, ".google.com")
}

// ReverseConfirm checks forward only the names confirm wants; an address
// with several names has them all checked, so that no unchecked answer
// hides a name a later pattern could match.
func TestReverseConfirm(t *testing.T) {
	z := testZone()
	z.Add("4.4.4.4.in-addr.arpa. 60 IN PTR first.example.")
	z.Add("4.4.4.4.in-addr.arpa. 60 IN PTR second.example.")
	z.Add("second.example. 60 IN A 4.4.4.4")
	r, err := NewResolver(startDNS(t, z), silentTimeout)
	if err != nil {
		t.Fatal(err)
	}
	none := func(string) bool { return false }
	for _, c := range []struct {
		ip      string
		confirm func(string) bool
		want    RDNS
		queries int64
	}{
		{"1.2.3.4", nil, RDNS{Name: "good.example", Verified: true}, 2},
		{"1.2.3.4", googleOnly, RDNS{Name: "good.example", Unchecked: true}, 1},
		{"1.2.3.4", none, RDNS{Name: "good.example", Unchecked: true}, 1},
		{"5.6.7.8", googleOnly, RDNS{Name: "mail.google.com"}, 2}, // checked: does not resolve back
		{"5.6.7.8", none, RDNS{Name: "mail.google.com", Unchecked: true}, 1},
		{"2001:db8::1", func(n string) bool { return n == "v6.example" }, RDNS{Name: "v6.example", Verified: true}, 2},
		{"9.9.9.9", none, RDNS{}, 1}, // no PTR
		{"4.4.4.4", none, RDNS{Name: "second.example", Verified: true}, 3},
	} {
		before := z.Queries.Load()
		got, err := r.ReverseConfirm(context.Background(), netip.MustParseAddr(c.ip), c.confirm)
		if err != nil || got != c.want {
			t.Errorf("%s: %+v %v, want %+v", c.ip, got, err, c.want)
		}
		if n := z.Queries.Load() - before; n != c.queries {
			t.Errorf("%s: %d queries, want %d", c.ip, n, c.queries)
		}
	}
	got, err := r.Confirm(context.Background(), netip.MustParseAddr("1.2.3.4"), "good.example")
	if err != nil || got != (RDNS{Name: "good.example", Verified: true}) {
		t.Errorf("confirm: %+v %v", got, err)
	}
}

// With Confirm, the records say which names were checked: a name no
// pattern could use carries rdns without rdns_verified, a checked one that
// does not resolve back rdns_verified false.
func TestEnrichConfirm(t *testing.T) {
	z := testZone()
	r, _ := NewResolver(startDNS(t, z), answerTimeout)
	e := New(Options{Resolver: r, Confirm: googleOnly})
	out := runStage(t, e, "1.2.3.4", "5.6.7.8", "1.2.3.4")
	want := []string{
		`{"type":"login","user":"u0","ip":"1.2.3.4","rdns":"good.example"}`,
		`{"type":"login","user":"u1","ip":"5.6.7.8","rdns":"mail.google.com","rdns_verified":false}`,
		`{"type":"login","user":"u2","ip":"1.2.3.4","rdns":"good.example"}`,
	}
	if strings.Join(out, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(out, "\n"), strings.Join(want, "\n"))
	}
	if s := e.Stats(); s.Unchecked != 1 || s.Lookups != 2 || z.Queries.Load() != 3 {
		t.Errorf("stats %+v, %d queries (want 1 unchecked, 2 lookups, 3 queries)", s, z.Queries.Load())
	}
}

// The cache keeps an unchecked name unchecked (never unverified), serves
// it as it is while no pattern wants it, and has it checked, with one
// forward query, when a later run's pattern could match it; the checked
// answer then replaces it.
func TestEnrichConfirmCache(t *testing.T) {
	z := testZone()
	r, _ := NewResolver(startDNS(t, z), answerTimeout)
	path := filepath.Join(t.TempDir(), "cache.db")
	run := func(confirm func(string) bool) (string, Stats, int64) {
		t.Helper()
		c, err := OpenCache(path, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		before := z.Queries.Load()
		e := New(Options{Resolver: r, Cache: c, Confirm: confirm})
		out := runStage(t, e, "1.2.3.4")
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		return out[0], e.Stats(), z.Queries.Load() - before
	}
	none := func(string) bool { return false }
	good := func(n string) bool { return n == "good.example" }
	unchecked := `{"type":"login","user":"u0","ip":"1.2.3.4","rdns":"good.example"}`
	verified := `{"type":"login","user":"u0","ip":"1.2.3.4","rdns":"good.example","rdns_verified":true}`
	for i, c := range []struct {
		confirm        func(string) bool
		want           string
		queries        int64
		hits, confirms int64
	}{
		{none, unchecked, 1, 0, 0},       // PTR only
		{none, unchecked, 0, 1, 0},       // from the cache, still unchecked
		{googleOnly, unchecked, 0, 1, 0}, // a pattern that cannot match it
		{good, verified, 1, 1, 1},        // a pattern that could: the A query only
		{none, verified, 0, 1, 0},        // the checked answer is kept
	} {
		got, s, q := run(c.confirm)
		if got != c.want || q != c.queries || s.CacheHits != c.hits || s.Confirms != c.confirms {
			t.Errorf("run %d: %s, %d queries, stats %+v; want %s, %d queries, %d hits, %d confirms", i+1, got, q, s, c.want, c.queries, c.hits, c.confirms)
		}
	}
}

// A version that knows verified only as a bool cannot read an unchecked
// row: to it, it is a miss (looked up again and replaced, checked), never
// a name that does not resolve back.
func TestCacheUncheckedOldReader(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cache.db")
	c, err := OpenCache(path, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c.PutRDNS(netip.MustParseAddr("1.2.3.4"), RDNS{Name: "good.example", Unchecked: true})
	c.PutRDNS(netip.MustParseAddr("5.6.7.8"), RDNS{Name: "mail.google.com"})
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for ip, readable := range map[string]bool{"1.2.3.4": false, "5.6.7.8": true} {
		var name string
		var verified bool // as GetRDNS scanned it before
		var expires int64
		err := db.QueryRow(`SELECT name, verified, expires FROM rdns WHERE ip = ?`, ip).Scan(&name, &verified, &expires)
		if (err == nil) != readable {
			t.Errorf("%s: read as a bool: %v, %v", ip, verified, err)
		}
	}
	c, err = OpenCache(path, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if v, ok := c.GetRDNS(netip.MustParseAddr("1.2.3.4")); !ok || v != (RDNS{Name: "good.example", Unchecked: true}) {
		t.Errorf("unchecked row: %+v %v", v, ok)
	}
	if s, err := c.Stats(); err != nil || s.NotChecked != 1 || s.Unconfirmed != 1 {
		t.Errorf("stats %+v %v", s, err)
	}
}

// A whitelist reloaded mid-run (SetConfirm) has the names it could match
// checked, also for addresses already answered, unchecked, in this run.
func TestEnrichSetConfirm(t *testing.T) {
	z := testZone()
	r, _ := NewResolver(startDNS(t, z), answerTimeout)
	e := New(Options{Resolver: r, Confirm: func(string) bool { return false }})
	var out []string
	emit := func(r *record.Record) error { out = append(out, string(record.AppendJSON(nil, r))); return nil }
	e.Process(&record.Record{Type: record.TypeLogin, IP: "1.2.3.4"}, emit)
	e.Process(&record.Record{Type: record.TypeLogin, IP: "5.6.7.8"}, emit)
	if err := e.Flush(emit); err != nil {
		t.Fatal(err)
	}
	e.SetConfirm(func(n string) bool { return n == "good.example" })
	before := z.Queries.Load()
	e.Process(&record.Record{Type: record.TypeLogin, IP: "1.2.3.4"}, emit)
	e.Process(&record.Record{Type: record.TypeLogin, IP: "5.6.7.8"}, emit)
	if err := e.Flush(emit); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`{"type":"login","ip":"1.2.3.4","rdns":"good.example"}`,
		`{"type":"login","ip":"5.6.7.8","rdns":"mail.google.com"}`,
		`{"type":"login","ip":"1.2.3.4","rdns":"good.example","rdns_verified":true}`,
		`{"type":"login","ip":"5.6.7.8","rdns":"mail.google.com"}`,
	}
	if strings.Join(out, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(out, "\n"), strings.Join(want, "\n"))
	}
	// no cache: both asked again, PTR (and A for the wanted name)
	if q := z.Queries.Load() - before; q != 3 {
		t.Errorf("%d queries after the reload, want 3", q)
	}
}
