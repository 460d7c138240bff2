package enrich

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func TestCache(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "cache.db")
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	c, err := OpenCache(path, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c.Now = func() time.Time { return now }
	a, b, none := netip.MustParseAddr("1.2.3.4"), netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("9.9.9.9")
	c.PutRDNS(a, RDNS{Name: "good.example", Verified: true})
	c.PutRDNS(b, RDNS{Name: "spoof.example", Verified: false})
	c.PutRDNS(none, RDNS{}) // no PTR is an answer too
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("cache file mode: %v %v", fi.Mode(), err)
	}

	c, err = OpenCache(path, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Now = func() time.Time { return now.Add(30 * time.Minute) }
	for ip, want := range map[netip.Addr]RDNS{a: {Name: "good.example", Verified: true}, b: {Name: "spoof.example", Verified: false}, none: {}} {
		if got, ok := c.GetRDNS(ip); !ok || got != want {
			t.Errorf("%s: %+v %v", ip, got, ok)
		}
	}
	if _, ok := c.GetRDNS(netip.MustParseAddr("5.5.5.5")); ok {
		t.Error("a miss answered")
	}
	s, err := c.Stats()
	if err != nil || s.RDNS != 3 || s.NoPTR != 1 || s.Unconfirmed != 1 || s.Expired != 0 || s.Bytes == 0 {
		t.Errorf("stats %+v %v", s, err)
	}
	c.Now = func() time.Time { return now.Add(2 * time.Hour) } // past the TTL
	if _, ok := c.GetRDNS(a); ok {
		t.Error("an expired answer")
	}
	if n, err := c.Prune(); n != 3 || err != nil {
		t.Errorf("prune %d %v", n, err)
	}
}

// The child half of the process tests: opens the cache (with
// LOGANOM_CACHE_GATE set, only after a line on stdin, so that several
// children open it at once), writes LOGANOM_CACHE_N answers (0: until
// killed) and closes it. Any error is its exit status 1.
func TestMain(m *testing.M) {
	if path := os.Getenv("LOGANOM_CACHE_CHILD"); path != "" {
		n, _ := strconv.Atoi(os.Getenv("LOGANOM_CACHE_N"))
		base, _ := strconv.Atoi(os.Getenv("LOGANOM_CACHE_BASE"))
		if os.Getenv("LOGANOM_CACHE_GATE") != "" {
			fmt.Println("waiting")
			bufio.NewReader(os.Stdin).ReadString('\n')
		}
		c, err := OpenCache(path, time.Hour)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		for i := 0; n == 0 || i < n; i++ {
			ip := netip.AddrFrom4([4]byte{byte(base), byte(i >> 16), byte(i >> 8), byte(i)}) // unique up to 2^24
			c.PutRDNS(ip, RDNS{Name: fmt.Sprintf("h%d.example", i), Verified: true})
		}
		if err := c.Close(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// committedRows counts the reverse answers another process has committed
// to the cache at path (0 when there is no cache yet), without writing to it.
func committedRows(path string) int64 {
	db, err := sql.Open("sqlite", "file:"+uriPath(path)+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return 0
	}
	defer db.Close()
	var n int64
	db.QueryRow(`SELECT count(*) FROM rdns`).Scan(&n)
	return n
}

func child(path string, base, n int) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "LOGANOM_CACHE_CHILD="+path, "LOGANOM_CACHE_BASE="+strconv.Itoa(base), "LOGANOM_CACHE_N="+strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	return cmd
}

// Eight processes creating the same new cache at once all get it open,
// and all their answers in; several rounds, each on a new file.
func TestCacheConcurrentCreate(t *testing.T) {
	const procs, rows = 8, 300
	rounds := 5
	if testing.Short() {
		rounds = 2
	}
	for round := 0; round < rounds; round++ {
		path := filepath.Join(t.TempDir(), "new", "cache.db")
		var cmds []*exec.Cmd
		var gates []io.WriteCloser
		var stderrs []*bytes.Buffer
		for p := 0; p < procs; p++ {
			cmd := child(path, p+1, rows)
			cmd.Env = append(cmd.Env, "LOGANOM_CACHE_GATE=1")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			in, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// started and waiting at the gate
			if line, err := bufio.NewReader(out).ReadString('\n'); line != "waiting\n" {
				t.Fatalf("child: %q %v", line, err)
			}
			cmds, gates, stderrs = append(cmds, cmd), append(gates, in), append(stderrs, &stderr)
		}
		for _, g := range gates {
			g.Close() // go
		}
		for p, cmd := range cmds {
			if err := cmd.Wait(); err != nil {
				t.Errorf("round %d, process %d: %v: %s", round, p, err, stderrs[p])
			}
		}
		if t.Failed() {
			return
		}
		c, err := OpenCache(path, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		s, err := c.Stats()
		c.Close()
		if err != nil || s.RDNS != procs*rows {
			t.Fatalf("round %d: %d rows, want %d (%v)", round, s.RDNS, procs*rows, err)
		}
	}
}

// A process killed with SIGKILL in the middle of writing leaves a cache
// that opens and answers.
func TestCacheSurvivesKill(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cache.db")
	cmd := child(path, 1, 0) // writes until killed
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	// killed once it has committed some answers (and goes on writing)
	deadline := time.Now().Add(time.Minute)
	for committedRows(path) == 0 {
		select {
		case err := <-exited:
			t.Fatalf("the writer exited: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("nothing committed after a minute")
		}
	}
	cmd.Process.Signal(syscall.SIGKILL)
	<-exited

	c, err := OpenCache(path, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var check string
	if err := c.pool().QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity: %q %v", check, err)
	}
	s, _ := c.Stats()
	if s.RDNS == 0 {
		t.Fatal("nothing committed before the kill")
	}
	if v, ok := c.GetRDNS(netip.AddrFrom4([4]byte{1, 0, 0, 5})); !ok || v.Name != "h5.example" {
		t.Errorf("answer after the kill: %+v %v", v, ok)
	}
	c.PutRDNS(netip.MustParseAddr("1.1.1.1"), RDNS{Name: "one.example"})
}

// Two processes writing at once both get their answers in.
func TestCacheTwoProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cache.db")
	a, b := child(path, 1, 3000), child(path, 2, 3000)
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	if err := a.Wait(); err != nil {
		t.Fatal(err)
	}
	if err := b.Wait(); err != nil {
		t.Fatal(err)
	}
	c, err := OpenCache(path, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := c.Stats()
	if err != nil || s.RDNS != 6000 {
		t.Errorf("rows %d, want 6000 (%v)", s.RDNS, err)
	}
}

// A second run answers from the cache and asks DNS nothing.
func TestEnrichWithCache(t *testing.T) {
	z := testZone()
	r, _ := NewResolver(startDNS(t, z), answerTimeout)
	path := filepath.Join(t.TempDir(), "cache.db")
	run := func() ([]string, Stats) {
		c, err := OpenCache(path, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		e := New(Options{Resolver: r, Cache: c})
		out := runStage(t, e, "1.2.3.4", "5.6.7.8", "9.9.9.9", "10.0.0.10")
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		return out, e.Stats()
	}
	first, s1 := run()
	q := z.Queries.Load()
	second, s2 := run()
	if strings.Join(first, "\n") != strings.Join(second, "\n") {
		t.Errorf("runs differ:\n%s\n%s", strings.Join(first, "\n"), strings.Join(second, "\n"))
	}
	// 10.0.0.10 fails (SERVFAIL): errors are not cached, so it is asked again
	if s1.Lookups != 4 || s2.CacheHits != 3 || s2.Lookups != 1 || z.Queries.Load()-q != 1 {
		t.Errorf("first %+v, second %+v, queries %d then %d", s1, s2, q, z.Queries.Load()-q)
	}
}

// A cache too large to load whole answers address by address.
func TestCacheLargeAnswersByQuery(t *testing.T) {
	old := preloadPages
	preloadPages = 0
	defer func() { preloadPages = old }()
	path := filepath.Join(t.TempDir(), "cache.db")
	c, _ := OpenCache(path, time.Hour)
	for i := 1; i <= 3; i++ {
		c.PutRDNS(netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}), RDNS{Name: fmt.Sprint("h", i)})
	}
	c.Close()
	c, _ = OpenCache(path, time.Hour)
	defer c.Close()
	if v, ok := c.GetRDNS(netip.AddrFrom4([4]byte{192, 0, 2, 3})); !ok || v.Name != "h3" || len(c.mem) != 0 {
		t.Errorf("%+v %v, %d rows in memory", v, ok, len(c.mem))
	}
}

// A file that is not a cache, or a damaged one, is told apart from other
// failures: it can be moved aside.
func TestCacheDamaged(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.db")
	c, err := OpenCache(good, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2000; i++ {
		c.PutRDNS(netip.AddrFrom4([4]byte{192, 0, byte(i >> 8), byte(i)}), RDNS{Name: fmt.Sprintf("host-%d.example", i)})
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	whole, err := os.ReadFile(good)
	if err != nil || len(whole) < 8192 {
		t.Fatalf("%d bytes, %v", len(whole), err)
	}
	for _, tc := range []struct {
		name    string
		data    []byte
		damaged bool
	}{
		{"garbage", bytes.Repeat([]byte("not a database\n"), 500), true},
		{"truncated-half", whole[:len(whole)/2], true},
		{"truncated-header", whole[:50], true},
		{"empty", nil, false}, // an empty file is a new cache
	} {
		path := filepath.Join(dir, tc.name+".db")
		if err := os.WriteFile(path, tc.data, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := OpenCache(path, time.Hour)
		if got := errors.Is(err, ErrCacheDamaged); got != tc.damaged {
			t.Errorf("%s: %v", tc.name, err)
		}
		if err == nil {
			c.Close()
		} else if !strings.HasPrefix(err.Error(), "cache "+path+": ") {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

// Answers that cannot be stored, the database being locked by another
// process, are lost and told of, and the run goes on.
func TestCacheLockedWrite(t *testing.T) {
	old := busyTimeout
	busyTimeout = 50 * time.Millisecond
	defer func() { busyTimeout = old }()
	path := newCache(t)
	holdLock(t, path, `BEGIN IMMEDIATE`) // another process holds the write lock

	for _, report := range []bool{false, true} {
		c, err := OpenCache(path, time.Hour)
		if err != nil {
			t.Fatalf("opening a cache that another process writes: %v", err)
		}
		var reported []error
		if report {
			c.OnWriteError = func(err error) { reported = append(reported, err) }
		}
		c.PutRDNS(netip.MustParseAddr("192.0.2.1"), RDNS{Name: "a.example"})
		c.PutRDNS(netip.MustParseAddr("192.0.2.2"), RDNS{Name: "b.example"})
		c.PutGeo("ipinfo", netip.MustParseAddr("192.0.2.3"), Geo{Country: "NG"})
		err = c.Close()
		if report {
			if err != nil || len(reported) != 1 {
				t.Fatalf("close: %v, reported %v", err, reported)
			}
			err = reported[0]
		}
		if err == nil || !strings.Contains(err.Error(), "cache "+path+": 3 answers not stored: database is locked") {
			t.Errorf("OnWriteError set %v: %v", report, err)
		}
	}
}

// A cache that another process holds locked for longer than the busy
// timeout gives an error (not "damaged") in bounded time.
func TestCacheLockedOpen(t *testing.T) {
	oldBusy, oldDeadline := busyTimeout, openDeadline
	busyTimeout, openDeadline = 50*time.Millisecond, 200*time.Millisecond
	defer func() { busyTimeout, openDeadline = oldBusy, oldDeadline }()
	path := newCache(t)
	holdLock(t, path, `PRAGMA locking_mode=EXCLUSIVE`, `BEGIN EXCLUSIVE`)

	c, err := OpenCache(path, time.Hour)
	if err == nil {
		c.Close()
		t.Fatal("opened a cache held locked")
	}
	if errors.Is(err, ErrCacheDamaged) || !strings.Contains(err.Error(), "database is locked") {
		t.Errorf("%v", err)
	}
}

// newCache makes an empty cache and returns its path.
func newCache(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cache.db")
	c, err := OpenCache(path, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	return path
}

// holdLock runs queries on a connection of its own to the cache at path,
// as another process would, and rolls back at the end of the test.
func holdLock(t *testing.T, path string, queries ...string) {
	t.Helper()
	other, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := other.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.ExecContext(context.Background(), `ROLLBACK`)
		conn.Close()
		other.Close()
	})
	for _, q := range queries {
		if _, err := conn.ExecContext(context.Background(), q); err != nil {
			t.Fatal(q, err)
		}
	}
}

// A path with what an SQLite URI would read as a query, an escape or a
// fragment is the file's name all the same.
func TestCacheOddPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a?b=1%20c#d.db")
	c, err := OpenCache(path, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c.PutRDNS(netip.MustParseAddr("192.0.2.1"), RDNS{Name: "a.example"})
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	names, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "*"))
	if len(names) != 1 || names[0] != path {
		t.Fatalf("files %q, want %q", names, path)
	}
	if n := committedRows(path); n != 1 {
		t.Errorf("%d rows", n)
	}
}

// Preload loads a small cache in the background, lookup or not; lookups
// after it answer from memory, and Close, called while the load is under way, waits for
// it rather than close the connection under it: the load reads every row
// or none (Close came first), never part.
func TestCachePreload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cache.db")
	c, err := OpenCache(path, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	for i := range n {
		c.PutRDNS(netip.AddrFrom4([4]byte{192, 0, 2 + byte(i/250), byte(i % 250)}), RDNS{Name: fmt.Sprint("h", i)})
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	var rows atomic.Int32
	afterRow = func() {
		rows.Add(1)
		time.Sleep(100 * time.Microsecond)
	}
	t.Cleanup(func() { afterRow = nil })
	for round := range 20 {
		rows.Store(0)
		c, err := OpenCache(path, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		c.Preload()
		switch round % 3 {
		case 0: // a lookup waits for the load, then answers from memory
			if v, ok := c.memRDNS(netip.AddrFrom4([4]byte{192, 0, 2, 7})); !ok || v.Name != "h7" || len(c.mem) != n {
				t.Fatalf("round %d: %+v %v, %d rows in memory", round, v, ok, len(c.mem))
			}
		case 1: // no lookup: the load happens all the same
			for deadline := time.Now().Add(10 * time.Second); rows.Load() < n; time.Sleep(time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("round %d: %d rows loaded after 10 s, with no lookup", round, rows.Load())
				}
			}
		case 2:
			time.Sleep(time.Duration(round) * time.Millisecond / 2)
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		if r := rows.Load(); r != 0 && r != n {
			t.Fatalf("round %d: the load read %d of %d rows: Close did not wait for it", round, r, n)
		}
	}
}
