package report

import (
	"time"
	"unsafe"

	"github.com/loganom/loganom/pkg/record"
)

// The batch report in-process (the wrapper) queues the logins that carry
// a record.Record.AddrID and counts them a few thousand at a time (sync),
// in the order read: the same counts, firsts, lasts and steps as one by
// one, but an account's entries, touched a few times in a row, stay in
// the cache, where one by one each login found them evicted by the lines
// parsed since its account's last login. Every method that reads the
// accounts syncs first.

// pending is a queued login: its account's name is in Report.text up to
// end (from the previous entry's end), its address is Report.addrs[id].
type pending struct {
	t   time.Time
	end uint32
	id  uint32
}

// addrSlot is what the report knows of one AddrID: the address as its
// first login gave it (not counted; an id never stands for two addresses,
// and the enricher gives all its records the same answer), copied into
// each account that logs in from it; the filter's mark, which a login
// must have to be queued as this address; and the last account that
// logged in from it, with its entry for the address (most addresses are
// one account's: no lookup of the account by name, nor of the address in
// the account).
type addrSlot struct {
	tpl     *IP
	trusted string
	a       *Account
	ip      *IP
}

const (
	maxAddrIDs  = 1 << 20 // larger ids go one by one
	batchLogins = 1 << 14 // logins queued before they are counted (512 KB)
	batchText   = 1 << 20 // bytes of account names queued before they are counted
)

// queue queues the login r, whitelisted by the rule trusted or not, when
// it can: it has an AddrID, marked as the address's first login was.
func (rep *Report) queue(r *record.Record, trusted string) bool {
	id := r.AddrID
	if id == 0 || id >= maxAddrIDs || len(r.User) >= batchText {
		return false
	}
	if int(id) >= len(rep.addrs) {
		rep.addrs = append(rep.addrs, make([]addrSlot, int(id)+1-len(rep.addrs))...)
		rep.addrs = rep.addrs[:cap(rep.addrs)]
	}
	s := &rep.addrs[id]
	if s.tpl == nil {
		s.tpl = newIP(r, trusted)
		s.trusted = s.tpl.Trusted
	} else if s.trusted != trusted {
		return false
	}
	if len(rep.pend) >= batchLogins || len(rep.text)+len(r.User) > batchText {
		rep.sync()
	}
	if rep.pend == nil {
		rep.pend = make([]pending, 0, batchLogins)
		rep.text = make([]byte, 0, 32*batchLogins)
	}
	rep.text = append(rep.text, r.User...)
	rep.pend = append(rep.pend, pending{t: r.Time, end: uint32(len(rep.text)), id: id})
	return true
}

// sync counts the logins queued, in order.
func (rep *Report) sync() {
	if len(rep.pend) == 0 {
		return
	}
	start := uint32(0)
	for i := range rep.pend {
		e := &rep.pend[i]
		// the name's bytes, not copied: newAccount clones what it keeps,
		// and rep.text is not written until the loop is over
		user := unsafe.String(unsafe.SliceData(rep.text[start:]), int(e.end-start))
		start = e.end
		user = record.CanonicalUser(user, rep.Rule.CaseSensitive)
		s := &rep.addrs[e.id]
		var ip *IP
		var first bool
		a := s.a
		if a != nil && a.User == user {
			ip, first = s.ip, a.count(s.ip, e.t)
		} else {
			a = rep.account(user)
			ip, first = a.addSlot(e.id, s.tpl, e.t)
			s.a, s.ip = a, ip
		}
		rep.counted(a, ip, first, e.t)
	}
	clear(rep.pend) // the times' locations
	rep.pend, rep.text = rep.pend[:0], rep.text[:0]
}

// addSlot is addByID for a queued login from the address tpl (AddrID
// id) at t.
func (a *Account) addSlot(id uint32, tpl *IP, t time.Time) (ip *IP, first bool) {
	if ip := a.byID[id]; ip != nil {
		return ip, a.count(ip, t)
	}
	ip = a.byIP[tpl.IP]
	if ip == nil {
		ip = new(IP)
		*ip = *tpl
		a.keep(ip)
	}
	if a.byID == nil {
		a.byID = make(map[uint32]*IP, 1)
	}
	a.byID[id] = ip
	return ip, a.count(ip, t)
}
