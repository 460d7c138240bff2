package record

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// counter is a source of n records that counts what it produced.
type counter struct{ n, produced int }

func (c *counter) Run(emit Emit) error {
	for i := 0; i < c.n; i++ {
		c.produced++
		if err := emit(&Record{Type: "login", User: fmt.Sprint("u", i)}); err != nil {
			return err
		}
	}
	return nil
}

// head passes the first n records and then stops, like head(1).
func head(n int) Stage {
	seen := 0
	return Func(func(r *Record, emit Emit) error {
		if seen == n {
			return ErrStop
		}
		seen++
		if err := emit(r); err != nil {
			return err
		}
		if seen == n {
			return ErrStop
		}
		return nil
	})
}

// tally holds every record back and emits one summary at the end.
type tally struct{ users []string }

func (t *tally) Process(r *Record, emit Emit) error { t.users = append(t.users, r.User); return nil }
func (t *tally) Flush(emit Emit) error {
	return emit(&Record{Type: "summary", User: strings.Join(t.users, ",")})
}

func collect(out *[]string) Emit {
	return func(r *Record) error { *out = append(*out, r.Type+":"+r.User); return nil }
}

func TestRunPassesInOrder(t *testing.T) {
	var out []string
	upper := Func(func(r *Record, emit Emit) error { r.User = strings.ToUpper(r.User); return emit(r) })
	if err := Run(&counter{n: 3}, collect(&out), upper); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(out, " "); got != "login:U0 login:U1 login:U2" {
		t.Errorf("got %s", got)
	}
}

// A stop downstream stops the source, and the stages after the one that
// stopped are still flushed.
func TestStopStopsSourceAndFlushes(t *testing.T) {
	var out []string
	src := &counter{n: 1000}
	if err := Run(src, collect(&out), head(2), &tally{}); err != nil {
		t.Fatal(err)
	}
	if src.produced != 2 {
		t.Errorf("source produced %d records after the stop, want 2", src.produced)
	}
	if got := strings.Join(out, " "); got != "summary:u0,u1" {
		t.Errorf("got %s", got)
	}
}

// A sink that stops (a closed pipe) stops everything, and is not an error.
func TestSinkStop(t *testing.T) {
	src := &counter{n: 1000}
	n := 0
	sink := func(*Record) error {
		n++
		if n == 3 {
			return ErrStop
		}
		return nil
	}
	if err := Run(src, sink, Func(func(r *Record, emit Emit) error { return emit(r) })); err != nil {
		t.Fatal(err)
	}
	if src.produced != 3 {
		t.Errorf("produced %d, want 3", src.produced)
	}
}

// Errors other than ErrStop come back, and the stages are still flushed.
func TestErrorsReturnAfterFlush(t *testing.T) {
	boom := errors.New("boom")
	var out []string
	src := sourceFunc(func(emit Emit) error {
		emit(&Record{Type: "login", User: "a"})
		return boom
	})
	err := Run(src, collect(&out), &tally{})
	if !errors.Is(err, boom) {
		t.Errorf("err %v", err)
	}
	if strings.Join(out, " ") != "summary:a" {
		t.Errorf("flush did not run: %v", out)
	}
}

type sourceFunc func(Emit) error

func (f sourceFunc) Run(emit Emit) error { return f(emit) }
