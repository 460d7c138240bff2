package enrich

import (
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/record"
)

// Idle emits the records whose lookups are done and all before them have
// left, in order, without waiting; a record whose lookup is still running
// holds back itself and those after it, even when theirs are done; when
// it is done, wake is called and the next Idle emits them.
func TestEnrichIdle(t *testing.T) {
	z := testZone()
	gate := make(chan struct{})
	z.Before = func(name string) {
		if name == "8.7.6.5.in-addr.arpa." {
			<-gate
		}
	}
	r, err := NewResolver(startDNS(t, z), answerTimeout)
	if err != nil {
		t.Fatal(err)
	}
	e := New(Options{Resolver: r})
	var out []string
	emit := func(r *record.Record) error {
		out = append(out, r.User+" "+r.RDNS)
		return nil
	}
	wakes := make(chan struct{}, 10)
	wake := func() { wakes <- struct{}{} }
	for _, c := range []struct{ user, ip string }{{"a", "1.2.3.4"}, {"x", "5.6.7.8"}, {"b", "9.9.9.9"}} {
		if err := e.Process(&record.Record{Type: record.TypeLogin, User: c.user, IP: c.ip}, emit); err != nil {
			t.Fatal(err)
		}
	}
	// a's and b's lookups finish; x's is held at the server
	<-known(e, "1.2.3.4").done
	<-known(e, "9.9.9.9").done
	held, err := e.Idle(emit, wake)
	if err != nil || !held {
		t.Fatalf("idle: held %v, err %v", held, err)
	}
	if got := strings.Join(out, ","); got != "a good.example" {
		t.Fatalf("with x's lookup running: %q (want a only)", got)
	}
	select {
	case <-wakes:
		t.Fatal("woken with x's lookup running")
	default:
	}
	// Idle again before x is done: still nothing, and one wake-up to come
	if held, err := e.Idle(emit, wake); err != nil || !held || len(out) != 1 {
		t.Fatalf("second idle: held %v, err %v, out %v", held, err, out)
	}
	close(gate)
	select {
	case <-wakes:
	case <-time.After(time.Minute):
		t.Fatal("no wake-up when x's lookup finished")
	}
	if held, err := e.Idle(emit, wake); err != nil || held {
		t.Fatalf("idle after x: held %v, err %v", held, err)
	}
	if got := strings.Join(out, ","); got != "a good.example,x mail.google.com,b " {
		t.Errorf("got %q", got)
	}
	if len(wakes) != 0 {
		t.Errorf("%d more wake-ups for one lookup", len(wakes))
	}
	// nothing held: Idle says so and emits nothing
	if held, err := e.Idle(emit, wake); err != nil || held || len(out) != 3 {
		t.Errorf("idle with nothing held: %v %v %v", held, err, out)
	}
	if err := e.Flush(emit); err != nil || len(out) != 3 {
		t.Errorf("flush: %v %v", err, out)
	}
}

// A stop downstream comes back from Idle.
func TestEnrichIdleStop(t *testing.T) {
	e := New(Options{Geo: geoSet(t)})
	a := &answer{done: closed}
	a.finish()
	e.queue = append(e.queue, item{r: &record.Record{IP: "187.45.12.9"}, a: a})
	if _, err := e.Idle(func(*record.Record) error { return record.ErrStop }, func() {}); err != record.ErrStop {
		t.Errorf("got %v", err)
	}
}
