package enrich

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
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
	c.PutRDNS(a, RDNS{"good.example", true})
	c.PutRDNS(b, RDNS{"spoof.example", false})
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
	for ip, want := range map[netip.Addr]RDNS{a: {"good.example", true}, b: {"spoof.example", false}, none: {}} {
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

// The child half of the process tests: writes answers until killed, or n
// of them, committing as it goes.
func TestMain(m *testing.M) {
	if path := os.Getenv("LOGANOM_CACHE_CHILD"); path != "" {
		n, _ := strconv.Atoi(os.Getenv("LOGANOM_CACHE_N"))
		base, _ := strconv.Atoi(os.Getenv("LOGANOM_CACHE_BASE"))
		c, err := OpenCache(path, time.Hour)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		for i := 0; n == 0 || i < n; i++ {
			ip := netip.AddrFrom4([4]byte{byte(base), byte(i >> 16), byte(i >> 8), byte(i)}) // unique up to 2^24
			c.PutRDNS(ip, RDNS{Name: fmt.Sprintf("h%d.example", i), Verified: true})
			if i == 1000 {
				fmt.Println("ready")
			}
		}
		if err := c.Close(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func child(path string, base, n int) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "LOGANOM_CACHE_CHILD="+path, "LOGANOM_CACHE_BASE="+strconv.Itoa(base), "LOGANOM_CACHE_N="+strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	return cmd
}

// A process killed with SIGKILL in the middle of writing leaves a cache
// that opens and answers.
func TestCacheSurvivesKill(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cache.db")
	cmd := child(path, 1, 0)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 6)
	out.Read(buf) // "ready": it has been writing for a while
	time.Sleep(500 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()

	c, err := OpenCache(path, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var check string
	if err := c.db.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
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
	r, _ := NewResolver(startDNS(t, z), 300*time.Millisecond)
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
	old := preloadMax
	preloadMax = 2
	defer func() { preloadMax = old }()
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
