package enrichcmd

import (
	"io"
	"os"
	"testing"

	"github.com/loganom/loganom/cmd/internal/cli"
)

// BenchmarkWarmFile runs loganom-enrich on $LOGANOM_BENCH_IN (records from
// scripts/genevents, their answers in the cache $LOGANOM_BENCH_CACHE) into
// a file, for -cpuprofile.
func BenchmarkWarmFile(b *testing.B) {
	in, cache := os.Getenv("LOGANOM_BENCH_IN"), os.Getenv("LOGANOM_BENCH_CACHE")
	if in == "" || cache == "" {
		b.Skip("set LOGANOM_BENCH_IN and LOGANOM_BENCH_CACHE (scripts/bench-enrich makes them)")
	}
	out := os.Getenv("LOGANOM_BENCH_OUT")
	for b.Loop() {
		var w io.Writer = io.Discard
		if out != "" {
			f, err := os.Create(out)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			w = f
		}
		env := cli.Env{
			Args:   []string{"--dns", os.Getenv("LOGANOM_BENCH_DNS"), "--cache", cache, "--geoip", "../../../testdata/geo/example-city.mmdb", "--geoip", "../../../testdata/geo/example-asn.mmdb", in},
			Stdout: w, Stderr: os.Stderr, Getenv: func(string) string { return "" },
		}
		if code := Main(env); code != 0 {
			b.Fatalf("exit %d", code)
		}
	}
}
