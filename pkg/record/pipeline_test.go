package record

import (
	"bufio"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

// gated holds each record back until its gate (by user) is closed, and
// lets records leave in input order, as the enricher's lookups do.
type gated struct {
	gates map[string]chan struct{}
	held  []*Record
}

func newGated(users ...string) *gated {
	g := &gated{gates: map[string]chan struct{}{}}
	for _, u := range users {
		g.gates[u] = make(chan struct{})
	}
	return g
}

func (g *gated) open(user string) { close(g.gates[user]) }

func (g *gated) ready(r *Record) bool {
	select {
	case <-g.gates[r.User]:
		return true
	default:
		return false
	}
}

func (g *gated) emitReady(emit Emit) error {
	for len(g.held) > 0 && g.ready(g.held[0]) {
		r := g.held[0]
		g.held = g.held[1:]
		if err := emit(r); err != nil {
			return err
		}
	}
	return nil
}

func (g *gated) Process(r *Record, emit Emit) error {
	g.held = append(g.held, r)
	return g.emitReady(emit)
}

func (g *gated) Flush(emit Emit) error {
	for _, r := range g.held {
		<-g.gates[r.User]
		if err := emit(r); err != nil {
			return err
		}
	}
	g.held = nil
	return nil
}

func (g *gated) Idle(emit Emit, wake func()) (bool, error) {
	if err := g.emitReady(emit); err != nil {
		return false, err
	}
	if len(g.held) == 0 {
		return false, nil
	}
	gate := g.gates[g.held[0].User]
	go func() { <-gate; wake() }()
	return true, nil
}

// waitWake waits for Idle's channel, failing the test after a long
// deadline (a lost wake-up would otherwise hang it).
func waitWake(t *testing.T, wake <-chan struct{}) {
	t.Helper()
	select {
	case <-wake:
	case <-time.After(time.Minute):
		t.Fatal("no wake-up")
	}
}

// Idle emits what may leave now, in order, never what waits for work
// under way, flushes the sink, and wakes the source when more may leave;
// stages after an Idler see what it emits.
func TestPipelineIdle(t *testing.T) {
	var out []string
	flushes := 0
	g := newGated("a", "b", "c")
	upper := Func(func(r *Record, emit Emit) error { r.User = strings.ToUpper(r.User); return emit(r) })
	p := NewPipeline(collect(&out), func() error { flushes++; return nil }, g, upper)
	for _, u := range []string{"a", "b", "c"} {
		if err := p.Emit(&Record{Type: "login", User: u}); err != nil {
			t.Fatal(err)
		}
	}
	wake, err := p.Idle()
	if err != nil || wake == nil || len(out) != 0 || flushes != 1 {
		t.Fatalf("idle: wake %v, err %v, out %v, %d flushes", wake, err, out, flushes)
	}
	g.open("b") // b is ready, but a before it is not: nothing leaves
	g.open("a")
	waitWake(t, wake)
	if wake, err = p.Idle(); err != nil || wake == nil {
		t.Fatalf("idle: %v %v", wake, err)
	}
	if got := strings.Join(out, " "); got != "login:A login:B" || flushes != 2 {
		t.Fatalf("after a and b: %s, %d flushes", got, flushes)
	}
	g.open("c")
	waitWake(t, wake)
	if wake, err = p.Idle(); err != nil || wake != nil {
		t.Fatalf("idle with nothing held: %v %v", wake, err)
	}
	if err := p.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(out, " "); got != "login:A login:B login:C" || flushes != 4 {
		t.Errorf("got %s, %d flushes", got, flushes)
	}
}

// Settle waits until nothing is held back for work under way.
func TestPipelineSettle(t *testing.T) {
	var out []string
	g := newGated("a", "b")
	p := NewPipeline(collect(&out), nil, g)
	p.Emit(&Record{User: "a"})
	p.Emit(&Record{User: "b"})
	go func() { g.open("b"); g.open("a") }()
	if err := p.Settle(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(out, " "); got != ":a :b" {
		t.Errorf("got %q", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	g = newGated("c")
	p = NewPipeline(collect(&out), nil, g)
	p.Emit(&Record{User: "c"})
	cancel()
	if err := p.Settle(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("settle after cancel: %v", err)
	}
}

// A sink that stops during Idle stops the source: Idle says ErrStop.
func TestPipelineIdleStop(t *testing.T) {
	g := newGated("a")
	p := NewPipeline(func(*Record) error { return ErrStop }, nil, g)
	p.Emit(&Record{User: "a"})
	g.open("a")
	if _, err := p.Idle(); !errors.Is(err, ErrStop) {
		t.Errorf("idle: %v", err)
	}
	if err := p.Emit(&Record{User: "a"}); !errors.Is(err, ErrStop) {
		t.Errorf("emit after the stop: %v", err)
	}
	boom := errors.New("disk full")
	p = NewPipeline(collect(new([]string)), func() error { return boom }, g)
	if _, err := p.Idle(); !errors.Is(err, boom) {
		t.Errorf("idle with a failing sink: %v", err)
	}
}

// An IdleReader over a pipe calls idle when the writer has written
// nothing more, not before: a record written alone is read without the
// writer closing the pipe, and idle is called with it read.
func TestIdleReader(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	idled := make(chan struct{}, 1)
	ir := NewIdleReader(pr, func() (<-chan struct{}, error) {
		idled <- struct{}{}
		return nil, nil
	})
	defer ir.Close()
	rd := NewReader(ir, "pipe")
	go pw.Write([]byte(`{"type":"login","user":"a"}` + "\n"))
	// the first Read may find the pipe empty (idle once); either way the
	// record comes without more input
	r, err := rd.Next()
	if err != nil || r.User != "a" {
		t.Fatalf("%+v %v", r, err)
	}
	select {
	case <-idled:
	default:
	}
	got := make(chan *Record)
	go func() {
		r, _ := rd.Next()
		got <- r
	}()
	<-idled // nothing written: the reader is idle, and says so before it blocks
	select {
	case r := <-got:
		t.Fatalf("a record with nothing written: %+v", r)
	default:
	}
	pw.Write([]byte(`{"type":"login","user":"b"}` + "\n"))
	if r := <-got; r == nil || r.User != "b" {
		t.Errorf("after idle: %+v", r)
	}
}

// Each time the channel idle returned is ready, idle is called again,
// while the input stays idle.
func TestIdleReaderWake(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	var mu sync.Mutex
	calls := 0
	wake := make(chan struct{}, 1)
	called := make(chan int, 10)
	ir := NewIdleReader(pr, func() (<-chan struct{}, error) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		called <- n
		return wake, nil
	})
	defer ir.Close()
	done := make(chan error)
	go func() {
		_, err := bufio.NewReader(ir).ReadString('\n')
		done <- err
	}()
	if n := <-called; n != 1 {
		t.Fatalf("call %d", n)
	}
	wake <- struct{}{}
	if n := <-called; n != 2 {
		t.Fatalf("call %d after a wake", n)
	}
	pw.Write([]byte("x\n"))
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// An error of idle (a write that failed downstream) comes out of the
// ReaderSource as it was, not as an input error.
func TestIdleReaderError(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	boom := errors.New("write output: disk full")
	ir := NewIdleReader(pr, func() (<-chan struct{}, error) { return nil, boom })
	defer ir.Close()
	err := ReaderSource{R: NewReader(ir, "pipe")}.Run(func(*Record) error { return nil })
	if err != boom {
		t.Errorf("got %v", err)
	}
}

// A reader that always has input ready: the whole input comes through,
// chunk after chunk, in order, and EOF at its end.
func TestIdleReaderBatch(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 20000; i++ {
		b.WriteString(`{"type":"login","user":"u"}` + "\n")
	}
	ir := NewIdleReader(strings.NewReader(b.String()), nil)
	defer ir.Close()
	got, err := io.ReadAll(ir)
	if err != nil || string(got) != b.String() {
		t.Errorf("read %d bytes of %d: %v", len(got), b.Len(), err)
	}
}

// drainer records what had reached it each time it was told that every
// record read had.
type drainer struct {
	seen    []string
	drained []string
}

func (d *drainer) Process(r *Record, emit Emit) error {
	d.seen = append(d.seen, r.User)
	return emit(r)
}
func (d *drainer) Flush(Emit) error { return nil }
func (d *drainer) Drained(Emit) error {
	d.drained = append(d.drained, strings.Join(d.seen, ""))
	return nil
}

// A Drainer is told that every record read has reached it only when no
// stage before it holds one back; one before the holding stage is told
// at every Idle.
func TestPipelineDrained(t *testing.T) {
	before, after := &drainer{}, &drainer{}
	g := newGated("a", "b")
	p := NewPipeline(collect(new([]string)), nil, before, g, after)
	p.Emit(&Record{User: "a"})
	p.Emit(&Record{User: "b"})
	wake, _ := p.Idle()
	if len(after.drained) != 0 || strings.Join(before.drained, ",") != "ab" {
		t.Fatalf("with a and b held: before %v, after %v", before.drained, after.drained)
	}
	g.open("a")
	waitWake(t, wake)
	wake, _ = p.Idle()
	if len(after.drained) != 0 {
		t.Fatalf("with b held: after %v", after.drained)
	}
	g.open("b")
	waitWake(t, wake)
	if wake, err := p.Idle(); wake != nil || err != nil {
		t.Fatalf("idle: %v %v", wake, err)
	}
	if strings.Join(after.drained, ",") != "ab" || strings.Join(before.drained, ",") != "ab,ab,ab" {
		t.Errorf("before %v, after %v", before.drained, after.drained)
	}
}

// emptyReader returns nothing, and no error, for ever.
type emptyReader struct{}

func (emptyReader) Read([]byte) (int, error) { return 0, nil }

// A reader that keeps returning nothing is an error, as bufio makes it,
// not a goroutine spinning for ever.
func TestIdleReaderNoProgress(t *testing.T) {
	ir := NewIdleReader(emptyReader{}, nil)
	defer ir.Close()
	if _, err := io.ReadAll(ir); err != io.ErrNoProgress {
		t.Errorf("got %v", err)
	}
}
