package enrich

import (
	"net/netip"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A reopen after a fault does not fail the stores and lookups of other
// goroutines (the writer, PutGeo, GetGeo) that took the pool just before
// it was replaced: none of them sees "sql: database is closed", and no
// answer is lost.
func TestCacheReopenWhileWriting(t *testing.T) {
	c, err := OpenCache(filepath.Join(t.TempDir(), "cache.db"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var stop atomic.Bool
	var wg sync.WaitGroup
	for g := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				ip := netip.AddrFrom4([4]byte{10, byte(g), byte(i >> 8), byte(i)})
				c.PutGeo("ipinfo", ip, Geo{Country: "DE"})
				c.GetGeo("ipinfo", ip)
			}
		}()
	}
	ask := []netip.Addr{netip.MustParseAddr("192.0.2.1")}
	got, ok := make([]RDNS, 1), make([]bool, 1)
	for range 1000 {
		c.rmu.Lock()
		c.broken.Store(true)
		c.faulted, c.retryAt = 0, time.Time{}
		c.rmu.Unlock()
		c.getRDNSBatch(ask, got, ok)
		if c.broken.Load() {
			t.Fatal("not opened again")
		}
	}
	stop.Store(true)
	wg.Wait()
	c.mu.Lock()
	err, lost := c.err, c.lost
	c.mu.Unlock()
	if err != nil || lost != 0 {
		t.Fatalf("a store failed under the reopens: %v (%d lost)", err, lost)
	}
}
