package state

import (
	"context"
	"testing"
	"time"
)

// TestIncidentEscalates: an open incident joined by an anomaly more severe
// than what it was alerted with is alerted again: its deliveries pending
// again, each a message of its own (a greater Escalation), once per rise;
// an anomaly as severe or less, or with no severity (the original rule),
// adds its evidence and sends nothing. A delivery recorded as it was read
// before the rise (a send in flight when the commit came) leaves the
// newer one pending.
func TestIncidentEscalates(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := open(t, b.dsn(t))
			channels := []string{"mail", "webhook"}
			an := func(sev int, ip string, last time.Duration) Anomaly {
				return Anomaly{User: "bob", Last: at(last), Rule: "severity x: y", Severity: sev, Payload: []byte(`{"n":` + ip[len(ip)-1:] + `}`),
					Addresses: []Evidence{{IP: ip, Count: 1, First: at(last), Last: at(last)}}}
			}
			pending := func() map[string]Delivery {
				t.Helper()
				ds, err := s.Pending(ctx, "")
				if err != nil {
					t.Fatal(err)
				}
				out := map[string]Delivery{}
				for _, d := range ds {
					out[d.Channel] = d
				}
				return out
			}
			send := func(d Delivery) {
				t.Helper()
				if err := s.SetDelivery(ctx, d.Alert, d.Channel, d.Escalation, DeliverySent, "", true); err != nil {
					t.Fatal(err)
				}
			}
			out := commit(t, s, &Run{Now: at(0), Channels: channels, Anomalies: []Anomaly{an(1, "192.0.2.1", 0)}})
			if st := out.Alerts["bob"]; !st.New || st.Escalated {
				t.Fatalf("first: %+v", st)
			}
			first := pending()
			if len(first) != 2 || first["mail"].Escalation != 0 {
				t.Fatalf("pending %+v", first)
			}
			send(first["mail"])
			// the webhook's send is in flight when the medium anomaly comes
			out = commit(t, s, &Run{Now: at(time.Minute), Channels: channels, Anomalies: []Anomaly{an(2, "192.0.2.2", time.Minute)}})
			if st := out.Alerts["bob"]; st.New || !st.Escalated || st.Known {
				t.Fatalf("medium after low: %+v", st)
			}
			send(first["webhook"]) // the low one, read before: the medium one stays pending
			p := pending()
			if len(p) != 2 || p["mail"].Escalation != 1 || p["webhook"].Escalation != 1 || string(p["mail"].Payload) != `{"n":2}` {
				t.Fatalf("after the rise, pending %+v; want both channels, escalation 1, the medium account", p)
			}
			// [NOTIFY] give_up_after counts from the rise, not from the
			// alert's opening: an old incident's rise is not given up at
			// its first failure
			if !first["mail"].Created.Equal(at(0)) || !p["mail"].Created.Equal(at(time.Minute)) {
				t.Errorf("created %v, then %v; want the opening, then the rise", first["mail"].Created, p["mail"].Created)
			}
			send(p["mail"])
			send(p["webhook"])
			// as severe, less severe, none: evidence only
			for i, sev := range []int{2, 1, 0} {
				ip := "192.0.2." + string(rune('3'+i))
				out = commit(t, s, &Run{Now: at(time.Duration(2+i) * time.Minute), Channels: channels, Anomalies: []Anomaly{an(sev, ip, time.Duration(2+i)*time.Minute)}})
				if st := out.Alerts["bob"]; st.New || st.Escalated || st.NewAddresses != 1 {
					t.Fatalf("severity %d after medium: %+v", sev, st)
				}
				if p := pending(); len(p) != 0 {
					t.Fatalf("severity %d after medium: pending %+v", sev, p)
				}
			}
			// high: once more, then the same again is known
			out = commit(t, s, &Run{Now: at(10 * time.Minute), Channels: channels, Anomalies: []Anomaly{an(3, "192.0.2.9", 10*time.Minute)}})
			if st := out.Alerts["bob"]; !st.Escalated {
				t.Fatalf("high: %+v", st)
			}
			if p := pending(); len(p) != 2 || p["webhook"].Escalation != 2 {
				t.Fatalf("high: pending %+v", p)
			}
			out = commit(t, s, &Run{Now: at(11 * time.Minute), Channels: channels, Anomalies: []Anomaly{an(3, "192.0.2.9", 10*time.Minute)}})
			if st := out.Alerts["bob"]; st.Escalated || !st.Known {
				t.Fatalf("high read again: %+v", st)
			}
			as, err := s.Alerts(ctx, time.Time{})
			if err != nil || len(as) != 1 || as[0].Severity != 3 {
				t.Fatalf("alerts %+v, %v", as, err)
			}
		})
	}
}

// TestUpgradeFrom4Severity: the alerts of a database of schema 4 get the
// severity their rule's words name, so that the upgrade alerts none of
// them again.
func TestUpgradeFrom4Severity(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			dsn := b.dsn(t)
			s4 := openAtSchema(t, dsn, 4)
			for _, r := range []string{"severity high: impossible travel", "severity medium: x", "severity low: y", "2 or more addresses"} {
				if _, err := s4.db.Exec(s4.q(`INSERT INTO alerts (account, instance, opened, updated, last_seen, rule, payload, close_reason, closed_by, closed)
VALUES (?, 'mx1', 1, 1, 1, ?, ?, '', '', 2)`), r, r, []byte("{}")); err != nil {
					t.Fatal(err)
				}
			}
			s4.Close()
			if _, _, err := Migrate(ctx, dsn); err != nil {
				t.Fatal(err)
			}
			s := open(t, dsn)
			as, err := s.Alerts(ctx, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]int{"severity high: impossible travel": 3, "severity medium: x": 2, "severity low: y": 1, "2 or more addresses": 0}
			for _, a := range as {
				if a.Severity != want[a.Rule] {
					t.Errorf("%q: severity %d, want %d", a.Rule, a.Severity, want[a.Rule])
				}
			}
			if len(as) != 4 {
				t.Errorf("%d alerts", len(as))
			}
		})
	}
}
