package reportcmd

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/pkg/report"
)

// A daemon without a state whose channel fails, stopped: its last round
// fails too, and said "hint: webhook: tried again in 1m0s" just before
// "the alert for … was not sent on webhook (no state keeps it to send
// later)": a promise the stop breaks at once. The last round no longer
// says it.
func TestLiveNoStateStopHint(t *testing.T) {
	stderr := &lockedBuf{}
	log := &cli.Logger{Prog: "loganom", W: stderr}
	lv := &Live{Env: cli.Env{Stdout: io.Discard, Stderr: stderr}, Log: log, Rep: report.NewLive(report.Rule{Original: true}),
		Format: "json", Out: io.Discard, RetryEvery: time.Hour}
	lv.SetNotifier(webhookNotifier(t, "http://127.0.0.1:9/never"))
	lv.Start()
	bobAlert(t, lv)
	waitUntil(t, "the first round's failure", func() bool { return strings.Contains(stderr.String(), "tried again in") })
	before := stderr.String()
	lv.Close()
	last := strings.TrimPrefix(stderr.String(), before)
	if !strings.Contains(last, "no state keeps it") || strings.Contains(last, "tried again in") {
		t.Errorf("the stop said:\n%s", last)
	}
}
