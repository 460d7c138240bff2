package state

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// One run with anomalies in every situation at once (decided in batches)
// records what runs of one anomaly each record, and says the same.
func testIncidentBatch(t *testing.T, b backend) {
	ctx := context.Background()
	realert := 2 * day
	// The state before: the same in both databases.
	prepare := func(s *store) {
		for _, r := range []*Run{
			{Now: at(time.Hour), Channels: []string{"mail"}, Anomalies: []Anomaly{
				anomaly("open", ev("192.0.2.1", 3, 0, time.Hour, "DE")),
				anomaly("quiet", ev("192.0.2.2", 1, 0, 0, "DE")),
				anomaly("acked-old", ev("192.0.2.3", 1, 0, 0, "DE")),
				anomaly("acked-new", ev("192.0.2.4", 1, 0, 0, "DE")),
				anomaly("open-known", ev("192.0.2.5", 2, 0, time.Hour, "DE")),
			}},
		} {
			r.RealertAfter = realert
			commit(t, s, r)
		}
		for _, u := range []string{"acked-old", "acked-new"} {
			if ok, err := s.Ack(ctx, u, "pm", at(day)); !ok || err != nil {
				t.Fatalf("Ack(%s) = %v, %v", u, ok, err)
			}
		}
	}
	anomalies := []Anomaly{
		anomaly("open", ev("192.0.2.1", 2, 2*time.Hour, 3*time.Hour, "DE"), ev("203.0.113.1", 1, 3*time.Hour, 3*time.Hour, "CN")),
		anomaly("quiet", ev("192.0.2.2", 1, 3*day, 3*day, "DE")),
		anomaly("acked-old", ev("203.0.113.3", 1, 12*time.Hour, 12*time.Hour, "CN")),
		anomaly("acked-new", ev("203.0.113.4", 1, 2*day, 2*day, "CN")),
		anomaly("open-known", ev("192.0.2.5", 2, 0, time.Hour, "DE")),
		anomaly("fresh", ev("198.51.100.1", 1, 0, time.Hour, "RU"), ev("198.51.100.1", 2, 2*time.Hour, 3*time.Hour, "RU"), ev("198.51.100.2", 1, 0, 0, "RU")),
		// the same account again, later: added to what the first opened
		anomaly("fresh", ev("198.51.100.3", 1, 4*time.Hour, 4*time.Hour, "UA")),
		anomaly("fresh", ev("198.51.100.1", 5, 5*time.Hour, 5*time.Hour, "RU")),
	}
	now := at(4 * day)

	batch, single := open(t, b.dsn(t)), open(t, b.dsn(t))
	prepare(batch)
	prepare(single)
	got := commit(t, batch, &Run{Instance: "mx2", Now: now, RealertAfter: realert, Channels: []string{"mail", "sms"}, Anomalies: anomalies}).Alerts
	want := map[string]AlertState{}
	for _, a := range anomalies {
		st := commit(t, single, &Run{Instance: "mx2", Now: now, RealertAfter: realert, Channels: []string{"mail", "sms"}, Anomalies: []Anomaly{a}}).Alerts[a.User]
		if prev, ok := want[a.User]; ok && prev.New && prev.Alert == st.Alert {
			st = prev
		}
		want[a.User] = st
	}
	// The alerts' ids depend on the order of the inserts: named by their
	// account and opening instead.
	names := func(s *store) map[int64]string {
		m := map[int64]string{}
		for _, a := range mustAlerts(t, s) {
			m[a.ID] = a.User + "@" + a.Opened.String()
		}
		return m
	}
	outcome := func(s *store, out map[string]AlertState) string {
		n := names(s)
		var lines []string
		for u, st := range out {
			id := st.Alert
			st.Alert = 0
			lines = append(lines, fmt.Sprintf("%s: %s %+v", u, n[id], st))
		}
		slices.Sort(lines)
		return strings.Join(lines, "\n")
	}
	if g, w := outcome(batch, got), outcome(single, want); g != w {
		t.Errorf("one run:\n%s\nruns of one:\n%s", g, w)
	}
	// And what the outcomes say.
	for u, w := range map[string]struct{ new, known bool }{
		"open": {}, "quiet": {new: true}, "acked-old": {known: true}, "acked-new": {new: true}, "open-known": {known: true}, "fresh": {new: true},
	} {
		if st := got[u]; st.New != w.new || st.Known != w.known {
			t.Errorf("%s: %+v; want New %v, Known %v", u, st, w.new, w.known)
		}
	}
	if got["open"].NewAddresses != 1 {
		t.Errorf("open: %+v; want 1 new address", got["open"])
	}
	dump := func(s *store) string {
		n := names(s)
		var out []string
		for _, a := range mustAlerts(t, s) {
			for i := range a.Deliveries {
				a.Deliveries[i].Updated = time.Time{}
				a.Deliveries[i].Alert = 0
			}
			name := n[a.ID]
			a.ID = 0
			out = append(out, fmt.Sprintf("%s %+v", name, a))
		}
		slices.Sort(out)
		return strings.Join(out, "\n")
	}
	if g, w := dump(batch), dump(single); g != w {
		t.Errorf("one run recorded:\n%s\nruns of one:\n%s", g, w)
	}
	if n := count(t, batch, `SELECT count(*) FROM alerts WHERE account = ? AND closed IS NULL`, "fresh"); n != 1 {
		t.Errorf("%d open alerts of fresh", n)
	}
	var ips []string
	for _, a := range mustAlerts(t, batch) {
		if a.User == "fresh" {
			for _, e := range a.Evidence {
				ips = append(ips, fmt.Sprintf("%s:%d", e.IP, e.Count))
			}
			if len(a.Deliveries) != 2 {
				t.Errorf("fresh: deliveries %+v", a.Deliveries)
			}
		}
	}
	slices.Sort(ips)
	if w := []string{"198.51.100.1:8", "198.51.100.2:1", "198.51.100.3:1"}; !slices.Equal(ips, w) {
		t.Errorf("evidence of fresh: %v; want %v", ips, w)
	}
}

func mustAlerts(t *testing.T, s Store) []Alert {
	t.Helper()
	a, err := s.Alerts(context.Background(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return a
}
