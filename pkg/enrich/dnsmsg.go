package enrich

import (
	"errors"
	"net/netip"
	"slices"
	"strings"

	"golang.org/x/net/dns/dnsmessage"
)

// The DNS messages of the stub resolver (stub.go), built and read with
// golang.org/x/net/dns/dnsmessage.

// reply is what an answer says about its question.
type reply struct {
	rcode dnsmessage.RCode
	tc    bool     // truncated: ask again over TCP
	ptrs  []string // PTR targets of the answer section (presentName), at most maxPTR
	addrs []netip.Addr
}

// buildQuery packs a query for q with id, recursion desired, as a stub
// resolver sends it.
func buildQuery(buf []byte, id uint16, q dnsmessage.Question) ([]byte, error) {
	b := dnsmessage.NewBuilder(buf, dnsmessage.Header{ID: id, RecursionDesired: true})
	if err := b.StartQuestions(); err != nil {
		return nil, err
	}
	if err := b.Question(q); err != nil {
		return nil, err
	}
	return b.Finish()
}

// errNotOurs is a datagram that is not the answer to the question asked
// under its ID (not a response, another question, garbage): the query
// waits on for its answer.
var errNotOurs = errors.New("not the answer to the question")

// parseReply reads msg as the answer to q. It is errNotOurs (wrapped)
// unless msg is a response whose only question is q (the name compared
// without regard to case). Past the question, an answer section that does
// not parse is an error; a PTR whose target is not a name (a label with a
// dot in it) is skipped. Only records of the type asked that answer the
// name asked are taken: owned by it, or by a name that a CNAME chain in
// the answer section leads to from it (a recursive server's answer to an
// alias; RFC 2317's classless reverse delegation). A record of another
// owner or type is no answer: it must not confirm a name forward.
func parseReply(msg []byte, q dnsmessage.Question) (reply, error) {
	var p dnsmessage.Parser
	h, err := p.Start(msg)
	if err != nil || !h.Response {
		return reply{}, errNotOurs
	}
	got, err := p.Question()
	if err != nil || got.Type != q.Type || got.Class != q.Class || !sameName(got.Name, q.Name) {
		return reply{}, errNotOurs
	}
	if err := p.SkipQuestion(); !errors.Is(err, dnsmessage.ErrSectionDone) {
		return reply{}, errNotOurs // more than one question
	}
	r := reply{rcode: h.RCode, tc: h.Truncated}
	if r.tc {
		return r, nil
	}
	// the records of the asked type, and the CNAMEs, with their owners;
	// which of them answer q is known once the section is read
	type owned struct {
		owner dnsmessage.Name
		ptr   string
		addr  netip.Addr
	}
	var recs []owned
	var cnames [][2]dnsmessage.Name // owner, target
	for {
		ah, err := p.AnswerHeader()
		if errors.Is(err, dnsmessage.ErrSectionDone) {
			break
		}
		if err != nil {
			return reply{}, err
		}
		if ah.Type != q.Type && ah.Type != dnsmessage.TypeCNAME || ah.Class != q.Class {
			if err := p.SkipAnswer(); err != nil {
				return reply{}, err
			}
			continue
		}
		switch ah.Type {
		case dnsmessage.TypeCNAME:
			// read as a PTR's target is, skipped when it cannot be
			peek := p
			raw, err := peek.UnknownResource()
			if err != nil {
				return reply{}, err
			}
			var c dnsmessage.CNAMEResource
			if nameLen(raw.Data) == len(raw.Data) {
				c, err = p.CNAMEResource()
			} else {
				err = errors.New("CNAME record: bad length")
			}
			if err != nil {
				if err := p.SkipAnswer(); err != nil {
					return reply{}, err
				}
				continue
			}
			cnames = append(cnames, [2]dnsmessage.Name{ah.Name, c.CNAME})
		case dnsmessage.TypePTR:
			// the name must end where the record does (dnsmessage reads
			// it on past a short record): checked on a copy of the parser
			peek := p
			raw, err := peek.UnknownResource()
			if err != nil {
				return reply{}, err
			}
			var ptr dnsmessage.PTRResource
			if nameLen(raw.Data) == len(raw.Data) {
				ptr, err = p.PTRResource()
			} else {
				err = errors.New("PTR record: bad length")
			}
			if err != nil {
				if err := p.SkipAnswer(); err != nil {
					return reply{}, err
				}
				continue
			}
			if name := presentName(ptr.PTR); name != "" {
				recs = append(recs, owned{owner: ah.Name, ptr: name}) // the root is no name
			}
		case dnsmessage.TypeA, dnsmessage.TypeAAAA:
			if ah.Type == dnsmessage.TypeA && ah.Length != 4 || ah.Type == dnsmessage.TypeAAAA && ah.Length != 16 {
				// not an address (dnsmessage reads one past the record)
				if err := p.SkipAnswer(); err != nil {
					return reply{}, err
				}
				continue
			}
			if ah.Type == dnsmessage.TypeAAAA {
				a, err := p.AAAAResource()
				if err != nil {
					return reply{}, err
				}
				recs = append(recs, owned{owner: ah.Name, addr: netip.AddrFrom16(a.AAAA)})
				continue
			}
			a, err := p.AResource()
			if err != nil {
				return reply{}, err
			}
			recs = append(recs, owned{owner: ah.Name, addr: netip.AddrFrom4(a.A)})
		default:
			if err := p.SkipAnswer(); err != nil {
				return reply{}, err
			}
		}
	}
	// the names that answer q: q's, and each CNAME target from it on
	chain := []dnsmessage.Name{q.Name}
	for hop := 0; hop < maxCNAMEs; hop++ {
		last, next := chain[len(chain)-1], false
		for _, c := range cnames {
			if sameName(c[0], last) {
				chain, next = append(chain, c[1]), true
				break
			}
		}
		if !next {
			break
		}
	}
	for _, rec := range recs {
		if !slices.ContainsFunc(chain, func(n dnsmessage.Name) bool { return sameName(n, rec.owner) }) {
			continue
		}
		if rec.ptr != "" {
			if len(r.ptrs) < maxPTR {
				r.ptrs = append(r.ptrs, rec.ptr)
			}
		} else {
			r.addrs = append(r.addrs, rec.addr)
		}
	}
	return r, nil
}

// maxCNAMEs is the longest CNAME chain followed within an answer.
const maxCNAMEs = 8

// nameLen is the length on the wire of the name at the start of b (its
// labels up to the root or a compression pointer), or -1.
func nameLen(b []byte) int {
	for i := 0; i < len(b); {
		switch c := b[i]; {
		case c == 0:
			return i + 1
		case c&0xC0 == 0xC0:
			if i+2 > len(b) {
				return -1
			}
			return i + 2
		case c&0xC0 != 0:
			return -1
		default:
			i += 1 + int(c)
		}
	}
	return -1
}

// sameName compares two names without regard to ASCII case.
func sameName(a, b dnsmessage.Name) bool {
	if a.Length != b.Length {
		return false
	}
	for i := 0; i < int(a.Length); i++ {
		x, y := a.Data[i], b.Data[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// presentName is a name as a PTR answer gives it: lower case, without the
// final dot, and in presentation format as github.com/miekg/dns writes it
// (what the resolver gave before): the bytes . space ' @ ; ( ) " \
// escaped with a backslash, those under space and over ~ as \DDD.
// dnsmessage has refused labels holding a dot already.
func presentName(n dnsmessage.Name) string {
	raw := n.Data[:n.Length]
	if len(raw) == 1 && raw[0] == '.' {
		return ""
	}
	var b strings.Builder
	b.Grow(len(raw))
	for i, c := range raw {
		if c == '.' {
			if i < len(raw)-1 {
				b.WriteByte('.')
			}
			continue
		}
		switch {
		case c == ' ' || c == '\'' || c == '@' || c == ';' || c == '(' || c == ')' || c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < ' ' || c > '~':
			b.WriteByte('\\')
			b.WriteByte('0' + c/100)
			b.WriteByte('0' + c/10%10)
			b.WriteByte('0' + c%10)
		case 'A' <= c && c <= 'Z':
			b.WriteByte(c + 'a' - 'A')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// queryName turns a name in presentation format (presentName's, or a
// reverse name) into a question's name: the escapes undone, the final dot
// added. A name that cannot be asked (an empty label, a label over 63
// bytes, a dangling escape, too long) is an error.
func queryName(s string) (dnsmessage.Name, error) {
	bad := errors.New("not a domain name: " + strings.ToValidUTF8(s, "?"))
	var n dnsmessage.Name
	raw := n.Data[:0]
	label := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			if label == 0 || label > 63 {
				return n, bad
			}
			label = 0
			raw = append(raw, '.')
			continue
		case c == '\\':
			switch {
			case i+3 < len(s) && isDigit(s[i+1]) && isDigit(s[i+2]) && isDigit(s[i+3]):
				v := int(s[i+1]-'0')*100 + int(s[i+2]-'0')*10 + int(s[i+3]-'0')
				if v > 255 {
					return n, bad
				}
				c = byte(v)
				i += 3
			case i+1 < len(s) && !isDigit(s[i+1]):
				c = s[i+1]
				i++
			default:
				return n, bad
			}
			if c == '.' {
				return n, bad // a dot in a label: dnsmessage cannot send it
			}
		}
		if len(raw) >= len(n.Data)-1 {
			return n, bad
		}
		raw = append(raw, c)
		label++
	}
	if label > 63 || len(raw) == 0 && label == 0 {
		return n, bad
	}
	if label > 0 {
		if len(raw) >= len(n.Data) {
			return n, bad
		}
		raw = append(raw, '.')
	}
	if len(raw) > 254 { // 255 octets on the wire
		return n, bad
	}
	n.Length = uint8(len(raw))
	return n, nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
