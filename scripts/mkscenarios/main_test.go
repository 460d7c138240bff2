package main

import (
	"os"
	"path/filepath"
	"testing"
)

// The logs and the zone in testdata/scenarios are what this program
// writes: a story is changed here, never in a log by hand.
func TestGenerateMatchesTestdata(t *testing.T) {
	dir := t.TempDir()
	if err := generate(dir); err != nil {
		t.Fatal(err)
	}
	made, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(made) != len(scenarios)+1 {
		t.Fatalf("wrote %d files, want %d logs and the zone", len(made), len(scenarios))
	}
	for _, f := range made {
		want, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join("../../testdata/scenarios", filepath.Base(f)))
		if err != nil {
			t.Fatalf("%v (run go run ./scripts/mkscenarios testdata/scenarios)", err)
		}
		if string(got) != string(want) {
			t.Errorf("testdata/scenarios/%s is not what scripts/mkscenarios writes: run go run ./scripts/mkscenarios testdata/scenarios", filepath.Base(f))
		}
	}
}
