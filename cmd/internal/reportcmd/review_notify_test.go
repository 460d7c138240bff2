package reportcmd

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/config"
	"github.com/loganom/loganom/pkg/detect"
	"github.com/loganom/loganom/pkg/record"
	"github.com/loganom/loganom/pkg/report"
)

// webhookNotifier is a Notifier with the webhook at url as its one channel.
func webhookNotifier(t *testing.T, url string) *Notifier {
	t.Helper()
	cfgPath := filepath.Join(t.TempDir(), "config.ini")
	if err := os.WriteFile(cfgPath, []byte(fmt.Sprintf("[WEBHOOK]\nenabled = true\nurl = %s\n\n[NOTIFY]\nattempts = 1\n", url)), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.LoadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	n, err := (&NotifyFlags{}).Prepare(cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// growing is five days at home, then a thief's address used again and
// again: with [DETECT] alert = low, a new country (low), then its burst
// makes the finding medium.
func growing(user string, t0 time.Time) []*record.Record {
	var recs []*record.Record
	for d := 0; d < 5; d++ {
		recs = append(recs, rlogin(user, "200.158.1.34", "BR", 27699, -23.55, -46.63, t0.Add(time.Duration(d)*24*time.Hour)))
	}
	at := t0.Add(5*24*time.Hour + 2*time.Hour)
	for i := 0; i < 15; i++ {
		recs = append(recs, rlogin(user, "176.63.95.227", "HU", 6830, 47.5, 19.04, at.Add(time.Duration(i)*5*time.Minute)))
	}
	return recs
}

// TestReviewLiveNoStateQueuedAlertIsItsOwn: without a state, an alert
// waits in memory while the channel is busy (here: a slow webhook still
// taking the alert before it). The account it was made of goes on
// counting logins meanwhile; the alert sent must be the account as it
// was alerted, not as it is when the channel gets to it, and the
// delivery must not read what the reader writes (go test -race).
func TestReviewLiveNoStateQueuedAlertIsItsOwn(t *testing.T) {
	release := make(chan struct{})
	type acct struct {
		User     string `json:"user"`
		Logins   int    `json:"logins"`
		Severity string `json:"severity"`
		IPs      []struct {
			IP    string `json:"ip"`
			Count int    `json:"count"`
		} `json:"ips"`
	}
	var mu sync.Mutex
	var got []acct
	first := true
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Accounts []acct `json:"accounts"`
		}
		b, _ := io.ReadAll(r.Body)
		json.Unmarshal(b, &body)
		mu.Lock()
		got = append(got, body.Accounts...)
		wait := first
		first = false
		mu.Unlock()
		if wait {
			<-release
		}
	}))
	defer hook.Close()
	stderr := &lockedBuf{}
	log := &cli.Logger{Prog: "loganom", W: stderr}
	rep := report.NewLive(report.Rule{Alert: detect.Low})
	lv := &Live{Env: cli.Env{Stdout: io.Discard, Stderr: stderr}, Log: log, Rep: rep, Format: "json", Out: io.Discard, RetryEvery: time.Hour}
	lv.SetNotifier(webhookNotifier(t, hook.URL))
	lv.Start()
	feed := func(recs []*record.Record) {
		t.Helper()
		for _, r := range recs {
			if err := (&Stage{Live: lv}).Process(r, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	feed(attack("alice@x.test", t0))
	// the webhook holds alice's alert while bob's come and grow
	waitUntil(t, "alice's post", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) > 0 })
	feed(growing("bob@x.test", t0))
	close(release)
	bobs := func() []acct {
		mu.Lock()
		defer mu.Unlock()
		var out []acct
		for _, a := range got {
			if a.User == "bob@x.test" {
				out = append(out, a)
			}
		}
		return out
	}
	waitUntil(t, "bob's alerts", func() bool { return len(bobs()) >= 2 })
	lv.Close()
	b := bobs()
	if b[0].Severity != "low" || b[0].Logins != 1 || len(b[0].IPs) != 1 || b[0].IPs[0].Count != 1 {
		t.Errorf("bob's low alert was sent as %+v; it was made on his first login from abroad (1 login)", b[0])
	}
}
