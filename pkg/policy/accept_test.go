package policy

import (
	"context"
	"log/slog"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

// failingListener is a real listener whose Accept first fails with the
// errors queued, as the kernel's accept(2) does: ENOBUFS or ENOMEM under
// memory pressure, EPROTO or ENETUNREACH for a network error pending on
// the new connection ("treat them like EAGAIN by retrying", accept(2)),
// EPERM when a firewall rule forbids it.
type failingListener struct {
	net.Listener
	errs chan error
}

func (l *failingListener) Accept() (net.Conn, error) {
	select {
	case err := <-l.errs:
		return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: l.Addr(), Err: os.NewSyscallError("accept4", err)}
	default:
	}
	return l.Listener.Accept()
}

// An accept that fails is waited out and tried again, with a log line:
// the service goes on answering. (Serve used to return on any error but
// EMFILE, ENFILE, ECONNABORTED and timeouts, leaving its socket open and
// unanswered: Postfix's connections queued in the backlog, each mail
// waited smtpd_policy_service_timeout (100s) for an answer that never
// came, then was deferred, and nothing was logged.)
func TestAcceptErrors(t *testing.T) {
	for _, errno := range []syscall.Errno{syscall.ENOBUFS, syscall.ENOMEM, syscall.EPROTO, syscall.ENETUNREACH, syscall.EPERM} {
		t.Run(errno.Error(), func(t *testing.T) {
			st, _ := newStore(t)
			log := &logBuf{}
			f := &fixture{t: t, store: st, clock: newClock(), log: log}
			srv, err := New(Config{Source: st, Now: f.clock.now, Logger: slog.New(slog.NewTextHandler(log, nil))})
			if err != nil {
				t.Fatal(err)
			}
			inner, err := Listen("127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			ln := &failingListener{Listener: inner, errs: make(chan error, 2)}
			ln.errs <- errno
			ln.errs <- errno
			f.addr = inner.Addr().String()
			done := make(chan error, 1)
			go func() { done <- srv.Serve(ln) }()
			c := f.dial()
			c.c.SetDeadline(time.Now().Add(10 * time.Second))
			if got := c.ask(req("bob@example.test", "RCPT")); got != "action=DUNNO" {
				t.Errorf("answer %q", got)
			}
			log.wait(t, "policy: accept failed, waiting")
			if err := srv.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
			if err := <-done; err != ErrServerClosed {
				t.Errorf("Serve = %v", err)
			}
		})
	}
}
