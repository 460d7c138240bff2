package policy

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strings"
	"time"
)

// Listen listens on addr as [POLICY] listen writes it: HOST:PORT (TCP,
// e.g. 127.0.0.1:10040) or unix:/PATH. A socket file left by a process
// that is gone is replaced; one that a live process answers on is an
// error, as is any other file. The socket is made mode 0666: restrict who
// may connect with the permissions of its directory.
func Listen(addr string) (net.Listener, error) {
	if path, ok := strings.CutPrefix(addr, "unix:"); ok {
		if path == "" {
			return nil, errors.New("unix: needs a path, like unix:/var/spool/postfix/loganom/policy")
		}
		if fi, err := os.Lstat(path); err == nil {
			if fi.Mode().Type() != fs.ModeSocket {
				return nil, fmt.Errorf("%s exists and is not a socket", path)
			}
			if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
				c.Close()
				return nil, fmt.Errorf("%s: another process is listening on it", path)
			}
			if err := os.Remove(path); err != nil {
				return nil, err
			}
		}
		ln, err := net.Listen("unix", path)
		if err != nil {
			return nil, err
		}
		if err := os.Chmod(path, 0o666); err != nil {
			ln.Close()
			return nil, err
		}
		return ln, nil
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		return nil, fmt.Errorf("%q: want HOST:PORT (like 127.0.0.1:10040) or unix:/PATH", addr)
	}
	return net.Listen("tcp", addr)
}

// Loopback tells whether addr ([POLICY] listen) can only be reached from
// this machine: a unix socket, or a loopback address.
func Loopback(addr string) bool {
	if strings.HasPrefix(addr, "unix:") {
		return true
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
