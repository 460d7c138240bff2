package blockcmd

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"runtime"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/state"
	"github.com/loganom/loganom/pkg/state/pgtest"
)

// hungServer is pgtest.Hung: a PostgreSQL that never answers.
var hungServer = pgtest.Hung

// within runs f, and fails the test when it has not returned after limit
// (a call that waits past its deadline waits for ever here: the server
// never answers).
func within(t *testing.T, limit time.Duration, what string, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(limit):
		t.Fatalf("%s: still waiting after %s: the state's open has no deadline", what, limit)
		return nil
	}
}

// A request to the API (or the policy service's refresh) while the state
// is being opened, and the open hangs (a PostgreSQL that accepts and never
// answers): it waits no longer than its own deadline, not for the open
// under way, and says why. Every method of the lazy store.
func TestLazyStoreWaitHasDeadline(t *testing.T) {
	var l *lazyStore
	t.Cleanup(func() { l.Close() }) // after the server's connections are closed
	dsn, accepted, _ := hungServer(t)
	l = &lazyStore{dsn: dsn, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	// an open under way, for as long as the server does not answer (or
	// the lazy store's own bound)
	holder := make(chan error, 1)
	go func() {
		_, err := l.Blocks(context.Background(), time.Now())
		holder <- err
	}()
	select {
	case <-accepted:
	case <-time.After(30 * time.Second):
		t.Fatal("the open never connected")
	}
	now := time.Now()
	for _, c := range []struct {
		name string
		f    func(ctx context.Context) error
	}{
		{"Blocks", func(ctx context.Context) error { _, err := l.Blocks(ctx, now); return err }},
		{"PutBlock", func(ctx context.Context) error {
			_, err := l.PutBlock(ctx, state.Block{User: "bob@example.test", By: "api:test", Created: now})
			return err
		}},
		{"RemoveBlock", func(ctx context.Context) error {
			_, err := l.RemoveBlock(ctx, "bob@example.test", "api:test", "", now)
			return err
		}},
		{"History", func(ctx context.Context) error { _, err := l.History(ctx, "bob@example.test"); return err }},
		{"Alerts", func(ctx context.Context) error { _, err := l.Alerts(ctx, time.Time{}); return err }},
	} {
		err := within(t, 20*time.Second, c.name, func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			return c.f(ctx)
		})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s: %v; want its deadline exceeded", c.name, err)
		}
	}
	select {
	case err := <-holder:
		t.Logf("the open under way ended meanwhile: %v", err)
	default:
	}
}

// An open whose caller gave no deadline is bounded all the same (the lazy
// store's timeout), and the next use tries again.
func TestLazyStoreOpenBounded(t *testing.T) {
	var l *lazyStore
	t.Cleanup(func() { l.Close() }) // after the server's connections are closed
	dsn, _, conns := hungServer(t)
	l = &lazyStore{dsn: dsn, log: slog.New(slog.NewTextHandler(io.Discard, nil)), timeout: 200 * time.Millisecond}
	for i := range 2 {
		err := within(t, 20*time.Second, "Blocks", func() error {
			_, err := l.Blocks(context.Background(), time.Now())
			return err
		})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("try %d: %v; want the open's deadline exceeded", i, err)
		}
		// (the server accepts in a goroutine of its own: polled to a deadline)
		n := conns()
		for end := time.Now().Add(10 * time.Second); n < i+1 && time.Now().Before(end); n = conns() {
			runtime.Gosched()
		}
		if n != i+1 {
			t.Errorf("try %d: %d connections to the server; want %d (each use tries again)", i, n, i+1)
		}
	}
}
