package state

import (
	"context"
	"testing"
	"time"
)

// A high alert is opened by one mail server's run (it blocked the
// account); its webhook is down, so its delivery is pending. Another
// run (the other mail server's, which saw fewer of the thief's logins, or
// the next hour's) flags the account again, medium, with a new address.
// The new address joins the evidence, and the alert's words and the
// account to deliver stay the high one's. The medium verdict replaced
// them: `loganom alerts` said "why: severity medium" of
// a high alert, and the pending delivery, sent once the webhook answered,
// told the receiver "medium". (Seen with two servers sharing PostgreSQL:
// an alert of severity 3 whose rule read "severity medium: new country
// US".)
func TestLessSevereKeepsTheWords(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := open(t, b.dsn(t))
			an := func(sev int, rule, payload, ip string, last time.Duration) Anomaly {
				return Anomaly{User: "bob", Last: at(last), Rule: rule, Severity: sev, Payload: []byte(payload),
					Addresses: []Evidence{{IP: ip, Count: 1, First: at(last), Last: at(last)}}}
			}
			high := an(3, "severity high: impossible travel", `{"severity":"high"}`, "192.0.2.1", 0)
			commit(t, s, &Run{Instance: "mx1", Now: at(0), Channels: []string{"webhook"}, Anomalies: []Anomaly{high}})
			out := commit(t, s, &Run{Instance: "mx2", Now: at(time.Hour), Channels: []string{"webhook"},
				Anomalies: []Anomaly{an(2, "severity medium: new country", `{"severity":"medium"}`, "192.0.2.2", time.Hour)}})
			if st := out.Alerts["bob"]; st.New || st.Escalated || st.NewAddresses != 1 {
				t.Fatalf("medium after high: %+v", st)
			}
			as, err := s.Alerts(ctx, time.Time{})
			if err != nil || len(as) != 1 {
				t.Fatalf("alerts %+v, %v", as, err)
			}
			if as[0].Severity != 3 || as[0].Rule != high.Rule || !as[0].Last.Equal(at(time.Hour)) {
				t.Errorf("alert: severity %d, rule %q, last %v; want 3, %q, the medium run's last login", as[0].Severity, as[0].Rule, as[0].Last, high.Rule)
			}
			p, err := s.Pending(ctx, "")
			if err != nil || len(p) != 1 {
				t.Fatalf("pending %+v, %v", p, err)
			}
			if string(p[0].Payload) != string(high.Payload) || p[0].AlertRule != high.Rule {
				t.Errorf("pending delivery: payload %s, rule %q; want the high alert's %s, %q", p[0].Payload, p[0].AlertRule, high.Payload, high.Rule)
			}
		})
	}
}
