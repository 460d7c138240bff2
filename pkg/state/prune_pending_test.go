package state

import (
	"context"
	"testing"
	"time"
)

// A prune does not close as quiet an open alert whose delivery is still
// being tried (pending, tried since the cutoff): closed, it was deleted a
// prune later with its delivery, never sent nor given up, and nothing
// said so. With [STATE] keep = 1d and a channel down for two days (the
// default [NOTIFY] give_up_after is 3d) the alert was lost; before
// prunes closed open alerts, it stayed open until delivered or given up.
// An alert whose pending delivery nobody tries any more (its mail server
// gone) is closed as before.
func TestPrunePendingDelivery(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := open(t, b.dsn(t))
			const keep = day
			mk := func(user, instance string) int64 {
				return commit(t, s, &Run{Instance: instance, Now: at(0), Channels: []string{"mail"},
					Anomalies: []Anomaly{anomaly(user, ev("192.0.2.1", 1, 0, 0, "DE"))}}).Alerts[user].Alert
			}
			carol := mk("carol", "mx1")
			gone := mk("gone", "mx-retired") // its mail server's runs are no more
			byID := func() map[int64]Alert {
				all, err := s.Alerts(ctx, time.Time{})
				if err != nil {
					t.Fatal(err)
				}
				m := map[int64]Alert{}
				for _, a := range all {
					m[a.ID] = a
				}
				return m
			}
			// the mail server down: each run of mx1 tries carol's alert
			// again, and prunes
			for _, now := range []time.Duration{36 * time.Hour, 60 * time.Hour, 71 * time.Hour} {
				s.now = func() time.Time { return at(now) }
				if err := s.SetDelivery(ctx, carol, "mail", 0, DeliveryPending, "421 try later", true); err != nil {
					t.Fatal(err)
				}
				if _, err := s.Prune(ctx, at(now-keep)); err != nil {
					t.Fatal(err)
				}
				a, ok := byID()[carol]
				if !ok || !a.Closed.IsZero() {
					t.Errorf("at %v: carol's alert, its delivery still tried: present %v, closed %v (%s)", now, ok, a.Closed, a.CloseReason)
				}
				if p, _ := s.Pending(ctx, "mx1"); len(p) != 1 || p[0].Alert != carol {
					t.Errorf("at %v: pending %+v; want carol's", now, p)
				}
				if a, ok := byID()[gone]; now == 36*time.Hour && (a.Closed.IsZero() || a.CloseReason != ClosedQuiet) {
					t.Errorf("the alert whose delivery nobody tries: present %v, closed %v (%q); want quiet", ok, a.Closed, a.CloseReason)
				}
			}
			// given up: the next prune closes it as quiet
			s.now = func() time.Time { return at(80 * time.Hour) }
			if err := s.SetDelivery(ctx, carol, "mail", 0, DeliveryGivenUp, "421 try later", true); err != nil {
				t.Fatal(err)
			}
			if p, err := s.Prune(ctx, at(80*time.Hour-keep)); err != nil || p.Quiet != 1 {
				t.Errorf("Prune after the give-up = %+v, %v; want carol's alert closed", p, err)
			}
			if a := byID()[carol]; !a.Closed.Equal(at(80*time.Hour)) || a.CloseReason != ClosedQuiet {
				t.Errorf("carol's alert after the give-up: closed %v (%q)", a.Closed, a.CloseReason)
			}
		})
	}
}
