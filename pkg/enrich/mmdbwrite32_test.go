//go:build 386 || arm || mips || mipsle

package enrich

import (
	"testing"

	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// writeMMDBVersion skips the test on 32-bit platforms, where mmdbwriter
// does not build (its tree uses math.MaxUint32 as an int). The tests that
// read databases it writes run on the 64-bit platforms; the others run
// here too.
func writeMMDBVersion(t testing.TB, ipVersion int, dbType string, nets map[string]mmdbtype.Map) string {
	t.Helper()
	t.Skip("mmdbwriter does not build on 32-bit platforms")
	return ""
}
