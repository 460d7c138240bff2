package notify

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// renders is every format a message takes, by golden file name: the mail's
// subject, text and HTML parts, the Mattermost and Teams payloads, the
// webhook's JSON, the script's stdin and the user's notice (the default
// one), for the message's first account.
func renders(t *testing.T, m *Message) map[string]string {
	t.Helper()
	js := func(v any) string {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		return string(b) + "\n"
	}
	notice, err := (&UserNotice{}).text(m.Accounts[0])
	if err != nil {
		t.Fatal(err)
	}
	stdin, err := json.Marshal(m.Accounts[0])
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"subject.txt":     Subject(m) + "\n",
		"plain.txt":       Plain(m),
		"mail.html":       HTML(m),
		"mattermost.json": js((&Mattermost{Channel: "town-square"}).payload(m)),
		"mattermost.md":   Markdown(m),
		"teams.json":      js((&Teams{}).payload(m)),
		"webhook.json":    js((&Webhook{}).payload(m)),
		"exec-stdin.json": string(stdin) + "\n",
		"notice.txt":      notice,
	}
}

// checkGolden compares each render with testdata/dir/name (go test
// -update rewrites them).
func checkGolden(t *testing.T, dir string, got map[string]string) {
	t.Helper()
	for name, out := range got {
		path := filepath.Join("testdata", dir, name)
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (go test -update writes it)", err)
		}
		if out != string(want) {
			t.Errorf("%s differs from the golden file; got:\n%s", path, out)
		}
	}
}

// With the original rule (no severity, no reasons) every format is what
// it was before the detectors came: the golden files in
// testdata/original were written by the code before them.
func TestGoldenOriginal(t *testing.T) {
	checkGolden(t, "original", renders(t, message()))
}
