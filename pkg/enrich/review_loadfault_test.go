package enrich

import (
	"net/netip"
	"testing"
	"time"
)

// A cache loaded whole (loadMem) whose file is cut short under the load,
// by the first batch lookup: the fault is told once, and the lookups are
// misses; the connection is not used again after the fault.
func TestCacheTruncatedUnderLoad(t *testing.T) {
	path := bigCache(t, 3000)
	c, err := OpenCache(path, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if c.pages > preloadPages {
		t.Fatalf("%d pages: the test needs a cache loaded whole (at most %d)", c.pages, preloadPages)
	}
	cut := cutAtRow(t, c, path, 10)
	ask := make([]netip.Addr, 500)
	for i := range ask {
		ask[i] = bigAddr(i * 5)
	}
	got, ok := make([]RDNS, len(ask)), make([]bool, len(ask))
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.getRDNSBatch(ask, got, ok)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the lookup hangs after the fault")
	}
	t.Logf("rows %d, broken %v, told %q", cut.rows, c.broken.Load(), cut.told)
	if len(cut.told) != 1 {
		t.Errorf("told of the fault %d times: %q; want once", len(cut.told), cut.told)
	}
	if cut.rows > 10 {
		t.Errorf("%d rows read: the connection was used again after the fault at row 10", cut.rows)
	}
	c.Close()
}
