package statecmd

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/state"
)

// loganom history and loganom alerts with --format json write the names
// from the network inert: C1 controls (U+009B is a CSI to a terminal)
// and bidi controls as \u escapes, as the text format escapes them.
func TestHistoryAlertsJSONInert(t *testing.T) {
	user := "csi\u009b2J\u202e@example.test"
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	var h, a bytes.Buffer
	if err := historyJSON(&h, []state.Address{{User: user, IP: "192.0.2.1", Count: 1, First: t0, Last: t0}}); err != nil {
		t.Fatal(err)
	}
	if err := alertsJSON(&a, []state.Alert{{ID: 1, User: user, Opened: t0, Updated: t0, Last: t0}}); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"history": h.String(), "alerts": a.String()} {
		if strings.ContainsAny(out, "\u009b\u202e") {
			t.Errorf("%s: raw in %+q", name, out)
		}
		if !strings.Contains(out, `csi\u009b2J\u202e@example.test`) {
			t.Errorf("%s: the name not escaped as JSON reads it back: %+q", name, out)
		}
	}
}

// The daemon's error about an account's sharing, said on stderr, escapes
// the account's name.
func TestLiveSharingErrorEscapesTheName(t *testing.T) {
	h := &sharingDown{down: true}
	s := sqliteState(t, func(st state.Store) state.Store { h.Store = st; return h })
	_, err := s.LiveSharing()("csi\u009b2J\x1b[31m@example.test")
	if err == nil {
		t.Fatal("no error")
	}
	if strings.ContainsAny(err.Error(), "\u009b\x1b") {
		t.Errorf("the name raw in %+q", err.Error())
	}
}
