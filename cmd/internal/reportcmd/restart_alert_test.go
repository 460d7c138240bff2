package reportcmd

import (
	"bytes"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/pkg/detect"
	"github.com/loganom/loganom/pkg/record"
	"github.com/loganom/loganom/pkg/report"
	"github.com/loganom/loganom/pkg/state"
)

// A daemon restarted (systemctl restart, a crash and Restart=) while an
// account's incident is open meets the thief's next login: the account,
// read back from the state, is judged high again, as high as what the
// incident was sent with. The state adds the login to the incident and
// sends nothing, but the daemon printed the alert again on stdout (and
// "alert:" on stderr, and counted it), where without the restart the
// same login adds to the incident silently: an account is alerted again
// only when its verdict grows more severe. The pipe's alert record
// (loganom-report --follow) was emitted again too. Now an alert that the
// state's incident already holds, at that severity, is not told again.
func TestLiveRestartOpenIncidentNotAlertedAgain(t *testing.T) {
	st := openState(t)
	hook := newHookServer(t)
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	thief := t0.Add(7*24*time.Hour + 2*time.Hour)
	daemon := func() (*Live, *bytes.Buffer, *lockedBuf) {
		stdout, stderr := &bytes.Buffer{}, &lockedBuf{}
		rep := report.NewLive(report.Rule{})
		rep.History = func(user string) ([]detect.Known, error) { return st.Known(t.Context(), user) }
		lv := &Live{Env: cli.Env{Stdout: io.Discard, Stderr: stderr}, Log: &cli.Logger{Prog: "loganom", W: stderr}, Rep: rep, St: st,
			Format: "json", Out: stdout, RetryEvery: time.Hour}
		lv.SetNotifier(webhookNotifier(t, hook.URL))
		lv.Start()
		return lv, stdout, stderr
	}
	lv, stdout, _ := daemon()
	feedAttack(t, lv, "bob@x.test")
	waitUntil(t, "the alert on the webhook", func() bool { return len(hook.got()) == 1 })
	lv.Close()
	if !strings.Contains(stdout.String(), "bob@x.test") || lv.Alerts() != 1 {
		t.Fatalf("the first run: %d alerts, stdout:\n%s", lv.Alerts(), stdout)
	}

	// restarted: the thief again, ten minutes on, from a third country
	lv, stdout, stderr := daemon()
	var emitted []*record.Record
	emit := func(r *record.Record) error { emitted = append(emitted, r); return nil }
	if err := (&Stage{Live: lv}).Process(rlogin("bob@x.test", "41.203.64.7", "NG", 37148, 6.45, 3.4, thief.Add(10*time.Minute)), emit); err != nil {
		t.Fatal(err)
	}
	lv.Close()
	if stdout.Len() != 0 || lv.Alerts() != 0 || len(emitted) != 0 || strings.Contains(stderr.String(), "alert: bob") {
		t.Errorf("after the restart, the open incident told again: %d alerts, %d records; stdout:\n%s\nstderr:\n%s", lv.Alerts(), len(emitted), stdout, stderr)
	}
	if p := hook.got(); len(p) != 1 {
		t.Errorf("webhook posts %v, want the one", p)
	}
	alerts, err := st.Store.Alerts(t.Context(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(alerts) != 1 || !slices.ContainsFunc(alerts[0].Evidence, func(e state.Evidence) bool { return e.IP == "41.203.64.7" }) {
		t.Errorf("the state's alerts: %+v; want one, with the Nigerian address added", alerts)
	}
}
