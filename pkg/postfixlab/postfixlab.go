// Package postfixlab is for the tests that drive a real Postfix through
// scripts/postfix-lab.
package postfixlab

import (
	"os"
	"os/exec"
	"path/filepath"
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
