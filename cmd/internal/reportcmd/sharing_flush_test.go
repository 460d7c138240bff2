package reportcmd

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/pkg/record"
	"github.com/loganom/loganom/pkg/report"
	"github.com/loganom/loganom/pkg/state"
)

// flakyHistory is a state whose History fails while down.
type flakyHistory struct {
	state.Store
	down bool
}

func (h *flakyHistory) History(ctx context.Context, user string) ([]state.Address, error) {
	if h.down {
		return nil, errors.New("the history is down")
	}
	return h.Store.History(ctx, user)
}

// A reader (loganom-report --follow on a pipe: no positions) that met a
// team's mailbox while its history could not be read judges its logins
// again with it at the end of the input (Flush): what they showed of two
// people using it then grew, with no login left to record. The last
// commit took it (TakeSharing) and, finding no login, no anomaly and no
// position to record, recorded nothing: the state kept one day by road
// of two.
func TestLiveSharingAfterFlush(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	const day = 24 * time.Hour
	const team = "team@example.org"
	at := func(ip, cc, city string, asn uint32, lat, lon float64) func(time.Time) *record.Record {
		return func(t time.Time) *record.Record {
			return &record.Record{Type: record.TypeLogin, Time: t, User: team, IP: ip, Country: cc, City: city, ASN: asn, Org: "AS",
				HasLoc: true, Lat: lat, Lon: lon, AccuracyKM: 5}
		}
	}
	munich := at("79.192.10.1", "DE", "Munich", 3320, 48.1374, 11.5755)
	augsburg := at("188.174.20.2", "DE", "Augsburg", 8767, 48.3705, 10.8978)
	morning := func(a time.Time) []*record.Record {
		return []*record.Record{munich(a.Add(7 * time.Hour)), augsburg(a.Add(10 * time.Hour)), munich(a.Add(10*time.Hour + 10*time.Minute)),
			augsburg(a.Add(10*time.Hour + 20*time.Minute)), augsburg(a.Add(12 * time.Hour)), munich(a.Add(18 * time.Hour))}
	}
	st, stderr, log := openPG(t, filepath.Join(t.TempDir(), "state.db"), "[GENERAL]\n")
	h := &flakyHistory{Store: st.Store}
	st.Store = h
	daemon := func() (*Live, *Stage) {
		rep := report.NewLive(report.Rule{})
		rep.History, rep.Sharing = st.LiveHistory(), st.LiveSharing()
		rep.OnError = func(err error) {}
		lv := &Live{Env: cli.Env{Stdout: io.Discard, Stderr: stderr}, Log: log, Rep: rep, St: st,
			Format: "json", Out: io.Discard, RetryEvery: time.Hour}
		lv.Start()
		return lv, &Stage{Live: lv}
	}
	process := func(s *Stage, rs []*record.Record) {
		for _, r := range rs {
			if err := s.Process(r, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	lv, stage := daemon()
	process(stage, morning(t0))
	lv.Close()
	// the next day, the history does not answer; the commits go through
	h.down = true
	lv, stage = daemon()
	process(stage, morning(t0.Add(day)))
	lv.commit(true, true)
	h.down = false
	st.NoteUp()
	if err := stage.Flush(nil); err != nil { // the end of the input
		t.Fatal(err)
	}
	lv.Close()
	if lv.Failed() {
		t.Fatalf("failed:\n%s", stderr)
	}
	got, err := st.Store.SharingOf(ctx, []string{team})
	if err != nil || got[team].NearDays != 2 {
		t.Errorf("the state holds %+v, %v; want 2 days by road", got[team], err)
	}
}
