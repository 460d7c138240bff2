package report

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/detect"
	"github.com/loganom/loganom/pkg/record"
)

// historyLab is a live report whose History fails while down is set, and
// whose clock the test moves.
type historyLab struct {
	l      *Live
	known  map[string][]detect.Known
	down   bool
	asked  []string
	errs   []error
	alerts []string // user severity
	emits  []string
	clock  time.Time
}

func newHistoryLab(t *testing.T) *historyLab {
	h := &historyLab{known: map[string][]detect.Known{}, clock: time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)}
	h.l = NewLive(Rule{})
	h.l.Now = func() time.Time { return h.clock }
	h.l.History = func(user string) ([]detect.Known, error) {
		h.asked = append(h.asked, user)
		if h.down {
			return nil, errors.New("the state did not answer")
		}
		return h.known[user], nil
	}
	h.l.OnError = func(err error) { h.errs = append(h.errs, err) }
	h.l.OnAlert = func(a *Account) error {
		h.alerts = append(h.alerts, a.User+" "+a.Severity)
		return nil
	}
	return h
}

func (h *historyLab) feed(t *testing.T, r *record.Record) {
	t.Helper()
	err := h.l.Process(r, func(rec *record.Record) error {
		h.emits = append(h.emits, rec.User)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// usualHome is 20 days of logins from home, before t0.
func usualHome(t0 time.Time) []detect.Known {
	return []detect.Known{{Where: detect.Where{IP: home.ip, Country: home.cc, ASN: home.asn, HasLoc: true, Lat: home.lat, Lon: home.lon, AccuracyKM: 10},
		First: t0.Add(-20 * 24 * time.Hour), Last: t0.Add(-time.Hour), Count: 200}}
}

// TestLiveHistoryLate: an account met while the state gives no history is
// judged as a new account (its first day's places usual: a thief's login
// in Vietnam, then the owner at home, says nothing), and judged again
// once the state answers, at the next login read: the impossible trip is
// alerted then, once, on OnAlert and as a record; its logins are
// recorded once. Judged with its history from the start, it is the same
// alert.
func TestLiveHistoryLate(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	bob := []*record.Record{
		loginAt("bob@x.test", thiefs[1], t0),
		loginAt("bob@x.test", home, t0.Add(20*time.Minute)),
	}

	// the history there from the start: what the alert should be
	h := newHistoryLab(t)
	h.known["bob@x.test"] = usualHome(t0)
	for _, r := range bob {
		h.feed(t, r)
	}
	want := h.alerts
	if len(want) == 0 || want[len(want)-1] != "bob@x.test high" {
		t.Fatalf("with the history from the start: alerts %q, want bob high last", want)
	}

	h = newHistoryLab(t)
	h.known["bob@x.test"] = usualHome(t0)
	h.down = true
	for _, r := range bob {
		h.feed(t, r)
	}
	if len(h.alerts) != 0 {
		t.Fatalf("without the history: alerts %q; the test wants a case that a first day hides", h.alerts)
	}
	if len(h.errs) != 1 {
		t.Fatalf("errors %v, want the failed history told once", h.errs)
	}
	// still down a second later: asked again, not told again
	h.clock = h.clock.Add(2 * HistoryRetry)
	h.feed(t, loginAt("carol@x.test", office, t0.Add(25*time.Minute)))
	if len(h.alerts) != 0 || len(h.errs) != 3 {
		t.Fatalf("still down: alerts %q, errors %v (carol's and bob's again)", h.alerts, h.errs)
	}
	// up: the next login read, of any account, judges bob again
	h.down = false
	h.clock = h.clock.Add(2 * HistoryRetry)
	h.feed(t, loginAt("carol@x.test", office, t0.Add(30*time.Minute)))
	if !slices.Equal(h.alerts, want) {
		t.Fatalf("once the state answers: alerts %q, want %q", h.alerts, want)
	}
	if !slices.Contains(h.emits, "bob@x.test") {
		t.Errorf("no alert record emitted for bob: %q", h.emits)
	}
	h.feed(t, loginAt("bob@x.test", home, t0.Add(40*time.Minute)))
	if !slices.Equal(h.alerts, want) {
		t.Errorf("alerted again: %q", h.alerts)
	}
	// recorded once: 3 logins of bob's, not 5
	n := 0
	for _, d := range h.l.TakeDeltas() {
		if d.User == "bob@x.test" {
			n += d.IP.Count
		}
	}
	if n != 3 {
		t.Errorf("bob's deltas count %d logins, want 3", n)
	}
	if h.l.Accounts() != 2 {
		t.Errorf("%d accounts counted, want 2", h.l.Accounts())
	}
}

// An alert made without the history is not made again when the account is
// judged again with it; a more severe one is made.
func TestLiveHistoryLateAlertedOnce(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name      string
		recs      []*record.Record
		want      []string // before, then after the state answers
		wantAfter []string
	}{
		{"botnet: high without the history, high with it", func() []*record.Record {
			var rs []*record.Record
			for i, p := range thiefs {
				rs = append(rs, loginAt("bob@x.test", p, t0.Add(time.Duration(i)*5*time.Minute)))
			}
			return rs
		}(), []string{"bob@x.test high"}, []string{"bob@x.test high"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHistoryLab(t)
			h.known["bob@x.test"] = usualHome(t0)
			h.down = true
			for _, r := range c.recs {
				h.feed(t, r)
			}
			if !slices.Equal(h.alerts, c.want) {
				t.Fatalf("without the history: alerts %q, want %q", h.alerts, c.want)
			}
			h.down = false
			h.clock = h.clock.Add(2 * HistoryRetry)
			h.feed(t, loginAt("carol@x.test", office, t0.Add(time.Hour)))
			if !slices.Equal(h.alerts, c.wantAfter) {
				t.Errorf("judged again: alerts %q, want %q", h.alerts, c.wantAfter)
			}
		})
	}
}

// With no login read after the state answers again, the end of the input
// (Flush) judges the accounts again; one with more logins than MaxReplay
// is not judged again, and learns its history from then on.
func TestLiveHistoryLateFlushAndOverflow(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	h := newHistoryLab(t)
	h.known["bob@x.test"] = usualHome(t0)
	h.known["dan@x.test"] = usualHome(t0)
	h.down = true
	h.feed(t, loginAt("bob@x.test", thiefs[1], t0))
	h.feed(t, loginAt("bob@x.test", home, t0.Add(20*time.Minute)))
	for i := range MaxReplay + 1 {
		h.feed(t, loginAt("dan@x.test", office, t0.Add(time.Duration(i)*time.Second)))
	}
	h.down = false
	if err := h.l.Flush(nil); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(h.alerts) != "[bob@x.test high]" {
		t.Errorf("after Flush: alerts %q, want bob high", h.alerts)
	}
	dan := h.l.accounts["dan@x.test"]
	if dan == nil || dan.without || len(dan.replay) != 0 {
		t.Fatalf("dan: %+v", dan)
	}
	if !slices.ContainsFunc(dan.known, func(k detect.Known) bool { return k.IP == home.ip }) {
		t.Errorf("dan's history not learnt: %+v", dan.known)
	}
	// the history's home is usual for dan now: a trip from it is judged
	h.feed(t, loginAt("dan@x.test", thiefs[1], t0.Add(2*time.Hour)))
	h.feed(t, loginAt("dan@x.test", home, t0.Add(2*time.Hour+20*time.Minute)))
	if !slices.Contains(h.alerts, "dan@x.test high") {
		t.Errorf("dan's trip from his history's home: alerts %q", h.alerts)
	}
}

// A history that is asked for later (ErrHistoryLater: the state not asked)
// is not an error to tell, and the account is judged again all the same.
func TestLiveHistoryLaterNotTold(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	h := newHistoryLab(t)
	later := true
	h.l.History = func(user string) ([]detect.Known, error) {
		if later {
			return nil, ErrHistoryLater
		}
		return usualHome(t0), nil
	}
	h.feed(t, loginAt("bob@x.test", thiefs[1], t0))
	h.feed(t, loginAt("bob@x.test", home, t0.Add(20*time.Minute)))
	later = false
	h.clock = h.clock.Add(2 * HistoryRetry)
	h.feed(t, loginAt("carol@x.test", office, t0.Add(30*time.Minute)))
	if len(h.errs) != 0 {
		t.Errorf("errors told: %v", h.errs)
	}
	if fmt.Sprint(h.alerts) != "[bob@x.test high]" {
		t.Errorf("alerts %q, want bob high", h.alerts)
	}
}
