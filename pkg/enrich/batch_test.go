package enrich

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/record"
)

// known is the answer the enricher keeps for an address text, nil if none.
func known(e *Enricher, s string) *answer {
	if v4, ok := parseIPv4(s); ok {
		return e.ips4[v4]
	}
	return e.ips[s]
}

// parseIPv4 takes exactly the texts that netip.ParseAddr reads as an IPv4
// address, and gives the same number.
func TestParseIPv4(t *testing.T) {
	for _, s := range []string{
		"0.0.0.0", "1.2.3.4", "255.255.255.255", "192.0.2.10", "10.0.0.1",
		"256.1.1.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.04", "1.2.3.00", "1..2.3",
		".1.2.3", "1.2.3.", "1.2.3.4 ", " 1.2.3.4", "1.2.3.-4", "1.2.3.4%eth0", "::ffff:1.2.3.4",
		"2001:db8::1", "", "1.2.3.1000", "1.2.3.4x", "999.999.999.999", "1.2.3.25a",
	} {
		ip, err := netip.ParseAddr(s)
		v, ok := parseIPv4(s)
		want := err == nil && ip.Is4()
		if ok != want {
			t.Errorf("%q: ok %v, netip %v %v", s, ok, ip, err)
			continue
		}
		if ok && netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}) != ip {
			t.Errorf("%q: %08x, netip %v", s, v, ip)
		}
	}
}

func FuzzParseIPv4(f *testing.F) {
	f.Add("1.2.3.4")
	f.Add("01.2.3.4")
	f.Fuzz(func(t *testing.T, s string) {
		ip, err := netip.ParseAddr(s)
		v, ok := parseIPv4(s)
		if ok != (err == nil && ip.Is4()) {
			t.Fatalf("%q: ok %v, netip %v %v", s, ok, ip, err)
		}
		if ok && netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}) != ip {
			t.Fatalf("%q: %08x, netip %v", s, v, ip)
		}
	})
}

// bigCache makes a cache of n reverse answers, for 192.0.0.0 up, valid for
// an hour, and returns its path.
func bigCache(tb testing.TB, n int) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "cache.db")
	c, err := OpenCache(path, time.Hour)
	if err != nil {
		tb.Fatal(err)
	}
	c.Close()
	db, err := sql.Open("sqlite", "file:"+uriPath(path))
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	tx, err := db.BeginTx(context.Background(), nil)
	if err != nil {
		tb.Fatal(err)
	}
	st, err := tx.Prepare(`INSERT INTO rdns (ip, name, verified, expires) VALUES (?, ?, -1, ?)`)
	if err != nil {
		tb.Fatal(err)
	}
	exp := time.Now().Add(time.Hour).Unix()
	for i := range n {
		if _, err := st.Exec(bigAddr(i).String(), fmt.Sprintf("host-%d.example.net", i), exp); err != nil {
			tb.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
	return path
}

func bigAddr(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{192, byte(i >> 16), byte(i >> 8), byte(i)})
}

// wantRDNS is the per-address lookup (the one query per address of old):
// the stored answer for ip if it has not expired at now, read on a
// connection of its own.
func wantRDNS(t *testing.T, path string, ip netip.Addr, now time.Time) (RDNS, bool) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+uriPath(path)+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var name string
	var verified, expires int64
	err = db.QueryRow(`SELECT name, verified, expires FROM rdns WHERE ip = ?`, ip.String()).Scan(&name, &verified, &expires)
	if errors.Is(err, sql.ErrNoRows) || err == nil && expires <= now.Unix() {
		return RDNS{}, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return fromColumn(name, verified), true
}

// The batched lookups give what a query per address gives: checked,
// unconfirmed, unchecked names, "no PTR", expired rows (misses), addresses
// not there, zones that JSON must escape, an address asked twice, and more
// addresses than one query takes; from a cache loaded whole or not.
func TestCacheBatchAnswers(t *testing.T) {
	now := time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)
	stored := map[string]RDNS{
		"192.0.2.1": {Name: "good.example", Verified: true}, "2001:db8::1": {Name: "spoof.example"},
		"192.0.2.2": {}, "192.0.2.3": {Name: "later.example", Unchecked: true},
		"2001:db8::2%eth0": {Name: "zone.example", Verified: true}, "2001:db8::3%é\"\\x": {Name: "odd-zone.example"},
	}
	path := filepath.Join(t.TempDir(), "cache.db")
	w, err := OpenCache(path, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	w.Now = func() time.Time { return now }
	for s, v := range stored {
		w.PutRDNS(netip.MustParseAddr(s), v)
	}
	w.Now = func() time.Time { return now.Add(-2 * time.Hour) } // expired by now
	w.PutRDNS(netip.MustParseAddr("192.0.2.4"), RDNS{Name: "old.example", Verified: true})
	for i := range 1200 { // more than a query takes
		w.Now = func() time.Time { return now.Add(-time.Duration(i%2) * 2 * time.Hour) } // every other one expired
		w.PutRDNS(netip.AddrFrom4([4]byte{198, 51, byte(i >> 8), byte(i)}), RDNS{Name: fmt.Sprintf("h%d.example", i)})
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var ask []netip.Addr
	for s := range stored {
		ask = append(ask, netip.MustParseAddr(s))
	}
	ask = append(ask, netip.MustParseAddr("192.0.2.4"), netip.MustParseAddr("192.0.2.99"), netip.MustParseAddr("2001:db8::99"),
		netip.MustParseAddr("192.0.2.1")) // twice
	for i := range 1300 {
		ask = append(ask, netip.AddrFrom4([4]byte{198, 51, byte(i >> 8), byte(i)}))
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(ask), func(i, j int) { ask[i], ask[j] = ask[j], ask[i] })
	want := make([]RDNS, len(ask))
	wantOK := make([]bool, len(ask))
	hits := 0
	for i, ip := range ask {
		if want[i], wantOK[i] = wantRDNS(t, path, ip, now.Add(30*time.Minute)); wantOK[i] {
			hits++
		}
	}
	if hits != len(stored)+1+600 {
		t.Fatalf("%d hits in the reference, want %d", hits, len(stored)+1+600)
	}
	for _, tc := range []struct {
		name    string
		preload int64
		size    int // addresses per call
	}{
		{"queries", 0, len(ask)},
		{"queries-by-3", 0, 3},
		{"loaded", 1 << 20, len(ask)},
		{"loaded-by-1", 1 << 20, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			old := preloadPages
			preloadPages = tc.preload
			defer func() { preloadPages = old }()
			c, err := OpenCache(path, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.Now = func() time.Time { return now.Add(30 * time.Minute) }
			got, ok := make([]RDNS, len(ask)), make([]bool, len(ask))
			for i := 0; i < len(ask); i += tc.size {
				n := min(tc.size, len(ask)-i)
				c.getRDNSBatch(ask[i:i+n], got[i:i+n], ok[i:i+n])
			}
			for i, ip := range ask {
				if got[i] != want[i] || ok[i] != wantOK[i] {
					t.Errorf("%s: %+v %v, want %+v %v", ip, got[i], ok[i], want[i], wantOK[i])
				}
				if v, k := c.GetRDNS(ip); v != want[i] || k != wantOK[i] {
					t.Errorf("GetRDNS %s: %+v %v, want %+v %v", ip, v, k, want[i], wantOK[i])
				}
			}
			if loaded := len(c.mem) > 0; loaded != (tc.preload > 0) {
				t.Errorf("%d rows in memory", len(c.mem))
			}
		})
	}
}

// A row another process (another connection) stores after the opening,
// and after the cache was loaded, is found by the next lookup; a row
// loaded is a miss once it has expired.
func TestCacheBatchSeesNewRows(t *testing.T) {
	a1, a2 := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	for _, preload := range []int64{0, 1 << 20} {
		t.Run(fmt.Sprint("preload-", preload), func(t *testing.T) {
			old := preloadPages
			preloadPages = preload
			defer func() { preloadPages = old }()
			path := filepath.Join(t.TempDir(), "cache.db")
			c := reopenedCache(t, path, map[string]RDNS{a1.String(): {Name: "one.example"}})
			defer c.Close()
			got, ok := make([]RDNS, 2), make([]bool, 2)
			c.getRDNSBatch([]netip.Addr{a1, a2}, got, ok)
			if !ok[0] || got[0].Name != "one.example" || ok[1] {
				t.Fatalf("before: %+v %v", got, ok)
			}
			w, err := OpenCache(path, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			w.PutRDNS(a2, RDNS{Name: "two.example", Verified: true})
			if err := w.Close(); err != nil {
				t.Fatalf("the write waited on the reader: %v", err)
			}
			clear(ok)
			c.getRDNSBatch([]netip.Addr{a1, a2}, got, ok)
			if !ok[0] || !ok[1] || got[1] != (RDNS{Name: "two.example", Verified: true}) {
				t.Errorf("after another process stored one: %+v %v", got, ok)
			}
			c.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
			clear(ok)
			c.getRDNSBatch([]netip.Addr{a1, a2}, got, ok)
			if ok[0] || ok[1] {
				t.Errorf("expired answers given: %+v %v", got, ok)
			}
		})
	}
}

// A cache that cannot be read (its pages overwritten with garbage under
// the open connection, as by a failing disk) is misses: the enricher asks
// DNS and the run goes on; the lookups answer again once the pages are
// good again (a query's error is not the end of the cache).
func TestCacheBatchReadError(t *testing.T) {
	old := preloadPages
	preloadPages = 0
	defer func() { preloadPages = old }()
	path := filepath.Join(t.TempDir(), "cache.db")
	cached := RDNS{Name: "cached.example", Verified: true}
	c := reopenedCache(t, path, map[string]RDNS{"1.2.3.4": cached, "5.6.7.8": cached})
	c.OnWriteError = func(error) {} // the answers stored meanwhile may be lost: not this test's business
	defer c.Close()
	good, err := os.ReadFile(path)
	if err != nil || len(good) < 8192 {
		t.Fatalf("%d bytes, %v", len(good), err)
	}
	// every page but the first (the schema): the tables' pages
	garbage := append(append([]byte{}, good[:4096]...), bytes.Repeat([]byte{0xff}, len(good)-4096)...)
	if err := os.WriteFile(path, garbage, 0o600); err != nil {
		t.Fatal(err)
	}
	z := testZone()
	r, _ := NewResolver(startDNS(t, z), answerTimeout)
	e := New(Options{Resolver: r, Cache: c})
	out := runStage(t, e, "1.2.3.4", "5.6.7.8", "1.2.3.4")
	s := e.Stats()
	if s.CacheHits != 0 || s.Lookups != 2 || len(out) != 3 || !strings.Contains(out[0], `"rdns":"good.example"`) || !strings.Contains(out[1], `"rdns":"mail.google.com"`) {
		t.Errorf("with the cache unreadable: %+v\n%s", s, strings.Join(out, "\n"))
	}
	if err := os.WriteFile(path, good, 0o600); err != nil {
		t.Fatal(err)
	}
	got, ok := make([]RDNS, 1), make([]bool, 1)
	c.getRDNSBatch([]netip.Addr{netip.MustParseAddr("5.6.7.8")}, got, ok)
	if !ok[0] || got[0].Name != "cached.example" {
		t.Errorf("with the pages good again: %+v %v", got, ok)
	}
}

// A database file cut short under a query (by another program; a failing
// disk does the same to the mapped file) ends the lookups: what was read
// stands, the rest are misses, the process goes on, and Close returns.
func TestCacheTruncatedUnderRead(t *testing.T) {
	old := preloadPages
	preloadPages = 0
	defer func() { preloadPages = old }()
	path := bigCache(t, 5000)
	c, err := OpenCache(path, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cut := cutAtRow(t, c, path, 10)
	ask := make([]netip.Addr, 500)
	for i := range ask {
		ask[i] = bigAddr(i * 10)
	}
	got, ok := make([]RDNS, len(ask)), make([]bool, len(ask))
	c.getRDNSBatch(ask, got, ok)
	hits := 0
	for i := range ok {
		if ok[i] {
			hits++
			if got[i].Name != fmt.Sprintf("host-%d.example.net", i*10) {
				t.Errorf("%s: %+v", ask[i], got[i])
			}
		}
	}
	if hits < 9 || hits >= len(ask) {
		t.Errorf("%d hits: want those read before the cut (at least 9), not all", hits)
	}
	t.Logf("%d hits, broken %v", hits, c.broken.Load())
	clear(ok)
	c.getRDNSBatch(ask, got, ok)
	for i := range ok {
		if ok[i] {
			t.Fatalf("%s answered after the cut", ask[i])
		}
	}
	if told := cut.told; len(told) != 1 || !strings.Contains(told[0], path) || !strings.Contains(told[0], "not read again") {
		t.Errorf("told of the fault %d times: %q; want once, naming the file", len(told), told)
	}
	c.Close() // (its error, if any, is the writer's: not this test's business) returns
}

// cutAtRow cuts the cache file at path short (to nothing) when the n-th
// row is read, as another program might under a query; the cut says
// what c told of the fault (OnReadFault) and how many rows were read.
func cutAtRow(t *testing.T, c *SQLiteCache, path string, n int) *cut {
	t.Helper()
	x := &cut{}
	c.OnReadFault = func(err error) { x.told = append(x.told, err.Error()) }
	afterRow = func() {
		if x.rows++; x.rows == n {
			if err := os.Truncate(path, 0); err != nil {
				t.Error(err)
			}
		}
	}
	t.Cleanup(func() { afterRow = nil })
	return x
}

type cut struct {
	told []string
	rows int
}

// perAddress hides the batched lookups of a cache: the enricher asks it
// address by address, as before them.
type perAddress struct{ Cache }

// The enricher with a cache asked in batches, by goroutines, gives the
// same records, ids and counts as asking it address by address: hits, a
// cached unchecked name to check now, "no PTR", misses asked of DNS and
// stored, failures, texts of one address, not an address; with the
// batches sent when full, when a record waits (a small window), and by
// Idle (a live pipe); from a cache loaded whole or not.
func TestEnrichBatchedCache(t *testing.T) {
	oldMax := batchMax
	batchMax = 2
	defer func() { batchMax = oldMax }()
	dir := t.TempDir()
	seed := filepath.Join(dir, "seed.db")
	w, err := OpenCache(seed, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	w.PutRDNS(netip.MustParseAddr("1.2.3.4"), RDNS{Name: "cached.example", Verified: true})
	w.PutRDNS(netip.MustParseAddr("2.2.2.2"), RDNS{Name: "alias.example", Unchecked: true}) // checked now: Confirm wants it
	w.PutRDNS(netip.MustParseAddr("8.8.4.4"), RDNS{Name: "dns.example", Unchecked: true})   // left unchecked
	w.PutRDNS(netip.MustParseAddr("9.9.9.9"), RDNS{})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	seedBytes, err := os.ReadFile(seed)
	if err != nil {
		t.Fatal(err)
	}
	ips := []string{"1.2.3.4", "5.6.7.8", "2.2.2.2", "9.9.9.9", "1.2.3.4", "2001:db8::1", "::ffff:1.2.3.4", "3.3.3.3",
		"8.8.4.4", "10.0.0.10", "2001:DB8::1", "nonsense", "127.0.0.1", "5.6.7.8", "2.2.2.2", "9.9.9.9", "1.2.3.4"}
	z := testZone()
	r, _ := NewResolver(startDNS(t, z), answerTimeout)
	run := func(t *testing.T, batched, idle bool, workers int) (out []string, s Stats) {
		path := filepath.Join(t.TempDir(), "cache.db")
		if err := os.WriteFile(path, seedBytes, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := OpenCache(path, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		var cache Cache = c
		if !batched {
			cache = perAddress{c}
		}
		e := New(Options{Resolver: r, Cache: cache, Window: 3, Workers: workers, Confirm: func(name string) bool { return strings.Contains(name, "alias") }})
		if (e.batch != nil) != batched {
			t.Fatalf("batched %v: %v", batched, e.batch)
		}
		emit := func(r *record.Record) error {
			out = append(out, fmt.Sprint(r.AddrID, " ", string(record.AppendJSON(nil, r))))
			return nil
		}
		wake := make(chan struct{}, 1)
		for i, ip := range ips {
			if err := e.Process(&record.Record{Type: record.TypeLogin, User: fmt.Sprint("u", i), IP: ip}, emit); err != nil {
				t.Fatal(err)
			}
			for idle {
				held, err := e.Idle(emit, func() {
					select {
					case wake <- struct{}{}:
					default:
					}
				})
				if err != nil {
					t.Fatal(err)
				}
				if !held {
					break
				}
				<-wake
			}
		}
		if err := e.Flush(emit); err != nil {
			t.Fatal(err)
		}
		return out, e.Stats()
	}
	for _, tc := range []struct {
		idle    bool
		preload int64
		workers int   // 1: one query in flight, two lookups started (Enricher.slots)
		wait    int64 // batchWait (0: as it is): 1, a batch sent after each record
	}{{false, 0, 0, 0}, {true, 0, 0, 0}, {false, 1 << 20, 0, 0}, {true, 1 << 20, 0, 0}, {false, 0, 1, 0}, {false, 0, 0, 1}} {
		t.Run(fmt.Sprintf("idle-%v-preload-%d-workers-%d-wait-%d", tc.idle, tc.preload, tc.workers, tc.wait), func(t *testing.T) {
			old, oldWait := preloadPages, batchWait
			preloadPages = tc.preload // loaded: the hits from memory, the misses by batches
			if tc.wait > 0 {
				batchWait = tc.wait
			}
			defer func() { preloadPages, batchWait = old, oldWait }()
			idle := tc.idle
			want, wantStats := run(t, false, idle, tc.workers)
			got, gotStats := run(t, true, idle, tc.workers)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("batched:\n%s\nper address:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if fmt.Sprint(gotStats) != fmt.Sprint(wantStats) {
				t.Errorf("stats batched %+v, per address %+v", gotStats, wantStats)
			}
			// hits: 1.2.3.4 and ::ffff:1.2.3.4 (two texts), 2.2.2.2,
			// 8.8.4.4, 9.9.9.9; unchecked: 8.8.4.4 and the four names
			// from DNS
			if wantStats.CacheHits != 5 || wantStats.Confirms != 1 || wantStats.Unchecked != 5 || wantStats.Lookups != 5 {
				t.Errorf("stats %+v: want 5 hits, 1 confirmed, 5 unchecked, 5 lookups", wantStats)
			}
		})
	}
}

// A run stopped part way (the next stage stops: Flush returns at once)
// closes the cache with lookups still in flight: their answers, coming
// after Close, are not stored, and nothing panics; lookups after Close are
// misses.
func TestCacheClosedUnderLookups(t *testing.T) {
	z := testZone()
	gate := make(chan struct{})
	z.Before = func(name string) {
		if name != "4.3.2.1.in-addr.arpa." && name != "good.example." {
			<-gate // all but the first address's
		}
	}
	r, _ := NewResolver(startDNS(t, z), answerTimeout)
	c, err := OpenCache(filepath.Join(t.TempDir(), "cache.db"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	e := New(Options{Resolver: r, Cache: c})
	stop := func(*record.Record) error { return record.ErrStop }
	ips := []string{"1.2.3.4", "5.6.7.8", "2001:db8::1"}
	for _, ip := range ips {
		if err := e.Process(&record.Record{Type: record.TypeLogin, IP: ip}, stop); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Flush(stop); err != record.ErrStop { // (after the first record)
		t.Fatalf("flush: %v", err)
	}
	if known(e, "5.6.7.8").ready.Load() {
		t.Fatal("5.6.7.8 answered before the gate opened")
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	close(gate)
	for _, ip := range ips {
		for deadline := time.Now().Add(time.Minute); !known(e, ip).ready.Load(); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: the lookup never finished", ip)
			}
		}
	}
	c.PutRDNS(netip.MustParseAddr("192.0.2.1"), RDNS{Name: "late.example"})
	if v, ok := c.GetRDNS(netip.MustParseAddr("1.2.3.4")); ok {
		t.Errorf("a closed cache answered %+v", v)
	}
}

// Holding counts the records held, the last given, and leaves the cache
// reads gathered for one query (a query per pause of the parser cost the
// wrapper twice the cache's time); Idle sends them, and the records go.
func TestHoldingLeavesBatch(t *testing.T) {
	old := preloadPages
	preloadPages = 0
	defer func() { preloadPages = old }()
	path := filepath.Join(t.TempDir(), "cache.db")
	c := reopenedCache(t, path, map[string]RDNS{"192.0.2.1": {Name: "one.example", Verified: true}, "192.0.2.2": {Name: "two.example", Verified: true}})
	defer c.Close()
	r, _ := NewResolver(startDNS(t, testZone()), answerTimeout)
	e := New(Options{Resolver: r, Cache: c})
	var out []string
	emit := func(r *record.Record) error { out = append(out, r.RDNS); return nil }
	for i, ip := range []string{"192.0.2.1", "192.0.2.2", "192.0.2.1"} {
		if err := e.Process(&record.Record{Type: record.TypeLogin, IP: ip}, emit); err != nil {
			t.Fatal(err)
		}
		if n := e.Holding(); n != i+1 {
			t.Fatalf("holding %d after %d records", n, i+1)
		}
	}
	if n := e.Holding(); n != 3 || len(e.pend) != 2 || len(out) != 0 {
		t.Fatalf("holding %d, pending %d, out %q: want the 2 addresses gathered and the 3 records held", n, len(e.pend), out)
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Millisecond) {
		held, err := e.Idle(emit, func() {})
		if err != nil {
			t.Fatal(err)
		}
		if !held {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the cache read was not sent")
		}
	}
	if strings.Join(out, " ") != "one.example two.example one.example" || e.Holding() != 0 {
		t.Errorf("out %q, holding %d", out, e.Holding())
	}
}

// A damaged page of the cache costs the answers it holds, as when each
// address was a query of its own, not those of every address asked in
// the same batch after it: the batch's error leaves the rest to be asked
// one by one (else a damaged cache turns hundreds of hits a batch into
// DNS lookups, and the counts differ from a run of old).
func TestCacheBatchDamagedPage(t *testing.T) {
	old := preloadPages
	preloadPages = 0
	defer func() { preloadPages = old }()
	const n = 5000
	path := bigCache(t, n)
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pages := len(good) / 4096
	if pages < 20 {
		t.Fatalf("%d pages: want a cache of many", pages)
	}
	// a page in the middle: a leaf of the rows (garbage from its header on)
	bad := append([]byte{}, good...)
	p := pages / 2
	copy(bad[p*4096:(p+1)*4096], bytes.Repeat([]byte{0xff}, 4096))
	if err := os.WriteFile(path, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := OpenCache(path, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c.OnWriteError = func(error) {}
	defer c.Close()
	ask := make([]netip.Addr, n)
	for i := range ask {
		ask[i] = bigAddr(i)
	}
	// one by one: the hits of old
	one := 0
	for i := range ask {
		got, ok := make([]RDNS, 1), make([]bool, 1)
		c.getRDNSBatch(ask[i:i+1], got, ok)
		if ok[0] {
			one++
		}
	}
	if one == n || one < n/2 {
		t.Fatalf("%d of %d hits one by one: want the damaged page's missing, no more", one, n)
	}
	got, ok := make([]RDNS, n), make([]bool, n)
	c.getRDNSBatch(ask, got, ok)
	hits := 0
	for i := range ok {
		if ok[i] {
			hits++
			if got[i].Name != fmt.Sprintf("host-%d.example.net", i) {
				t.Errorf("%s: %+v", ask[i], got[i])
			}
		}
	}
	if hits != one {
		t.Errorf("%d hits in batches, %d one by one: want the same", hits, one)
	}
}

// reopenedCache stores answers (by address) in a new cache at path,
// closes it, and opens it again: the answers are then in the file, not
// in the writer's hands.
func reopenedCache(t *testing.T, path string, answers map[string]RDNS) *SQLiteCache {
	t.Helper()
	w, err := OpenCache(path, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for s, v := range answers {
		w.PutRDNS(netip.MustParseAddr(s), v)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	c, err := OpenCache(path, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
