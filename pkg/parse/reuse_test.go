package parse

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/record"
)

// TestReuse reads a real log cut into many small chunks, with records'
// memory reused (Options.Reuse) and poisoned when given back: every
// record is intact when emitted, whatever Reuse answers, and a consumer
// that holds the records emitted last (a window, as the enricher does)
// finds each intact when it lets it go. A consumer that keeps records,
// breaking Reuse's promise, sees them change: the reuse is real, and the
// poison would show in a test's output.
func TestReuse(t *testing.T) {
	real, err := os.ReadFile(filepath.Join("..", "..", "testdata", "logs", "postfix-3.7-real.log"))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "maillog")
	if err := os.WriteFile(file, bytes.Repeat(real, 30), 0o600); err != nil {
		t.Fatal(err)
	}
	oldMax, oldChunk := maxLine, chunkSize
	maxLine, chunkSize = 4096, 900
	defer func() { maxLine, chunkSize = oldMax, oldChunk }()

	now := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	for _, onlyLogins := range []bool{false, true} {
		base := Options{Loc: time.UTC, Workers: 3, OnlyLogins: onlyLogins, Now: func() time.Time { return now }}
		run := func(opts Options, each func(*record.Record)) {
			t.Helper()
			src := &Source{Names: []string{file}, Opts: opts}
			if err := src.Run(func(r *record.Record) error { each(r); return nil }); err != nil {
				t.Fatal(err)
			}
		}
		encode := func(r *record.Record) string { return string(record.AppendJSON(nil, r)) }
		var want []string
		run(base, func(r *record.Record) { want = append(want, encode(r)) })
		if len(want) < 100 {
			t.Fatalf("only %d records: the test needs many chunks of records", len(want))
		}
		check := func(name string, reuse func() int) {
			t.Helper()
			opts := base
			opts.Reuse, opts.Poison = reuse, true
			var got []string
			run(opts, func(r *record.Record) { got = append(got, encode(r)) })
			if len(got) != len(want) {
				t.Fatalf("onlyLogins=%v, %s: %d records, want %d", onlyLogins, name, len(got), len(want))
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("onlyLogins=%v, %s: record %d is\n%s\nwant\n%s", onlyLogins, name, i, got[i], want[i])
				}
			}
		}
		if onlyLogins {
			// the failures told, by address and time, are those of the
			// whole reading (their records borrow the parser's memory)
			var wantFails, gotFails []string
			all := base
			all.OnlyLogins = false
			run(all, func(r *record.Record) {
				if r.Type == record.TypeAuthFailure && r.IP != "" {
					wantFails = append(wantFails, r.IP+" "+r.Time.String())
				}
			})
			opts := base
			opts.OnFailure = func(ip string, at time.Time) { gotFails = append(gotFails, ip+" "+at.String()) }
			opts.Reuse, opts.Poison = func() int { return 0 }, true
			run(opts, func(*record.Record) {})
			if len(wantFails) < 50 || strings.Join(gotFails, "\n") != strings.Join(wantFails, "\n") {
				t.Errorf("failures told (%d):\n%.500s\nwant (%d):\n%.500s", len(gotFails), strings.Join(gotFails, "\n"), len(wantFails), strings.Join(wantFails, "\n"))
			}
		}
		check("none held", func() int { return 0 })
		n := 0
		check("every third time none held, else all", func() int {
			n++
			if n%3 == 0 {
				return 0
			}
			return math.MaxInt
		})
		check("all held", func() int { return math.MaxInt })

		// a consumer holding the records emitted last, a window of a
		// size that changes, finds each intact when it lets it go
		for _, most := range []int{1, 7, 40, 300} {
			opts := base
			var window []*record.Record
			let := 0 // records let go
			letGo := func() {
				r := window[0]
				window = window[1:]
				if got := encode(r); got != want[let] {
					t.Fatalf("onlyLogins=%v, window of %d: record %d, let go, is\n%s\nwant\n%s", onlyLogins, most, let, got, want[let])
				}
				let++
			}
			rng := rand.New(rand.NewPCG(uint64(most), 1))
			opts.Reuse, opts.Poison = func() int {
				for len(window) > 0 && rng.IntN(4) == 0 { // now and then, some go
					letGo()
				}
				return len(window)
			}, true
			run(opts, func(r *record.Record) {
				window = append(window, r)
				for len(window) > most {
					letGo()
				}
			})
			for len(window) > 0 {
				letGo()
			}
			if let != len(want) {
				t.Fatalf("onlyLogins=%v, window of %d: %d records, want %d", onlyLogins, most, let, len(want))
			}
		}

		// breaking the promise: records kept past their emit change
		var kept []*record.Record
		opts := base
		opts.Reuse, opts.Poison = func() int { return 0 }, true
		run(opts, func(r *record.Record) { kept = append(kept, r) })
		changed := 0
		for i, r := range kept {
			if encode(r) != want[i] {
				changed++
			}
		}
		if changed == 0 {
			t.Errorf("onlyLogins=%v: no record kept past its emit changed: the memory was not reused", onlyLogins)
		}
		// without Reuse, they stay as they were
		kept = kept[:0]
		run(base, func(r *record.Record) { kept = append(kept, r) })
		for i, r := range kept {
			if encode(r) != want[i] {
				t.Fatalf("onlyLogins=%v: without Reuse, kept record %d changed", onlyLogins, i)
			}
		}
	}
}
