package api

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/state"
)

// TestReviewParseForTiny: a length above zero that rounds to no time at
// all is refused, not a block that has ended as it is made (the API
// answered 201, and the policy service never enforced it).
func TestReviewParseForTiny(t *testing.T) {
	for _, s := range []string{"1e-10", "1e-10d", "0.0000000001", "1e-300d"} {
		d, err := ParseFor(s)
		if err == nil && d <= 0 {
			t.Errorf("ParseFor(%q) = %v, nil: want an error or a time above zero", s, d)
		}
	}
}

// TestReviewAlertsSinceFarTime: a time of since outside what the state's
// nanoseconds can hold (years before 1678 or after 2262) is taken for
// what it says: in the far future no alert, in the far past all of them.
func TestReviewAlertsSinceFarTime(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			st := openState(t, b.dsn(t))
			_, err := st.Commit(context.Background(), &state.Run{Instance: "mx1", Now: t0.Add(-time.Hour),
				Anomalies: []state.Anomaly{{User: "bob@example.test", Last: t0.Add(-time.Hour), Rule: "many places", Payload: []byte(`{}`)}}})
			if err != nil {
				t.Fatal(err)
			}
			f := start(t, Config{Store: st})
			for _, x := range []struct{ since, want string }{
				{"9999-01-01T00:00:00Z", `"alerts":[]`},
				{"2300-01-01T00:00:00Z", `"alerts":[]`},
				{"0001-01-01T00:00:00Z", `"user":"bob@example.test"`},
				{"1600-01-01T00:00:00Z", `"user":"bob@example.test"`},
			} {
				a := f.do("GET", "/v1/alerts?since="+x.since, opsToken, "")
				if a.status != 200 || !strings.Contains(string(a.body), x.want) {
					t.Errorf("since=%s: %d %s, want 200 with %s", x.since, a.status, a.body, x.want)
				}
			}
		})
	}
}

// TestReviewUnblockExpired: a block that has ended by itself is not in
// force (GET /v1/blocks does not list it, the policy service does not
// enforce it): DELETE answers 404 as for any account not blocked, and
// writes no unblock in the audit trail.
func TestReviewUnblockExpired(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			st := openState(t, b.dsn(t))
			ctx := context.Background()
			err := st.AddBlock(ctx, state.Block{User: "bob@example.test", Reason: "r", Source: "manual", By: "test",
				Created: t0.Add(-2 * time.Hour), Expires: t0.Add(-time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			f := start(t, Config{Store: st})
			before := snapshot(t, st)
			a := f.do("DELETE", "/v1/blocks/bob@example.test", opsToken, "")
			if a.status != 404 {
				t.Errorf("DELETE of an ended block: %d %s, want 404", a.status, a.body)
			}
			if after := snapshot(t, st); after != before {
				t.Errorf("the audit changed:\n%s\nwas\n%s", after, before)
			}
		})
	}
}

// TestReviewOpenAPIBrokenTokenFile: while the token file cannot be used,
// every route answers 503, and the document says so for each.
func TestReviewOpenAPIBrokenTokenFile(t *testing.T) {
	tf := tokenFile(t)
	f := start(t, Config{TokenFile: tf})
	if err := os.Chmod(tf, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, r := range routes {
		p := strings.ReplaceAll(r.path, "{user}", "bob")
		a := f.do(r.method, p, opsToken, "")
		if a.status != 503 {
			t.Errorf("%s %s: %d %s, want 503", r.method, p, a.status, a.body)
			continue
		}
		f.validate(r.method+" "+p, a)
	}
}

// TestReviewTokenFileOwner: a token file of mode 0600 owned by another
// user (not the one loganom runs as, nor root) may be written by that
// user, who could add a token of their own: refused, at the start and
// when the file changes to it.
func TestReviewTokenFileOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root, to give the file to another user")
	}
	path := tokenFile(t)
	if err := os.Chown(path, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if _, _, err := readTokens(path); err == nil || !strings.Contains(err.Error(), "owned by uid 65534") {
		t.Errorf("readTokens of a file owned by uid 65534: %v", err)
	}
	path = tokenFile(t)
	f := start(t, Config{TokenFile: path})
	if a := f.do("GET", "/v1/blocks", opsToken, ""); a.status != 200 {
		t.Fatalf("%d %s", a.status, a.body)
	}
	if err := os.Chown(path, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if a := f.do("GET", "/v1/blocks", opsToken, ""); a.status != 503 {
		t.Errorf("the file given to uid 65534: %d %s, want 503", a.status, a.body)
	}
}
