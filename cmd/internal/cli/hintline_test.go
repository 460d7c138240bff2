package cli

import (
	"errors"
	"strings"
	"testing"
)

// An error whose text carries its hint on a line of its own ("…\nhint:
// …", as statecmd.Open gives for a PostgreSQL it cannot reach) printed
// that line as "loganom: error: hint: …", in every command that opens
// the state (postfix-sasl, loganom-report, loganom-parse, blocks). The
// hint line is now printed as the other hints are.
func TestErrorHintLine(t *testing.T) {
	var b strings.Builder
	log := &Logger{Prog: "loganom", W: &b}
	log.Errorf("%v", errors.New("state postgres://h/db: connection refused\nhint: is PostgreSQL up?"))
	want := "loganom: error: state postgres://h/db: connection refused\nloganom: hint: is PostgreSQL up?\n"
	if b.String() != want {
		t.Errorf("printed\n%s\nwant\n%s", b.String(), want)
	}
}
