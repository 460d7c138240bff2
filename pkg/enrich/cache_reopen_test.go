package enrich

import (
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// testClock is a clock that the test moves.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// A daemon's cache whose file is cut short under a lookup (a real fault
// of the mapped file) is not left broken until a restart: the lookups are
// misses for reopenAfter, then the cache is opened again, on the file as
// it is then. The file cut short in place is damaged (and the connection
// that faulted, left behind, still holds it): it is not used, and tried
// again twice as late. Once it is deleted (as the hint says), the cache is
// made again, empty, answers again and stores again (what is put is read
// back), and it is told once (OnReadAgain).
func TestCacheReopenAfterFault(t *testing.T) {
	old := preloadPages
	preloadPages = 0 // batch queries, not the load: each lookup reads the file
	defer func() { preloadPages = old }()
	path := bigCache(t, 5000)
	c, err := OpenCache(path, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	clock := &testClock{now: time.Now()}
	c.Now = clock.Now
	var again []string
	c.OnReadAgain = func(msg string) { again = append(again, msg) }
	cut := cutAtRow(t, c, path, 10)
	ask := make([]netip.Addr, 500)
	for i := range ask {
		ask[i] = bigAddr(i * 10)
	}
	lookup := func() (hits int) {
		t.Helper()
		got, ok := make([]RDNS, len(ask)), make([]bool, len(ask))
		c.getRDNSBatch(ask, got, ok)
		for i := range ok {
			if ok[i] {
				hits++
			}
		}
		return hits
	}
	if hits := lookup(); hits < 9 || hits == len(ask) {
		t.Fatalf("%d hits under the cut: want those read before it", hits)
	}
	if !c.broken.Load() || len(cut.told) != 1 || !strings.Contains(cut.told[0], "it is not read again until it is opened again, in 1m0s") {
		t.Fatalf("after the cut: broken %v, told %q; want broken, told once when it is opened again", c.broken.Load(), cut.told)
	}

	// before reopenAfter: misses, and the file is not read
	rows := cut.rows
	clock.add(reopenAfter - time.Second)
	if hits := lookup(); hits != 0 || cut.rows != rows || len(again) != 0 {
		t.Fatalf("%s after the fault: %d hits, %d rows read, opened again %q; want misses, nothing read", reopenAfter-time.Second, hits, cut.rows-rows, again)
	}

	// at reopenAfter, the file cut short in place: not used; tried again
	// after twice the wait
	clock.add(time.Second)
	start := time.Now()
	if hits := lookup(); hits != 0 || !c.broken.Load() || len(again) != 0 {
		t.Fatalf("the file cut short: %d hits, broken %v, told %q; want not opened", hits, c.broken.Load(), again)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the failed opening held the lookup %s", took)
	}
	if c.retryWait != 2*reopenAfter {
		t.Fatalf("after a failed opening, the wait is %s, want %s", c.retryWait, 2*reopenAfter)
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(path + suffix); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	clock.add(2*reopenAfter - time.Second)
	if lookup(); !c.broken.Load() {
		t.Fatal("opened again before its time")
	}
	clock.add(time.Second)
	if hits := lookup(); hits != 0 || c.broken.Load() {
		t.Fatalf("the file deleted: %d hits, broken %v; want an empty cache, opened again", hits, c.broken.Load())
	}
	if len(again) != 1 || !strings.Contains(again[0], "opened again after the fault of") || !strings.Contains(again[0], path) {
		t.Fatalf("told %q; want once that it was opened again", again)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the cache made again: %v %v", fi, err)
	}
	c.PutRDNS(ask[3], RDNS{Name: "stored.example", Verified: true})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if v, ok := c.GetRDNS(ask[3]); ok {
			if v.Name != "stored.example" || !v.Verified {
				t.Fatalf("read back %+v", v)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("what was stored after the reopening is not read back")
		}
		time.Sleep(10 * time.Millisecond) // polled: the writer commits every 200 ms
	}
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// After maxFaulted faults the cache is not opened again (each fault
// leaves a connection behind), and the last fault says so; the waits
// double up to reopenMax.
func TestCacheReopenGivesUp(t *testing.T) {
	c, err := OpenCache(t.TempDir()+"/cache.db", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	clock := &testClock{now: time.Now()}
	c.Now = clock.Now
	var told []string
	c.OnReadFault = func(err error) { told = append(told, err.Error()) }
	c.rmu.Lock()
	defer c.rmu.Unlock()
	var waits []time.Duration
	for range maxFaulted {
		c.broken.Store(true)
		c.fault("a test")
		waits = append(waits, c.retryWait)
		clock.add(c.retryWait)
	}
	want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 16 * time.Minute, 32 * time.Minute, time.Hour, time.Hour}
	if len(waits) != len(want) {
		t.Fatalf("waits %v, want %v", waits, want)
	}
	for i := range want {
		if waits[i] != want[i] {
			t.Fatalf("waits %v, want %v", waits, want)
		}
	}
	if last := told[len(told)-1]; !strings.Contains(last, "after 8 faults, it is not read again until the next run") {
		t.Fatalf("the last fault told %q", last)
	}
	clock.add(24 * time.Hour)
	if c.reopen() || !c.broken.Load() {
		t.Fatal("opened again after maxFaulted faults")
	}
}
