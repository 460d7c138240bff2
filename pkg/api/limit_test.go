package api

import (
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Clients that connect and send nothing hold at most MaxConnections
// connections: the next one waits (in the kernel's backlog) instead of
// taking another file descriptor, and is served as soon as one of them
// goes.
func TestConnectionLimit(t *testing.T) {
	f := start(t, Config{})
	addr := strings.TrimPrefix(f.base, "http://")
	idle := make([]net.Conn, 0, MaxConnections)
	defer func() {
		for _, c := range idle {
			c.Close()
		}
	}()
	for range MaxConnections {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		idle = append(idle, c)
	}
	answered := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, f.base+"/v1/blocks", nil)
		req.Header.Set("Authorization", bearer(opsToken))
		resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
		if err != nil {
			answered <- -1
			return
		}
		resp.Body.Close()
		answered <- resp.StatusCode
	}()
	select {
	case c := <-answered:
		t.Fatalf("answered (%d) while %d connections were held", c, MaxConnections)
	case <-time.After(300 * time.Millisecond):
	}
	idle[0].Close()
	select {
	case c := <-answered:
		if c != http.StatusOK {
			t.Fatalf("status %d once a connection went, want 200", c)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("not answered once a connection went")
	}
}
