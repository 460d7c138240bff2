package state

import (
	"context"
	"testing"
	"time"
)

// TestReviewRemoveEndedBlock: a block that ended by itself is not lifted
// by RemoveBlock (false; no unblock in the audit trail; the account's
// open incident stays open), but its row goes.
func TestReviewRemoveEndedBlock(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := open(t, b.dsn(t))
			commit(t, s, &Run{Now: at(time.Hour), Anomalies: []Anomaly{anomaly("u", ev("192.0.2.1", 3, 0, time.Hour, "DE"))}})
			if err := s.AddBlock(ctx, Block{User: "u", Reason: "r", By: "root", Created: at(time.Hour), Expires: at(2 * time.Hour)}); err != nil {
				t.Fatal(err)
			}
			ok, err := s.RemoveBlock(ctx, "u", "admin", "", at(3*time.Hour))
			if ok || err != nil {
				t.Errorf("RemoveBlock of an ended block = %v, %v; want false, nil", ok, err)
			}
			if a, _ := s.BlockAudit(ctx, time.Time{}); len(a) != 1 || a[0].Action != "block" {
				t.Errorf("audit: %+v", a)
			}
			if al, _ := s.Alerts(ctx, time.Time{}); len(al) != 1 || !al[0].Closed.IsZero() {
				t.Errorf("alerts: %+v", al)
			}
			if n := count(t, s, `SELECT count(*) FROM blocks`); n != 0 {
				t.Errorf("%d rows left in blocks", n)
			}
		})
	}
}
