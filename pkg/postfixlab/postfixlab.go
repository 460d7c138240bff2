// Package postfixlab is for the tests that drive a real Postfix through
// scripts/postfix-lab.
package postfixlab

import (
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Require skips the test unless root, postfix and swaks are at hand; with
// LOGANOM_REQUIRE_POSTFIX set (as CI sets it) it fails instead.
func Require(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short")
	}
	_, errP := exec.LookPath("postfix")
	_, errS := exec.LookPath("swaks")
	if os.Geteuid() != 0 || errP != nil || errS != nil {
		if os.Getenv("LOGANOM_REQUIRE_POSTFIX") != "" {
			t.Fatal("needs root, postfix and swaks (scripts/postfix-lab install)")
		}
		t.Skip("needs root, postfix and swaks (scripts/postfix-lab install)")
	}
}

// Dir is a temporary directory that Postfix's own user can reach.
func Dir(t *testing.T) string {
	dir := t.TempDir()
	for d := dir; d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		os.Chmod(d, 0o755)
	}
	return dir
}

// PortBase picks LAB_PORT_BASE for the lab (ports base+25, +587,
// +465). Postfix listens with SO_REUSEPORT: a second lab on the same ports
// (pkg/parse's test, the tests of another checkout on the same machine)
// starts without an error and takes some of the other's connections, and
// logins land in the wrong log. So: a random base, below the ephemeral
// ports and away from the fixed bases 10000 and 20000, whose three ports
// nobody listens on now.
func PortBase(t *testing.T) int {
	t.Helper()
	for try := 0; try < 100; try++ {
		base := 21000 + rand.IntN(11000)
		free := true
		for _, p := range []int{base + 25, base + 587, base + 465} {
			ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
			if err != nil {
				free = false
				break
			}
			ln.Close()
		}
		if free {
			return base
		}
	}
	t.Fatal("no free ports for the lab")
	return 0
}

// Start starts a lab in the directory lab with script (scripts/postfix-lab)
// on a free PortBase, and stops it when the test ends. It returns the
// base and a function that runs script with more arguments, failing the
// test on an error.
func Start(t *testing.T, script, lab string) (base int, run func(args ...string)) {
	t.Helper()
	base = PortBase(t)
	run = func(args ...string) {
		t.Helper()
		cmd := exec.Command(script, args...)
		cmd.Env = append(os.Environ(), "LAB_PORT_BASE="+strconv.Itoa(base))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("postfix-lab %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run("start", lab)
	t.Cleanup(func() { exec.Command(script, "stop", lab).Run() })
	return base, run
}
