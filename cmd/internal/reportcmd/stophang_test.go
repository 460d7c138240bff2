package reportcmd

import (
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/pkg/report"
)

// Stopped while a webhook hangs (it accepts and never answers), the
// daemon gives the deliveries under way StopDeliveries, then ends them:
// the alert stays pending in the state and the next start sends it. The
// stop waited for the round under way (4 tries of 30 s with [NOTIFY]'s
// defaults) and then made a last round as long: 258 s from SIGTERM to the
// exit, driven, where systemd's TimeoutStopSec=60s kills it at 60.
func TestLiveStopWebhookHangs(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var accepted atomic.Int32
	hold := make(chan struct{})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			go func() { <-hold; c.Close() }()
		}
	}()
	t.Cleanup(func() { ln.Close(); close(hold) })
	defer func(d time.Duration) { StopDeliveries = d }(StopDeliveries)
	StopDeliveries = time.Second
	st := openState(t)
	stderr := &lockedBuf{}
	rep := report.NewLive(report.Rule{})
	lv := &Live{Env: cli.Env{Stdout: io.Discard, Stderr: stderr}, Log: &cli.Logger{Prog: "loganom", W: stderr}, Rep: rep, St: st,
		Format: "json", Out: io.Discard, RetryEvery: time.Hour}
	// [NOTIFY]'s defaults but the wait between tries: 4 tries of 30 s
	lv.SetNotifier(iniNotifier(t, "[WEBHOOK]\nenabled = true\nurl = http://"+ln.Addr().String()+"/hook\n\n[NOTIFY]\nbackoff = 10ms\n", ""))
	lv.Start()
	feedAttack(t, lv, "bob@x.test")
	lv.Idle(true)
	waitUntil(t, "the webhook's first try", func() bool { return accepted.Load() >= 1 })
	start := time.Now()
	lv.Close()
	took := time.Since(start)
	if took > StopDeliveries+5*time.Second {
		t.Errorf("the stop took %v with the webhook hanging (StopDeliveries %v)", took, StopDeliveries)
	}
	if !strings.Contains(stderr.String(), "sent by the next start") {
		t.Errorf("the stop did not say the alert waits for the next start:\n%s", stderr)
	}
	t.Logf("stopped in %v", took.Round(time.Millisecond))
}
