package enrich

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"testing"
	"time"
)

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

// A run of the wrapper on the bench's cache: 75,000 answers, 4,756 of
// them asked (scripts/bench-pipeline), from the opening to the close.
func BenchmarkCacheBatch(b *testing.B) {
	path := bigCache(b, 75000)
	ask := make([]netip.Addr, 4756)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range ask {
		ask[i] = bigAddr(rng.IntN(75000))
	}
	for _, size := range []int{1, 256} {
		b.Run(fmt.Sprint("batch-", size), func(b *testing.B) {
			for b.Loop() {
				c, err := OpenCache(path, time.Hour)
				if err != nil {
					b.Fatal(err)
				}
				found, ok := make([]RDNS, size), make([]bool, size)
				hits := 0
				for i := 0; i < len(ask); i += size {
					n := min(size, len(ask)-i)
					clear(ok)
					c.getRDNSBatch(ask[i:i+n], found[:n], ok[:n])
					for _, k := range ok[:n] {
						if k {
							hits++
						}
					}
				}
				c.Close()
				if hits != len(ask) {
					b.Fatalf("%d hits of %d", hits, len(ask))
				}
			}
		})
	}
}
