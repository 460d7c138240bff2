package reportcmd

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/pkg/detect"
	"github.com/loganom/loganom/pkg/report"
)

// TestLiveRoundAgainTakesNewNotifier: the daemon's deliveries, with a
// state and without. Mattermost (at its old address) takes the first
// alert and hangs; the config is read again (SIGHUP: Mattermost moved);
// a second alert comes while the old round still hangs. Once it ends,
// the second alert must go to the new address: the round run again at
// the end of the one under way ran the closure of that one, with the
// notifier of before the SIGHUP, and posted it to the old server.
func TestLiveRoundAgainTakesNewNotifier(t *testing.T) {
	for _, withState := range []bool{false, true} {
		t.Run(fmt.Sprint("state=", withState), func(t *testing.T) {
			hung := make(chan struct{})
			var oldPosts, newPosts atomic.Int32
			oldMM := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				if oldPosts.Add(1) == 1 {
					select {
					case <-hung:
					case <-r.Context().Done():
					}
				}
			}))
			defer oldMM.Close()
			newMM := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				newPosts.Add(1)
			}))
			defer newMM.Close()
			var once sync.Once
			release := func() { once.Do(func() { close(hung) }) }
			defer release()
			ini := "[MATTERMOST]\nenabled = true\nurl = %s\napi_key = k\n\n[NOTIFY]\nattempts = 1\ntimeout = 1h\n"
			n1 := iniNotifier(t, fmt.Sprintf(ini, oldMM.URL), "")
			n2 := iniNotifier(t, fmt.Sprintf(ini, newMM.URL), "")
			stderr := &lockedBuf{}
			log := &cli.Logger{Prog: "loganom", W: stderr}
			rep := report.NewLive(report.Rule{})
			lv := &Live{Env: cli.Env{Stdout: io.Discard, Stderr: stderr}, Log: log, Rep: rep, Format: "json", Out: io.Discard, RetryEvery: time.Hour}
			if withState {
				st := openState(t)
				lv.St = st
				rep.History = func(user string) ([]detect.Known, error) { return st.Known(t.Context(), user) }
			}
			lv.SetNotifier(n1)
			lv.Start()
			feedAttack(t, lv, "bob@x.test")
			waitUntil(t, "the first alert on the old Mattermost, hanging", func() bool { return oldPosts.Load() == 1 })

			lv.SetNotifier(n2) // SIGHUP
			feedAttack(t, lv, "carol@x.test")
			time.Sleep(200 * time.Millisecond) // the deliveries woken, the round under way
			release()
			waitUntil(t, "the second alert posted", func() bool { return oldPosts.Load() >= 2 || newPosts.Load() >= 1 })
			time.Sleep(100 * time.Millisecond)
			if o, n := oldPosts.Load(), newPosts.Load(); o != 1 || n != 1 {
				t.Errorf("after the SIGHUP, the old Mattermost got %d posts, the new %d; want 1 and 1 (the second alert on the config read again)", o, n)
			}
			lv.Close()
		})
	}
}
