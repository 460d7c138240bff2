package reportcmd

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/pkg/detect"
	"github.com/loganom/loganom/pkg/report"
)

// TestLiveSlowChannelHoldsNoLaterAlert: the daemon's deliveries, with a
// state and without. Mattermost takes the first alert and does not answer
// (its server hangs; [NOTIFY] timeout is long). The webhook must get that
// alert all the same, not once Mattermost has timed out (with a state the
// channels were once sent one after the other; without one, in the
// random order of a map). A second account's alert must then reach the
// webhook while Mattermost still hangs, not once its round is over: the
// rounds of all the channels went together, so a channel that hung (4
// tries of 30 s by default) held every other channel's new alerts as
// long. Once Mattermost answers, it gets the second alert too.
func TestLiveSlowChannelHoldsNoLaterAlert(t *testing.T) {
	for _, withState := range []bool{false, true} {
		t.Run(fmt.Sprint("state=", withState), func(t *testing.T) {
			mm, mmPosts, release := hangingServer(t, 1<<30)
			hook := newHookServer(t)
			n := iniNotifier(t, fmt.Sprintf("[MATTERMOST]\nenabled = true\nurl = %s\napi_key = k\n\n[WEBHOOK]\nenabled = true\nurl = %s\n\n[NOTIFY]\nattempts = 1\ntimeout = 1h\n", mm.URL, hook.URL), "")
			lv := startLive(t, n, withState)
			feedAttack(t, lv, "bob@x.test")
			waitUntil(t, "the first alert on the webhook, Mattermost hanging", func() bool { return len(hook.got()) == 1 && mmPosts.Load() == 1 })

			feedAttack(t, lv, "carol@x.test")
			// (Mattermost hangs until release, its timeout an hour: before,
			// the webhook waited for its round's end)
			waitUntil(t, "the second alert on the webhook, Mattermost still hanging", func() bool { return len(hook.got()) == 2 })
			if got := mmPosts.Load(); got != 1 {
				t.Errorf("Mattermost got %d posts while its first hung; want 1 (one round at a time)", got)
			}
			release()
			waitUntil(t, "the second alert on Mattermost, once it answers", func() bool { return mmPosts.Load() == 2 })
			lv.Close()
			if len(hook.got()) != 2 || mmPosts.Load() != 2 {
				t.Errorf("after Close: webhook %d posts, Mattermost %d; want 2 each (each alert once)", len(hook.got()), mmPosts.Load())
			}
		})
	}
}

// hangingServer is an HTTP server on loopback that counts the posts it
// gets and holds each of the first hold of them until release (or until
// the request ends). It is released, then closed, at the test's end.
func hangingServer(t *testing.T, hold int32) (srv *httptest.Server, posts *atomic.Int32, release func()) {
	t.Helper()
	hung := make(chan struct{})
	posts = new(atomic.Int32)
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if posts.Add(1) <= hold {
			select {
			case <-hung:
			case <-r.Context().Done():
			}
		}
	}))
	t.Cleanup(srv.Close) // (after release: Close waits for the handlers)
	var once sync.Once
	release = func() { once.Do(func() { close(hung) }) }
	t.Cleanup(release)
	return srv, posts, release
}

// startLive starts a daemon's Live end with the channels of n, with a
// state (SQLite, its history for the detectors) or without.
func startLive(t *testing.T, n *Notifier, withState bool) *Live {
	t.Helper()
	stderr := &lockedBuf{}
	rep := report.NewLive(report.Rule{})
	lv := &Live{Env: cli.Env{Stdout: io.Discard, Stderr: stderr}, Log: &cli.Logger{Prog: "loganom", W: stderr}, Rep: rep,
		Format: "json", Out: io.Discard, RetryEvery: time.Hour}
	if withState {
		st := openState(t)
		lv.St = st
		rep.History = func(user string) ([]detect.Known, error) { return st.Known(t.Context(), user) }
	}
	lv.SetNotifier(n)
	lv.Start()
	return lv
}

// A daemon without a state keeps a failed alert queued for its channel;
// when the config read again (SIGHUP) no longer enables that channel, the
// alert cannot go: it is reported as not sent, not dropped without a word.
func TestLiveNoStateChannelRemoved(t *testing.T) {
	hook := newHookServer(t)
	down := webhookNotifier(t, "http://127.0.0.1:9/never") // refused: queued again
	lv := startLive(t, down, false)
	stderr := lv.Env.Stderr.(*lockedBuf)
	feedAttack(t, lv, "bob@x.test")
	waitUntil(t, "the webhook's failure", func() bool { return strings.Contains(stderr.String(), "tried again") })

	mm := iniNotifier(t, fmt.Sprintf("[MATTERMOST]\nenabled = true\nurl = %s\napi_key = k\n\n[NOTIFY]\nattempts = 1\n", hook.URL), "")
	lv.SetNotifier(mm) // SIGHUP: the webhook is gone from the config
	lv.wake()
	waitUntil(t, "the alert reported as not sent", func() bool {
		return strings.Contains(stderr.String(), "the alert for bob@x.test was not sent on webhook: the config no longer enables it")
	})
	lv.Close()
	if !lv.Failed() {
		t.Errorf("the run did not fail; stderr:\n%s", stderr)
	}
}
