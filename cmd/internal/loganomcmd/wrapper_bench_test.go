package loganomcmd

import (
	"io"
	"os"
	"testing"

	"github.com/loganom/loganom/cmd/internal/cli"
)

// BenchmarkWrapper runs loganom postfix-sasl --no-db on $LOGANOM_BENCH_LOG
// with the config $LOGANOM_BENCH_CONFIG (scripts/bench-pipeline makes
// both), for -cpuprofile.
func BenchmarkWrapper(b *testing.B) {
	logf, cfg := os.Getenv("LOGANOM_BENCH_LOG"), os.Getenv("LOGANOM_BENCH_CONFIG")
	if logf == "" || cfg == "" {
		b.Skip("set LOGANOM_BENCH_LOG and LOGANOM_BENCH_CONFIG (scripts/bench-pipeline makes them)")
	}
	for b.Loop() {
		env := cli.Env{
			Args:   []string{"postfix-sasl", "--no-db", "-c", cfg, "-l", logf},
			Stdout: io.Discard, Stderr: os.Stderr, Getenv: func(string) string { return "" },
		}
		if code := Main(env); code != 0 && code != 3 {
			b.Fatalf("exit %d", code)
		}
	}
}
