package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/loganomcmd"
	"github.com/loganom/loganom/pkg/enrich/dnstest"
	"github.com/loganom/loganom/pkg/postfixlab"
)

// TestEndToEnd drives a real Postfix (scripts/postfix-lab: loopback only,
// SASL against its own sasldb, client addresses claimed with XCLIENT) and
// runs loganom postfix-sasl on the log it wrote, with a DNS server on
// loopback and the bundled databases: the report must name exactly the
// account whose password a botnet uses. It needs root, postfix and swaks;
// CI installs them and sets LOGANOM_REQUIRE_POSTFIX=1.
func TestEndToEnd(t *testing.T) {
	postfixlab.Require(t)
	root, _ := filepath.Abs("../..")
	dir := postfixlab.Dir(t)
	lab := filepath.Join(dir, "lab")
	_, labCmd := postfixlab.Start(t, filepath.Join(root, "scripts/postfix-lab"), lab)
	for _, u := range []string{"alice", "bob", "carol"} {
		labCmd("adduser", lab, u+"@example.test", u+"-pw")
	}
	login := func(user, pass, addr string) { labCmd("login", lab, user+"@example.test", pass, addr) }
	// alice: from home, in Brazil
	login("alice", "alice-pw", "187.45.12.9")
	login("alice", "alice-pw", "177.66.162.138")
	login("alice", "alice-pw", "IPV6:2804:14c:5bb3:8a1c::1")
	// bob: his password is used from six countries
	for _, a := range []string{"92.36.10.20", "176.63.195.207", "188.76.17.119", "118.69.77.12", "41.203.64.7", "188.69.195.171"} {
		login("bob", "bob-pw", a)
	}
	// carol: through Google (a verified name) and Microsoft (its AS), and from home
	login("carol", "carol-pw", "209.85.218.52")
	login("carol", "carol-pw", "52.125.129.21")
	login("carol", "carol-pw", "177.66.162.138")
	// failed logins: wrong passwords, an account that does not exist
	login("alice", "guess", "45.227.254.8")
	login("dave", "guess", "80.94.95.115")
	login("dave", "guess", "81.2.69.160")
	labCmd("stop", lab)

	z, err := dnstest.ParseZone(`
52.218.85.209.in-addr.arpa. 300 IN PTR mail-ej1-f52.google.com.
mail-ej1-f52.google.com. 300 IN A 209.85.218.52
207.195.63.176.in-addr.arpa. 300 IN PTR smtp.google.com.
smtp.google.com. 300 IN A 142.250.27.27
`)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := dnstest.Start(z, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	config := filepath.Join(dir, "config.ini")
	os.WriteFile(config, []byte(fmt.Sprintf(`[GENERAL]
country_ignore = BR
pattern_ip = google.com
pattern_org = AS8075

[ENRICH]
geoip = %[1]s/testdata/geo/example-city.mmdb
    %[1]s/testdata/geo/example-asn.mmdb
dns = %[2]s
cache = %[3]s/cache.db
`, root, srv.Addr, dir)), 0o644)

	var stdout, stderr bytes.Buffer
	code := loganomcmd.Main(cli.Env{
		Args:   []string{"postfix-sasl", "-c", config, "-l", filepath.Join(lab, "maillog"), "--format", "json", "--stats", "--db", filepath.Join(t.TempDir(), "state.db")},
		Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" },
	})
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	var users []string
	var bob struct {
		Countries []string `json:"countries"`
		IPs       []struct {
			RDNS string `json:"rdns"`
		} `json:"ips"`
		Severity string `json:"severity"`
		Reasons  []struct {
			Detector, Text string
		} `json:"reasons"`
	}
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		var a struct {
			User string `json:"user"`
		}
		if err := json.Unmarshal([]byte(line), &a); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		users = append(users, a.User)
		if a.User == "bob@example.test" {
			json.Unmarshal([]byte(line), &bob)
		}
	}
	if strings.Join(users, ",") != "bob@example.test" {
		t.Fatalf("reported %v, want bob only\nstderr:\n%s", users, stderr.String())
	}
	if strings.Join(bob.Countries, ",") != "BA,ES,HU,LT,NG,VN" {
		t.Errorf("bob's countries %v", bob.Countries)
	}
	// with his reasons: six new countries at once, a botnet
	if bob.Severity != "high" || len(bob.Reasons) == 0 || bob.Reasons[0].Detector != "many_places" ||
		!strings.Contains(bob.Reasons[0].Text, "6 new countries (BA ES HU LT NG VN)") {
		t.Errorf("bob's verdict: %s %+v", bob.Severity, bob.Reasons)
	}
	// bob's botnet host names itself smtp.google.com: it does not resolve
	// back, so it did not whitelist that login
	if !strings.Contains(stdout.String(), `"rdns":"smtp.google.com","rdns_verified":false`) {
		t.Errorf("the spoofed name is not in the report:\n%s", stdout.String())
	}
	if !strings.Contains(stderr.String(), "stats: inputs=1") || !strings.Contains(stderr.String(), "login=12 auth_failure=3") {
		t.Errorf("stderr:\n%s", stderr.String())
	}
}
