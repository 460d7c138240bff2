package reportcmd

import (
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/pkg/report"
)

// A daemon's channel fails, then answers again (a webhook that gave 500
// for a while): its errors were in the journal, each with "tried again
// in …", and the retry that sent the alert said nothing (at debug level
// only), so the postmaster reading the journal could not tell whether
// the alert was ever delivered without running loganom alerts. The
// delivery that succeeds after failed ones is now said.
func TestLiveRetrySentSaid(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if hits.Add(1) == 1 {
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	st, stderr, log := openPG(t, filepath.Join(t.TempDir(), "state.db"), "[GENERAL]\n")
	lv := &Live{Env: cli.Env{Stdout: io.Discard, Stderr: stderr}, Log: log, Rep: report.NewLive(report.Rule{Original: true}), St: st,
		Format: "json", Out: io.Discard, RetryEvery: 300 * time.Millisecond}
	lv.SetNotifier(webhookNotifier(t, srv.URL))
	lv.Start()
	defer lv.Close()
	bobAlert(t, lv)
	time.Sleep(MinGap)
	lv.Idle(true)
	waitUntil(t, "the webhook's second request", func() bool { return hits.Load() >= 2 })
	waitUntil(t, "the delivery recorded", func() bool {
		p, err := st.Store.Pending(t.Context(), st.Instance)
		return err == nil && len(p) == 0
	})
	// (said just after the delivery is recorded: waited for too)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(stderr.String(), "notify webhook: sent 1 alert") && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	s := stderr.String()
	if !strings.Contains(s, "notify webhook: HTTP 500") {
		t.Fatalf("the failure not said:\n%s", s)
	}
	if !strings.Contains(s, "notify webhook: sent 1 alert") {
		t.Errorf("the delivery after the failure not said:\n%s", s)
	}
}
