package cli

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

// The tuning changes the process's collector: each case runs in a child
// process of the test binary (TestMain below), which prints what it saw.
func TestMain(m *testing.M) {
	if c := os.Getenv("LOGANOM_TUNE_CHILD"); c != "" {
		tuneChild(c)
		return
	}
	os.Exit(m.Run())
}

var keep [][]byte

func tuneChild(c string) {
	getenv := os.Getenv
	size := int64(batchMin)
	if c == "small" {
		size = batchMin - 1
	}
	TuneBatch(size, getenv)
	gc := debug.SetGCPercent(-2) // reads it (-2: any negative is "off")
	debug.SetGCPercent(gc)
	fmt.Printf("gc %d limit %d\n", gc, debug.SetMemoryLimit(-1))
	if c == "grow" {
		// a live heap of more than half the limit: the default comes back
		for range 48 {
			keep = append(keep, bytes.Repeat([]byte{1}, 1<<20))
		}
		for i := 0; i < 100; i++ {
			runtime.GC()
			time.Sleep(10 * time.Millisecond)
			if gc = debug.SetGCPercent(-2); gc != -1 {
				debug.SetGCPercent(gc)
				break
			}
			debug.SetGCPercent(gc)
		}
		fmt.Printf("then gc %d limit %d\n", gc, debug.SetMemoryLimit(-1))
	}
	if smaps, err := os.ReadFile("/proc/self/smaps"); err == nil {
		fmt.Printf("huge %v\n", bytes.Contains(smaps, []byte(" hg")))
	}
}

func runTuneChild(t *testing.T, c string, env ...string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "LOGANOM_TUNE_CHILD="+c, "GOGC=", "GOMEMLIMIT=")
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", c, err, out)
	}
	return string(out)
}

func TestTuneBatch(t *testing.T) {
	const off = "gc -1 limit 67108864\n"
	const def = "gc 100 limit 9223372036854775807\n"
	if out := runTuneChild(t, "big"); !strings.HasPrefix(out, off) {
		t.Errorf("a large input: got %q, want the collector off until 64 MiB", out)
	}
	if out := runTuneChild(t, "small"); !strings.HasPrefix(out, def) {
		t.Errorf("a small input: got %q, want the default", out)
	}
	if out := runTuneChild(t, "big", "GOGC=200"); !strings.HasPrefix(out, "gc 200 limit 9223372036854775807\n") {
		t.Errorf("GOGC set: got %q, want the user's setting", out)
	}
	if out := runTuneChild(t, "big", "GOMEMLIMIT=1GiB"); !strings.HasPrefix(out, "gc 100 limit 1073741824\n") {
		t.Errorf("GOMEMLIMIT set: got %q, want the user's setting", out)
	}
	if out := runTuneChild(t, "grow"); !strings.Contains(out, off+"then "+def) {
		t.Errorf("a live heap past half the limit: got %q, want the default back", out)
	}
}

// Where the kernel gives huge pages on request, the heap asks for them.
func TestTuneBatchHugePages(t *testing.T) {
	mode, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil || !bytes.Contains(mode, []byte("[madvise]")) {
		t.Skipf("transparent huge pages are not given on request here (%q, %v)", bytes.TrimSpace(mode), err)
	}
	if out := runTuneChild(t, "small"); !strings.HasSuffix(out, "huge false\n") {
		t.Errorf("a small input: got %q, want no mapping marked for huge pages", out)
	}
	if out := runTuneChild(t, "big"); !strings.HasSuffix(out, "huge true\n") {
		t.Errorf("a large input: got %q, want the heap marked for huge pages", out)
	}
}

func TestInputBytes(t *testing.T) {
	dir := t.TempDir()
	plain, gz := filepath.Join(dir, "mail.log"), filepath.Join(dir, "mail.log.2.gz")
	if err := os.WriteFile(plain, make([]byte, 1000), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(gz, make([]byte, 100), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := InputBytes([]string{plain, gz, "-", filepath.Join(dir, "missing"), dir}); got != 1500 {
		t.Errorf("InputBytes = %d, want 1000 + 5 x 100", got)
	}
}
