package parse

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/loganom/loganom/pkg/record"
)

// findShared looks for the shared/ folder that lies beside the project's
// clone, for developers and CI; other machines skip the tests that need it.
func findShared(t *testing.T, rel string) string {
	t.Helper()
	dir, _ := os.Getwd()
	for i := 0; i < 8; i++ {
		p := filepath.Join(dir, "shared", rel)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		dir = filepath.Dir(dir)
	}
	t.Skipf("no shared/%s beside the project", rel)
	return ""
}

// Real lines from other projects' test suites (fail2ban, CrowdSec,
// postfix_exporter, Lightmeter, SSHGuard), labelled by line: the parser
// must find exactly the labelled logins and failures, with their fields.
// They are other projects' material and are read from shared/, not copied.
func TestPeerSamples(t *testing.T) {
	dir := findShared(t, "samples/peer-tests")
	type want struct {
		Line    int64  `json:"line"`
		Failure bool   `json:"failure"`
		User    string `json:"user"`
		IP      string `json:"ip"`
		RDNS    string `json:"rdns"`
		Method  string `json:"method"`
	}
	wants := map[int64]want{}
	f, err := os.Open(filepath.Join(dir, "expected.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var w want
		if err := json.Unmarshal(sc.Bytes(), &w); err != nil {
			t.Fatal(err)
		}
		wants[w.Line] = w
	}
	got := map[int64]*record.Record{}
	src := &Source{Names: []string{filepath.Join(dir, "lines.log")}}
	err = record.Run(src, func(r *record.Record) error {
		if r.Type != record.TypeReject {
			got[r.SrcLine] = r
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for line, w := range wants {
		r := got[line]
		if r == nil {
			t.Errorf("line %d: missed (%+v)", line, w)
			continue
		}
		wantType := record.TypeLogin
		if w.Failure {
			wantType = record.TypeAuthFailure
		}
		if r.Type != wantType || r.IP != w.IP || r.ClientName != w.RDNS || (!w.Failure && (r.User != w.User || r.Method != w.Method)) {
			t.Errorf("line %d: got %s %s %s %s %s, want %+v", line, r.Type, r.User, r.IP, r.ClientName, r.Method, w)
		}
	}
	for line, r := range got {
		if _, ok := wants[line]; !ok {
			t.Errorf("line %d: %s event where the labels have none", line, r.Type)
		}
	}
	if src.Stats.Malformed != 0 {
		t.Errorf("%d lines counted as malformed", src.Stats.Malformed)
	}
	// every failure line that names a user keeps it
	for _, l := range []int64{47, 77, 85} {
		if r := got[l]; r == nil || r.User == "" {
			t.Errorf("line %d: failure without its sasl_username", l)
		}
	}
}
