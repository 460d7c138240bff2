package policy

import (
	"bufio"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/state"
)

// BenchmarkReadRequest: the parser alone, on Postfix's request.
func BenchmarkReadRequest(b *testing.B) {
	in := strings.Repeat(postfixRequest, 1000)
	var r request
	b.SetBytes(int64(len(postfixRequest)))
	b.ReportAllocs()
	var br *bufio.Reader
	for i := 0; i < b.N; i++ {
		if i%1000 == 0 {
			br = bufio.NewReaderSize(strings.NewReader(in), DefaultMaxLine)
		}
		if err := readRequest(br, &r, DefaultMaxRequest); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkServe: one connection over loopback, a request and its answer
// at a time, with 1,000 blocks; the client's work is included (go test
// ./pkg/policy -bench . -benchtime 20000x).
func BenchmarkServe(b *testing.B) {
	dir := b.TempDir()
	st, err := state.Open(context.Background(), dir+"/state.db", state.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	for i := range 1000 {
		st.AddBlock(context.Background(), state.Block{User: "blocked-" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + "@example.test", Created: time.Now()})
	}
	srv, err := New(Config{Source: st, Refresh: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Shutdown(context.Background())
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	c := &client{c: nc, br: bufio.NewReader(nc)}
	reqs := [][]byte{[]byte(postfixRequest), []byte(strings.Replace(postfixRequest, "Bob@Example.test", "blocked-a@example.test", 1))}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := nc.Write(reqs[i%2]); err != nil {
			b.Fatal(err)
		}
		if _, err := c.answer(); err != nil {
			b.Fatal(err)
		}
	}
}
