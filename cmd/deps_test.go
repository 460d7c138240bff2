// Package cmd_test checks what each binary links: a pipe binary carries
// only the libraries of its own stage, so that it is small and starts
// fast.
package cmd_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

func TestBinaryDeps(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	for _, tc := range []struct {
		bin            string
		links, notLink []string
	}{
		// loganom-enrich does the lookups: the control that the names are right.
		{"./loganom-enrich", []string{"modernc.org/sqlite", "github.com/miekg/dns"}, nil},
		{"./loganom", []string{"modernc.org/sqlite", "github.com/miekg/dns", "net/smtp"}, nil},
		{"./loganom-filter", nil, []string{"modernc.org/sqlite", "github.com/miekg/dns"}},
		// loganom-report --db and loganom-parse --resume keep the state
		// (SQLite, PostgreSQL); neither does lookups.
		{"./loganom-report", []string{"net/smtp", "modernc.org/sqlite", "github.com/jackc/pgx/v5"}, []string{"github.com/miekg/dns"}},
		{"./loganom-parse", []string{"modernc.org/sqlite"}, []string{"github.com/miekg/dns", "net/http", "net/smtp"}},
	} {
		t.Run(strings.TrimPrefix(tc.bin, "./"), func(t *testing.T) {
			out, err := exec.Command(goBin, "list", "-deps", tc.bin).Output()
			if err != nil {
				var stderr []byte
				if ee, ok := err.(*exec.ExitError); ok {
					stderr = ee.Stderr
				}
				t.Fatalf("go list -deps %s: %v\n%s", tc.bin, err, stderr)
			}
			deps := strings.Fields(string(out))
			for _, p := range tc.links {
				if !slices.Contains(deps, p) {
					t.Errorf("%s does not link %s", tc.bin, p)
				}
			}
			for _, p := range tc.notLink {
				if slices.Contains(deps, p) {
					t.Errorf("%s links %s", tc.bin, p)
				}
			}
		})
	}
}
