package api

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/loganom/loganom/pkg/policy"
	"golang.org/x/net/netutil"
)

// The http.Server's limits.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 16 << 10
	// ShutdownTimeout: at the stop, requests begun get this long.
	ShutdownTimeout = 10 * time.Second
	// MaxConnections: at most this many connections are served at once;
	// more wait in the kernel's backlog. The API shares its process with
	// the policy service (and the daemon): clients without a token must
	// not use up its file descriptors.
	MaxConnections = 256
)

// TLS tells whether the server serves HTTPS.
func (s *Server) TLS() bool { return s.cfg.CertFile != "" }

// Loopback tells whether addr (HOST:PORT or unix:/PATH) can only be
// reached from this machine.
func Loopback(addr string) bool { return policy.Loopback(addr) }

// checkListen: a well-formed address; both halves of the TLS pair or
// neither; another address than loopback only with TLS.
func (s *Server) checkListen() error {
	addr := s.cfg.Listen
	if !strings.HasPrefix(addr, "unix:") {
		if _, port, err := net.SplitHostPort(addr); err != nil || port == "" {
			return &ConfigError{Key: "listen", Value: addr, Err: errors.New("want HOST:PORT (like 127.0.0.1:8731) or unix:/PATH")}
		}
	}
	switch {
	case s.cfg.CertFile != "" && s.cfg.KeyFile == "":
		return &ConfigError{Key: "key", Err: errors.New("not set, and [API] cert is: give both, or neither"), Hint: "[API] key = the certificate's private key (PEM)"}
	case s.cfg.CertFile == "" && s.cfg.KeyFile != "":
		return &ConfigError{Key: "cert", Err: errors.New("not set, and [API] key is: give both, or neither"), Hint: "[API] cert = the certificate chain (PEM)"}
	}
	if !s.TLS() && !Loopback(addr) {
		return &ConfigError{Key: "listen", Value: addr, Err: errors.New("not a loopback address, and no TLS: tokens would cross the network in clear text"),
			Hint: "listen on 127.0.0.1 (and reach it through a TLS proxy or an SSH tunnel), or set [API] cert and key"}
	}
	return nil
}

// setupServer makes the http.Server, and reads the TLS pair.
func (s *Server) setupServer() error {
	s.srv = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          log.New(serverLog{s.log}, "", 0),
	}
	if !s.TLS() {
		return nil
	}
	cs := &certSet{cert: s.cfg.CertFile, key: s.cfg.KeyFile}
	if _, err := cs.load(); err != nil {
		return err
	}
	s.warnKeyMode()
	s.warnDates(cs.c)
	s.srv.TLSConfig = &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			c, changed, err := cs.get()
			switch {
			case err != nil:
				s.log.Error("api: the TLS certificate cannot be read again: serving the one read before", "err", err)
			case changed:
				// said, so that a renewal whose cert came before its key
				// (an error, above, meanwhile) is seen to have ended well
				args := []any{"cert", s.cfg.CertFile}
				if c.Leaf != nil {
					args = append(args, "subject", c.Leaf.Subject.String(), "not_after", c.Leaf.NotAfter.UTC().Format(time.RFC3339))
				}
				s.log.Info("api: TLS certificate read again", args...)
				s.warnKeyMode()
				s.warnDates(c)
			}
			return c, nil
		},
	}
	return nil
}

// warnDates warns when the certificate is out of its dates (by the clock,
// as clients judge it): it is served, being all there is, but refused.
func (s *Server) warnDates(c *tls.Certificate) {
	if c == nil || c.Leaf == nil {
		return
	}
	now := time.Now()
	if now.After(c.Leaf.NotAfter) || now.Before(c.Leaf.NotBefore) {
		s.log.Warn("api: the TLS certificate is out of its dates: clients will refuse it", "cert", s.cfg.CertFile,
			"not_before", c.Leaf.NotBefore.UTC().Format(time.RFC3339), "not_after", c.Leaf.NotAfter.UTC().Format(time.RFC3339))
	}
}

// warnKeyMode warns when others may read the TLS key.
func (s *Server) warnKeyMode() {
	if fi, err := os.Stat(s.cfg.KeyFile); err == nil && fi.Mode().Perm()&0o007 != 0 {
		s.log.Warn("api: others may read the TLS key", "key", s.cfg.KeyFile, "mode", fmt.Sprintf("%04o", fi.Mode().Perm()), "hint", "chmod 600 "+s.cfg.KeyFile)
	}
}

// serverLog is the http.Server's ErrorLog: its lines are warnings, but for
// the TLS handshakes that fail (a port scan, a TCP health check, a client
// that speaks plain HTTP or refuses the certificate: the client's
// business, all day long on a port others reach), debug lines.
type serverLog struct{ l *slog.Logger }

func (w serverLog) Write(p []byte) (int, error) {
	msg := strings.TrimSuffix(string(p), "\n")
	level := slog.LevelWarn
	if strings.HasPrefix(msg, "http: TLS handshake error") {
		level = slog.LevelDebug
	}
	w.l.Log(context.Background(), level, msg)
	return len(p), nil
}

// certSet is the TLS pair, read again when either file changes (a renewed
// certificate is served without a restart); while the new one cannot be
// read, the last good one is served.
type certSet struct {
	cert, key string
	mu        sync.Mutex
	ids       [2]fileID
	c         *tls.Certificate
	failed    [2]fileID // the files that failed last, not to log each handshake
	hasFailed bool      // failed is set (both files gone is a zero failed)
}

func stat(path string) fileID {
	fi, err := os.Stat(path)
	if err != nil {
		return fileID{}
	}
	return fileIDOf(fi)
}

func (c *certSet) load() (*tls.Certificate, error) {
	ids := [2]fileID{stat(c.cert), stat(c.key)}
	pair, err := tls.LoadX509KeyPair(c.cert, c.key)
	if err != nil {
		return nil, &ConfigError{Key: "cert", Value: c.cert, Err: fmt.Errorf("with [API] key %s: %w", c.key, err)}
	}
	c.ids, c.c = ids, &pair
	return c.c, nil
}

// get returns the pair, read again when a file changed (changed: it was,
// and is served from now on); err says that the new files could not be
// read (once per change), and the old pair is returned.
func (c *certSet) get() (pair *tls.Certificate, changed bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ids := [2]fileID{stat(c.cert), stat(c.key)}
	if ids == c.ids || c.hasFailed && ids == c.failed {
		return c.c, false, nil
	}
	old := c.c
	if _, err := c.load(); err != nil {
		c.failed, c.hasFailed = ids, true
		return old, false, err
	}
	return c.c, true, nil
}

// Listen listens on the configured address: HOST:PORT, or unix:/PATH (a
// socket file left by a process that is gone is replaced). It does not
// serve yet: see Serve.
func (s *Server) Listen() (net.Listener, error) {
	ln, err := policy.Listen(s.cfg.Listen)
	if err != nil {
		return nil, &ConfigError{Key: "listen", Value: s.cfg.Listen, Err: err}
	}
	// a name (localhost) was trusted as loopback: check what it gave
	if a, ok := ln.Addr().(*net.TCPAddr); ok && !s.TLS() && !a.IP.IsLoopback() {
		ln.Close()
		return nil, &ConfigError{Key: "listen", Value: s.cfg.Listen, Err: fmt.Errorf("%s is not a loopback address, and no TLS", a),
			Hint: "listen on 127.0.0.1:PORT or [::1]:PORT, or configure [API] cert and key"}
	}
	return netutil.LimitListener(ln, MaxConnections), nil
}

// Serve serves on ln (HTTPS when configured) until ctx is done, then
// stops: it closes ln, and gives the requests begun ShutdownTimeout to
// finish. It returns nil after such a stop. Meanwhile it logs the counts
// of refusals (403, and 401 for a wrong token) held back (see
// refusalLog), and at the stop those left.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	stop, ticked := make(chan struct{}), make(chan struct{})
	go func() { defer close(ticked); s.tickRefusals(s.cfg.refusalTicks, stop) }()
	defer func() { close(stop); <-ticked }()
	done := make(chan error, 1)
	go func() {
		if s.TLS() {
			done <- s.srv.ServeTLS(ln, "", "")
		} else {
			done <- s.srv.Serve(ln)
		}
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	err := s.srv.Shutdown(sctx)
	if e := <-done; !errors.Is(e, http.ErrServerClosed) && err == nil {
		err = e
	}
	if err != nil {
		s.srv.Close()
	}
	return err
}
