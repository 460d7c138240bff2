package parse

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/loganom/loganom/pkg/postfixlab"
	"github.com/loganom/loganom/pkg/record"
)

// TestRealPostfix runs scripts/postfix-lab's scenario against the Postfix
// installed on this machine and checks that the parser finds exactly the
// logins, failures and rejects the scenario made, whatever this Postfix
// version writes. It needs root, postfix and swaks; CI installs them and
// sets LOGANOM_REQUIRE_POSTFIX=1 so that it cannot be skipped there.
func TestRealPostfix(t *testing.T) {
	postfixlab.Require(t)
	dir := postfixlab.Dir(t)
	out := filepath.Join(dir, "maillog")
	cmd := exec.Command("../../scripts/postfix-lab", "scenario", filepath.Join(dir, "lab"), out)
	cmd.Env = append(os.Environ(), "LAB_PORT_BASE="+strconv.Itoa(postfixlab.PortBase(t)))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("postfix-lab: %v\n%s", err, b)
	}
	var got []string
	src := &Source{Names: []string{out}}
	err := record.Run(src, func(r *record.Record) error {
		s := r.Type + " " + r.User + " " + r.IP
		if r.Type == record.TypeReject {
			s += " " + *r.From + " " + r.Reason[:3]
		}
		got = append(got, s)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"login alice@example.test 187.45.12.9",
		"login alice@example.test 177.66.162.138",
		"login alice@example.test 2804:14c:5bb3:8a1c::1",
		"login bob@example.test 92.36.10.20",
		"login bob@example.test 176.63.195.207",
		"login bob@example.test 188.76.17.119",
		"login bob@example.test 118.69.77.12",
		"login bob@example.test 41.203.64.7",
		"login o'hara+sales@example.test 81.2.69.160",
		"auth_failure alice@example.test 45.227.254.8",
		"auth_failure nobody@example.test 80.94.95.115",
		"auth_failure bob@example.test 2001:db8::bad",
		"reject  203.0.113.77 spam@spam.example 454",
		"reject  198.51.100.4 quota@example.test 450",
		"reject  198.51.100.4 quota@example.test 450",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if src.Stats.Malformed != 0 {
		t.Errorf("%d malformed lines", src.Stats.Malformed)
	}
}
