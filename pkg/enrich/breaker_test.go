package enrich

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The breaker gives up after GiveUpAfter failures in a row of requests sent
// after the server's last answer, and only then.
func TestBreaker(t *testing.T) {
	t0 := time.Now()
	before := t0.Add(-time.Hour) // sent before any answer in the test
	timeout := errors.New("read udp: i/o timeout")
	type step struct {
		ok   bool
		n    int  // failures
		old  bool // sent before the last answer
		down bool // given up after this step
	}
	for _, c := range []struct {
		name  string
		steps []step
	}{
		{"no answer at all", []step{{n: GiveUpAfter - 1}, {n: 1, down: true}}},
		{"an answer in between", []step{{n: GiveUpAfter - 1}, {ok: true}, {n: GiveUpAfter - 1}, {n: 1, down: true}}},
		{"queries sent before the last answer do not count", []step{{ok: true}, {n: 5 * GiveUpAfter, old: true}, {n: GiveUpAfter - 1}, {n: 1, down: true}}},
		{"given up stays given up", []step{{n: GiveUpAfter, down: true}, {ok: true, down: true}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var b breaker
			for i, s := range c.steps {
				if s.ok {
					b.ok()
				}
				for j := 0; j < s.n; j++ {
					sent := time.Now()
					if s.old {
						sent = before
					}
					b.failed(sent, "DNS server 192.0.2.53:53", "queries", timeout)
				}
				if got := b.gaveUp.Load() != nil; got != s.down {
					t.Fatalf("step %d: given up %v, want %v", i, got, s.down)
				}
			}
			gu := b.gaveUp.Load()
			select {
			case <-b.done():
				if gu == nil {
					t.Fatal("done closed but not given up")
				}
			default:
				if gu != nil {
					t.Fatal("given up but done not closed")
				}
				return
			}
			if gu.Error() != "skipped: DNS server 192.0.2.53:53 not answering" || gu.Failed != GiveUpAfter || gu.Last != "i/o timeout" {
				t.Errorf("%q %d %q", gu.Error(), gu.Failed, gu.Last)
			}
			if !strings.Contains(gu.Warning(), "20 queries in a row failed (the last: i/o timeout); not asked again in this run") {
				t.Errorf("warning %q", gu.Warning())
			}
		})
	}
}

// deadDNS is a real UDP socket on loopback that reads queries and never
// answers. count returns how many queries it received, once it has read
// everything sent to it so far.
func deadDNS(t *testing.T) (addr string, count func() int64) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	var n atomic.Int64
	marks := make(chan struct{}, 1)
	go func() {
		buf := make([]byte, 1500)
		for {
			k, _, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if string(buf[:k]) == "mark" {
				marks <- struct{}{}
				continue
			}
			n.Add(1)
		}
	}()
	return pc.LocalAddr().String(), func() int64 {
		// Datagrams on loopback arrive in order: once the mark is read,
		// so is every query sent before it.
		c, err := net.Dial("udp", pc.LocalAddr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.Write([]byte("mark"))
		select {
		case <-marks:
		case <-time.After(30 * time.Second):
			t.Fatal("the dead server did not read its mark")
		}
		return n.Load()
	}
}

func manyIPs(n int) []string {
	ips := make([]string, n)
	for i := range ips {
		ips[i] = fmt.Sprintf("198.18.%d.%d", i/250, 1+i%250)
	}
	return ips
}

// A DNS server that never answers is given up on after GiveUpAfter queries
// in a row timed out, not after 2,000 addresses × 2 tries: it is told once,
// and the records say so.
func TestDeadDNSServer(t *testing.T) {
	addr, count := deadDNS(t)
	r, err := NewResolver(addr, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	const workers = 16
	var told []*GaveUpError
	e := New(Options{Resolver: r, Workers: workers, OnGiveUp: func(gu *GaveUpError) { told = append(told, gu) }})
	out := runStage(t, e, manyIPs(2000)...)

	n := count()
	// Each worker has at most one query out when the breaker trips.
	if n < GiveUpAfter || n > GiveUpAfter+workers {
		t.Errorf("the dead server received %d queries, want %d to %d", n, GiveUpAfter, GiveUpAfter+workers)
	}
	skip := `"enrich_errors":["rdns: skipped: DNS server ` + addr + ` not answering"]`
	skipped := 0
	for _, line := range out {
		switch {
		case strings.Contains(line, skip):
			skipped++
		case !strings.Contains(line, `"enrich_errors":["rdns: PTR 198.18.`) || !strings.Contains(line, `: timeout"]`):
			t.Fatalf("record neither skipped nor timed out: %s", line)
		}
	}
	if len(out) != 2000 || skipped < 2000-int(n) {
		t.Errorf("%d records, %d skipped", len(out), skipped)
	}
	if len(told) != 1 || told[0].Server != "DNS server "+addr || told[0].Last != "timeout" {
		t.Errorf("told %+v", told)
	}
	if s := e.Stats().Summary(); !strings.Contains(s, "rdns: skipped: DNS server "+addr+" not answering ×") {
		t.Errorf("summary %q", s)
	}
}

// ipinfo.io refusing connections, or taking them and never answering, is
// given up on after GiveUpAfter requests; a refused connection is not
// retried.
func TestDeadIPinfo(t *testing.T) {
	for _, c := range []struct {
		name    string
		url     func(t *testing.T) string
		timeout time.Duration // the client's
		last    string
	}{
		{"refused", func(t *testing.T) string {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			ln.Close() // nothing listens there now
			return "https://" + ln.Addr().String()
		}, 30 * time.Second, "connection refused"},
		{"silent", func(t *testing.T) string {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { ln.Close() })
			go func() { // takes connections and says nothing
				var conns []net.Conn
				defer func() {
					for _, c := range conns {
						c.Close()
					}
				}()
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					conns = append(conns, c)
				}
			}()
			return "https://" + ln.Addr().String()
		}, 100 * time.Millisecond, "timeout"},
	} {
		t.Run(c.name, func(t *testing.T) {
			base := c.url(t)
			var dials atomic.Int64
			d := &net.Dialer{}
			client := &http.Client{Timeout: c.timeout, Transport: &http.Transport{
				DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
					dials.Add(1)
					return d.DialContext(ctx, network, addr)
				},
			}}
			p := &IPinfo{Token: token, BaseURL: base, Client: client, Backoff: time.Millisecond}
			const workers = 16
			var told []*GaveUpError
			e := New(Options{IPinfo: p, Workers: workers, OnGiveUp: func(gu *GaveUpError) { told = append(told, gu) }})
			out := runStage(t, e, manyIPs(2000)...)

			// A request may take a connection dialled for another that
			// timed out: requests, not connections, are what failed.
			n, calls := dials.Load(), p.Calls()
			if calls < GiveUpAfter || calls > GiveUpAfter+workers || n > calls {
				t.Errorf("%d requests, %d connections; want %d to %d requests", calls, n, GiveUpAfter, GiveUpAfter+workers)
			}
			host := strings.TrimPrefix(base, "https://")
			skip := `"enrich_errors":["geo: ipinfo: skipped: ipinfo.io at ` + host + ` not answering"]`
			skipped := 0
			for _, line := range out {
				if strings.Contains(line, skip) {
					skipped++
				} else if !strings.Contains(line, `"enrich_errors":["geo: ipinfo: `) {
					t.Fatalf("record without the failure: %s", line)
				}
			}
			if len(out) != 2000 || skipped < 2000-int(calls) {
				t.Errorf("%d records, %d skipped", len(out), skipped)
			}
			if len(told) != 1 || told[0].Server != "ipinfo.io at "+host || told[0].Last != c.last {
				for _, gu := range told {
					t.Errorf("told %+v", *gu)
				}
			}
			if s := e.Stats().Summary(); !strings.Contains(s, "ipinfo.io: skipped: ipinfo.io at "+host+" not answering ×") {
				t.Errorf("summary %q", s)
			}
		})
	}
}

// A refused connection is not retried: one lookup, one request.
func TestIPinfoRefusedNotRetried(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	p := &IPinfo{Token: token, BaseURL: "https://" + ln.Addr().String(), Backoff: time.Millisecond}
	_, err = p.Lookup(context.Background(), netip.MustParseAddr("8.8.8.8"))
	if err == nil || !strings.Contains(err.Error(), "connection refused") || p.Calls() != 1 {
		t.Errorf("%d calls, %v", p.Calls(), err)
	}
}
