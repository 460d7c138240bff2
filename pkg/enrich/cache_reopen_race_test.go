package enrich

import (
	"net/netip"
	"path/filepath"
	"testing"
	"time"
)

// A reopen after a fault does not fail the stores and lookups of other
// goroutines (the writer, PutGeo, GetGeo, Stats, Prune) that took the
// pool (pool()) just before it was replaced: the old pool is retired, not
// closed, until Close; before, such a store failed with "sql: database
// is closed", its answers lost.
func TestCacheReopenWhileWriting(t *testing.T) {
	c, err := OpenCache(filepath.Join(t.TempDir(), "cache.db"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	old := c.pool() // as the writer takes it, just before the reopen
	c.rmu.Lock()
	c.broken.Store(true)
	c.rmu.Unlock()
	ask := []netip.Addr{netip.MustParseAddr("192.0.2.1")}
	c.getRDNSBatch(ask, make([]RDNS, 1), make([]bool, 1))
	if c.broken.Load() || c.pool() == old {
		t.Fatal("not opened again")
	}
	tx, err := old.Begin()
	if err != nil {
		t.Fatalf("a store on the pool taken before the reopen: %v", err)
	}
	if _, err := tx.Exec(`INSERT OR REPLACE INTO geo (source, ip, answer, expires) VALUES ('ipinfo', '192.0.2.1', '{}', 1)`); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := old.Ping(); err == nil {
		t.Error("the retired pool is still open after Close")
	}
}
