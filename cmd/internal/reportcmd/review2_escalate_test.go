package reportcmd

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/pkg/detect"
	"github.com/loganom/loganom/pkg/report"
)

// An incident alerted low by a daemon that is then restarted, whose
// thief's burst makes it medium: the low alert is not told again, the
// medium one is (printed, and delivered once more).
func TestReview2RestartEscalationStillTold(t *testing.T) {
	st := openState(t)
	hook := newHookServer(t)
	daemon := func() (*Live, *bytes.Buffer, *lockedBuf) {
		stdout, stderr := &bytes.Buffer{}, &lockedBuf{}
		rep := report.NewLive(report.Rule{Alert: detect.Low})
		rep.History = func(user string) ([]detect.Known, error) { return st.Known(t.Context(), user) }
		lv := &Live{Env: cli.Env{Stdout: io.Discard, Stderr: stderr}, Log: &cli.Logger{Prog: "loganom", W: stderr}, Rep: rep, St: st,
			Format: "json", Out: stdout, RetryEvery: time.Hour}
		lv.SetNotifier(webhookNotifier(t, hook.URL))
		lv.Start()
		return lv, stdout, stderr
	}
	recs := growing("bob@x.test", time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC))
	lv, stdout, stderr := daemon()
	i := 0
	for ; lv.Alerts() == 0 && i < len(recs); i++ {
		if err := (&Stage{Live: lv}).Process(recs[i], nil); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, "the low alert on the webhook", func() bool { return len(hook.got()) == 1 })
	lv.Close()
	if !strings.Contains(stdout.String(), `"low"`) {
		t.Fatalf("the first run: %d alerts, stdout:\n%s\nstderr:\n%s", lv.Alerts(), stdout, stderr)
	}
	lv, stdout, stderr = daemon()
	for ; i < len(recs); i++ {
		if err := (&Stage{Live: lv}).Process(recs[i], nil); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, "the medium alert on the webhook", func() bool { return len(hook.got()) == 2 })
	lv.Close()
	if lv.Alerts() != 1 || !strings.Contains(stdout.String(), `"medium"`) || strings.Contains(stdout.String(), `"low"`) {
		t.Errorf("after the restart: %d alerts, want the medium one only; stdout:\n%s\nstderr:\n%s", lv.Alerts(), stdout, stderr)
	}
}
