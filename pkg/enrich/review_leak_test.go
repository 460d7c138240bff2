package enrich

import (
	"context"
	"net"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// A server down for long (silent: a socket that never answers; or
// refused: nothing listens) costs no goroutines nor file descriptors
// beyond the stub's few sockets once its queries have timed out: sockets
// used up are closed, and their readers return.
func TestReviewDeadServerNoLeak(t *testing.T) {
	for _, c := range []struct {
		name   string
		silent bool
	}{{"silent", true}, {"refused", false}} {
		t.Run(c.name, func(t *testing.T) {
			pc, err := net.ListenPacket("udp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			addr := pc.LocalAddr().String()
			if c.silent {
				defer pc.Close()
			} else {
				pc.Close()
			}
			gBefore, fdBefore := runtime.NumGoroutine(), countFDs(t)
			s, err := newStub(addr, 20*time.Millisecond, 1)
			if err != nil {
				t.Fatal(err)
			}
			const n = 5000 // about 600 a socket: each is used up at least once
			qn, _ := queryName("dead.example")
			q := dnsmessage.Question{Name: qn, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET}
			var wg sync.WaitGroup
			var mu sync.Mutex
			errs := map[string]int{}
			sem := make(chan struct{}, 200)
			for i := 0; i < n; i++ {
				wg.Add(1)
				sem <- struct{}{}
				go func() {
					defer wg.Done()
					defer func() { <-sem }()
					_, _, err := s.exchange(context.Background(), q, prioPTR, func() error { return nil }, func(time.Time) {})
					mu.Lock()
					errs[errString(err)]++
					mu.Unlock()
				}()
			}
			wg.Wait()
			t.Logf("errors: %v", errs)
			if errs["<nil>"] > 0 {
				t.Fatalf("answers from a dead server: %v", errs)
			}
			// the stub keeps at most stubSockets sockets and readers
			deadline := time.Now().Add(20 * time.Second)
			for {
				g, fd := runtime.NumGoroutine()-gBefore, countFDs(t)-fdBefore
				if g <= stubSockets && fd <= stubSockets {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%d more goroutines, %d more fds after %d queries", g, fd, n)
				}
				time.Sleep(10 * time.Millisecond) // polling to a deadline
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

func countFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(ents)
}
