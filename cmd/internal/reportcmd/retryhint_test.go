package reportcmd

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/report"
)

// A daemon with a state whose channel fails (a webhook that is down):
// its alert stays pending and the daemon tries it again every RetryEvery
// (a minute). The hint after the error said "the next run tries again",
// the batch run's words: read in the journal of a daemon, that says
// nothing happens until a cron run that does not exist. It now says when
// the daemon tries again.
func TestLiveRetryHint(t *testing.T) {
	st, stderr, log := openPG(t, filepath.Join(t.TempDir(), "state.db"), "[GENERAL]\n")
	lv, _ := startLiveDown(t, st, stderr, log, report.NewLive(report.Rule{Original: true}), nil) // a webhook that refuses
	bobAlert(t, lv)
	time.Sleep(MinGap)
	lv.Idle(true)
	waitUntil(t, "the webhook's failure said", func() bool { return strings.Contains(stderr.String(), "notify webhook") })
	waitUntil(t, "its hint", func() bool { return strings.Contains(stderr.String(), "loganom: hint: ") })
	s := stderr.String()
	if strings.Contains(s, "the next run tries again") || !strings.Contains(s, "tried again in 1h0m0s") {
		t.Errorf("the daemon's hint after a failed delivery:\n%s", s)
	}
	// the stop's last round fails too: no "again in", it is stopping
	lv.Close()
	last := strings.TrimPrefix(stderr.String(), s)
	if !strings.Contains(last, "notify webhook") || !strings.Contains(last, "hint: the next start tries again") || strings.Contains(last, "tried again in") {
		t.Errorf("the stop's last round, failed, said:\n%s", last)
	}
}

// bobAlert feeds lv two logins of bob from two addresses a second apart,
// a minute ago: an alert under the original rule.
func bobAlert(t *testing.T, lv *Live) {
	t.Helper()
	stage := &Stage{Live: lv}
	t0 := time.Now().Add(-time.Minute)
	for i, ip := range []string{"200.158.1.34", "85.10.0.1"} {
		if err := stage.Process(rlogin("bob@x.test", ip, "BR", 27699, -23.55, -46.63, t0.Add(time.Duration(i)*time.Second)), nil); err != nil {
			t.Fatal(err)
		}
	}
}
