package reportcmd

import (
	"fmt"
	"testing"
	"time"
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
			oldMM, oldPosts, release := hangingServer(t, 1)
			newMM, newPosts, _ := hangingServer(t, 0)
			ini := "[MATTERMOST]\nenabled = true\nurl = %s\napi_key = k\n\n[NOTIFY]\nattempts = 1\ntimeout = 1h\n"
			n1 := iniNotifier(t, fmt.Sprintf(ini, oldMM.URL), "")
			n2 := iniNotifier(t, fmt.Sprintf(ini, newMM.URL), "")
			lv := startLive(t, n1, withState)
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
