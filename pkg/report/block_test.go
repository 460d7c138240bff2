package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func TestLift(t *testing.T) {
	for _, c := range []struct{ user, want string }{
		{"bob@example.test", "loganom unblock bob@example.test, or DELETE /v1/blocks/bob@example.test"},
		{"Bob Smith", "loganom unblock 'Bob Smith', or DELETE /v1/blocks/Bob%20Smith"},
		{"a'$(id)`x`", `loganom unblock 'a'\''$(id)` + "`x`'" + `, or DELETE /v1/blocks/a%27$%28id%29%60x%60`},
		{"-rf", "loganom unblock -- -rf, or DELETE /v1/blocks/-rf"},
	} {
		if got := Lift(c.user); got != c.want {
			t.Errorf("Lift(%q) = %q, want %q", c.user, got, c.want)
		}
	}
	// a name with a slash or a question mark stays one path segment
	if got := Lift("a/b?c"); got != "loganom unblock 'a/b?c', or DELETE /v1/blocks/a%2Fb%3Fc" {
		t.Errorf("Lift(a/b?c) = %q", got)
	}
}

// The text and JSON formats of an alert whose account was blocked
// (testdata/blocked.txt, blocked.json; go test -update writes them).
func TestBlockedGolden(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 10, 32, 17, 0, time.UTC)
	a := &Account{User: "bob@example.test", Logins: 2, First: t0, Last: t0, Countries: []string{"BA", "ES"}, ASNs: []uint32{9146, 12479},
		IPs: []*IP{{IP: "92.36.10.20", Count: 1, First: t0, Last: t0, Country: "BA", City: "Sarajevo", ASN: 9146, Org: "BH Telecom"},
			{IP: "188.76.17.119", Count: 1, First: t0, Last: t0, Country: "ES", City: "Madrid", ASN: 12479, Org: "Orange Espagne SA"}},
		Severity: "high",
		Blocked:  NewBlockMark("bob@example.test", t0.Add(24*time.Hour), "loganom auto-block", true)}
	var text, js bytes.Buffer
	if err := Text(&text, []*Account{a}, 3, nil); err != nil {
		t.Fatal(err)
	}
	if err := JSON(&js, []*Account{a}, nil); err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string]string{"blocked.txt": text.String(), "blocked.json": js.String()} {
		path := filepath.Join("testdata", name)
		if *update {
			os.MkdirAll("testdata", 0o755)
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (go test -update writes it)", err)
		}
		if got != string(want) {
			t.Errorf("%s differs; got:\n%s", path, got)
		}
	}
}
