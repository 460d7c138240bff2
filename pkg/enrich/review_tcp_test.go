package enrich

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// tcServer answers every UDP query truncated, and hands each TCP query
// (its message, without the length prefix) to tcp, on one loopback port.
func tcServer(t *testing.T, tcp func(c net.Conn, query []byte)) string {
	t.Helper()
	var pc net.PacketConn
	var ln net.Listener
	for try := 0; ; try++ {
		var err error
		pc, err = net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ln, err = net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			break
		}
		pc.Close()
		if try > 50 {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { pc.Close(); ln.Close() })
	go func() {
		buf := make([]byte, 512)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			m := buf[:n]
			if n < 12 {
				continue
			}
			m[2] |= 0x82 // QR, TC
			pc.WriteTo(m, from)
		}
	}()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				var lb [2]byte
				if _, err := io.ReadFull(c, lb[:]); err != nil {
					return
				}
				q := make([]byte, binary.BigEndian.Uint16(lb[:]))
				if _, err := io.ReadFull(c, q); err != nil {
					return
				}
				tcp(c, q)
			}()
		}
	}()
	return pc.LocalAddr().String()
}

// answerTo builds the answer to query (its ID and question) with an A
// record 192.0.2.1 for the asked name.
func answerTo(t *testing.T, query []byte, edit func(h *dnsmessage.Header)) []byte {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		t.Error(err)
		return nil
	}
	q, err := p.Question()
	if err != nil {
		t.Error(err)
		return nil
	}
	h.Response = true
	if edit != nil {
		edit(&h)
	}
	b := dnsmessage.NewBuilder(make([]byte, 2, 512), h)
	b.StartQuestions()
	b.Question(q)
	b.StartAnswers()
	b.AResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}, dnsmessage.AResource{A: [4]byte{192, 0, 2, 1}})
	msg, err := b.Finish()
	if err != nil {
		t.Error(err)
		return nil
	}
	binary.BigEndian.PutUint16(msg, uint16(len(msg)-2))
	return msg
}

// A truncated answer asked again over TCP, from a server that answers
// over TCP badly: it sends less than its length prefix says and waits,
// closes without answering, answers under another ID, or answers in full
// with more bytes after. Each is an error, in at most about the timeout,
// except the full answer.
func TestReviewTCPServerMisbehaves(t *testing.T) {
	const timeout = 500 * time.Millisecond
	for _, c := range []struct {
		name string
		tcp  func(t *testing.T, c net.Conn, query []byte)
		err  string // "": the answer
	}{
		{"short", func(t *testing.T, c net.Conn, query []byte) {
			msg := answerTo(t, query, nil)
			c.Write(msg[:len(msg)-3])
			c.Read(make([]byte, 1)) // until the client gives up
		}, "timeout"},
		{"closed", func(t *testing.T, c net.Conn, query []byte) {}, "EOF"},
		{"another ID", func(t *testing.T, c net.Conn, query []byte) {
			c.Write(answerTo(t, query, func(h *dnsmessage.Header) { h.ID++ }))
		}, "another ID"},
		{"more bytes after", func(t *testing.T, c net.Conn, query []byte) {
			c.Write(append(answerTo(t, query, nil), "junk after the answer"...))
		}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			addr := tcServer(t, func(conn net.Conn, q []byte) { c.tcp(t, conn, q) })
			s, err := newStub(addr, timeout, 1)
			if err != nil {
				t.Fatal(err)
			}
			qn, _ := queryName("tc.example")
			q := dnsmessage.Question{Name: qn, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET}
			start := time.Now()
			rep, _, err := s.exchange(context.Background(), q, prioForward, func() error { return nil }, func(time.Time) {})
			took := time.Since(start)
			if c.err == "" {
				if err != nil || len(rep.addrs) != 1 || rep.addrs[0] != netip.MustParseAddr("192.0.2.1") {
					t.Errorf("%+v %v", rep, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("error %v, want %q (%+v)", err, c.err, rep)
			}
			if c.err == "timeout" && !errors.Is(err, errTimeout) {
				t.Errorf("error %v is not the timeout", err)
			}
			if took > 20*timeout {
				t.Errorf("took %v", took)
			}
		})
	}
}
