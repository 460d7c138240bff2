//go:build unix

package enrich

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user and system time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
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
	// the lookups before batches: a query each, on a connection of their
	// own, in read transactions of readSpan (here one for the run)
	b.Run("per-address-query", func(b *testing.B) {
		cpu0 := cpuTime()
		for b.Loop() {
			c, err := OpenCache(path, time.Hour)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			conn, err := c.pool().Conn(ctx)
			if err != nil {
				b.Fatal(err)
			}
			get, err := conn.PrepareContext(ctx, `SELECT name, verified, expires FROM rdns WHERE ip = ?`)
			if err != nil {
				b.Fatal(err)
			}
			conn.ExecContext(ctx, "BEGIN DEFERRED")
			hits := 0
			for _, ip := range ask {
				var name string
				var verified, expires int64
				if get.QueryRow(ip.String()).Scan(&name, &verified, &expires) == nil {
					hits++
				}
			}
			conn.ExecContext(ctx, "ROLLBACK")
			get.Close()
			conn.Close()
			c.Close()
			if hits != len(ask) {
				b.Fatalf("%d hits of %d", hits, len(ask))
			}
		}
		b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N)/1e6, "cpu-ms/op")
	})
	for _, size := range []int{1, 16, 64, 256, 4756} {
		b.Run(fmt.Sprint("batch-", size), func(b *testing.B) {
			cpu0 := cpuTime()
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
			// the machine is shared: the CPU time says more than the wall's
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N)/1e6, "cpu-ms/op")
		})
	}
}
