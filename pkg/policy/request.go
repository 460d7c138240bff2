package policy

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// The policy delegation protocol (Postfix's SMTPD_POLICY_README): a
// request is name=value lines ended by an empty line; the answer is
// "action=..." and an empty line; a connection carries many requests, one
// after the other. A request the server cannot take gets no answer: the
// connection is closed (and logged), and Postfix tries again.

// request is what the server keeps of one request: the attributes it
// reads, each a copy (reused from request to request).
type request struct {
	request  []byte
	state    []byte // protocol_state: CONNECT, EHLO, MAIL, RCPT, DATA, END-OF-MESSAGE, VRFY, ETRN
	user     []byte // sasl_username: empty unless authenticated
	address  []byte // client_address
	name     []byte // client_name
	port     []byte // client_port
	method   []byte // sasl_method
	queueID  []byte
	instance []byte // one mail transaction of one SMTP session
	seen     uint16 // the attributes above that were given
}

// The attributes the server reads; any other is skipped, as the protocol
// asks. One of these given twice makes the request bad: Postfix never does,
// and a second sasl_username is not for the server to choose between.
var attrs = []string{"request", "protocol_state", "sasl_username", "client_address", "client_name", "client_port", "sasl_method", "queue_id", "instance"}

func (r *request) field(i int) *[]byte {
	switch i {
	case 0:
		return &r.request
	case 1:
		return &r.state
	case 2:
		return &r.user
	case 3:
		return &r.address
	case 4:
		return &r.name
	case 5:
		return &r.port
	case 6:
		return &r.method
	case 7:
		return &r.queueID
	default:
		return &r.instance
	}
}

func (r *request) reset() {
	for i := range attrs {
		f := r.field(i)
		*f = (*f)[:0]
	}
	r.seen = 0
}

func attrIndex(name []byte) int {
	// the common names first: this runs for every line
	switch len(name) {
	case 7:
		if string(name) == "request" {
			return 0
		}
	case 8:
		if string(name) == "queue_id" || string(name) == "instance" {
			if name[0] == 'q' {
				return 7
			}
			return 8
		}
	case 11:
		if string(name) == "client_name" {
			return 4
		}
		if string(name) == "client_port" {
			return 5
		}
		if string(name) == "sasl_method" {
			return 6
		}
	case 13:
		if string(name) == "sasl_username" {
			return 2
		}
	case 14:
		if string(name) == "protocol_state" {
			return 1
		}
		if string(name) == "client_address" {
			return 3
		}
	}
	return -1
}

// BadRequest is a request the server refuses: it closes the connection
// without an answer, as the protocol says.
type BadRequest struct{ Reason string }

func (e *BadRequest) Error() string { return "bad request: " + e.Reason }

func bad(format string, args ...any) error { return &BadRequest{Reason: fmt.Sprintf(format, args...)} }

// errIncomplete: the client closed the connection in the middle of a request.
var errIncomplete = errors.New("the client closed the connection in the middle of a request")

// Limits bound what one request may hold.
type Limits struct {
	Line    int // an attribute line, its newline included (default 4096)
	Request int // a whole request (default 64 KiB)
}

const (
	DefaultMaxLine    = 4096
	DefaultMaxRequest = 64 << 10
)

// quoteName quotes (at most 64 bytes of) an attribute name for a log line.
func quoteName(b []byte) string {
	if len(b) > 64 {
		return strconv.Quote(string(b[:64])) + "..."
	}
	return strconv.Quote(string(b))
}

// readRequest reads one request from br, whose buffer is the line limit.
// It returns io.EOF when the connection ended cleanly before a request,
// errIncomplete when it ended inside one, a *BadRequest for a request
// that breaks the protocol or a limit, and the reader's other errors
// (a timeout) as they are.
func readRequest(br *bufio.Reader, r *request, maxRequest int) error {
	r.reset()
	size, lines := 0, 0
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			switch {
			case errors.Is(err, bufio.ErrBufferFull):
				return bad("an attribute line is longer than %d bytes", br.Size())
			case errors.Is(err, io.EOF):
				if lines == 0 && len(line) == 0 {
					return io.EOF
				}
				return errIncomplete
			}
			return err
		}
		size += len(line)
		if size > maxRequest {
			return bad("the request is longer than %d bytes", maxRequest)
		}
		line = line[:len(line)-1]
		if n := len(line); n > 0 && line[n-1] == '\r' { // sent by hand, with telnet
			line = line[:n-1]
		}
		if len(line) == 0 {
			if lines == 0 {
				return bad("an empty request")
			}
			break
		}
		lines++
		eq := bytes.IndexByte(line, '=')
		switch {
		case eq < 0:
			return bad("line %d is not name=value", lines)
		case eq == 0:
			return bad("line %d has no attribute name", lines)
		case bytes.IndexByte(line, 0) >= 0:
			return bad("line %d holds a NUL byte", lines)
		}
		name, value := line[:eq], line[eq+1:]
		i := attrIndex(name)
		if i < 0 {
			continue
		}
		if r.seen&(1<<i) != 0 {
			return bad("attribute %s given twice", quoteName(name))
		}
		r.seen |= 1 << i
		f := r.field(i)
		*f = append((*f)[:0], value...)
	}
	if r.seen&1 == 0 {
		return bad("no request attribute")
	}
	if string(r.request) != "smtpd_access_policy" {
		return bad("request=%s: only smtpd_access_policy is known", quoteName(r.request))
	}
	return nil
}
