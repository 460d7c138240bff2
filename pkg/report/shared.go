package report

import (
	"strings"

	"github.com/loganom/loganom/pkg/record"
)

// accounts is a list of accounts ([DETECT] shared) made ready to ask: an
// account, an address or a name without a domain (a SASL backend's local
// users), compared as the report groups accounts (record.CanonicalUser);
// "@example.com", every account of a domain; "info@", a local part in
// every domain.
type accounts struct {
	users   map[string]bool
	domains []string // "@example.com", lower case
	locals  []string // "info@", as canonical as the accounts' local parts
}

// SharedEntryOK says whether s is one of the forms [DETECT] shared takes:
// not empty, not "@" alone, no blank inside (two entries on a line
// without their comma).
func SharedEntryOK(s string) bool {
	return s != "" && s != "@" && !strings.ContainsAny(s, " \t\r\n")
}

func newAccounts(list []string, caseSensitive bool) *accounts {
	s := &accounts{users: map[string]bool{}}
	for _, e := range list {
		e = strings.TrimSpace(e)
		switch at := strings.LastIndexByte(e, '@'); {
		case !SharedEntryOK(e):
		case at < 0:
			s.users[record.CanonicalUser(e, caseSensitive)] = true
		case at == 0:
			s.domains = append(s.domains, record.CanonicalUser(e, false))
		case at == len(e)-1:
			s.locals = append(s.locals, record.CanonicalUser(e, caseSensitive))
		default:
			s.users[record.CanonicalUser(e, caseSensitive)] = true
		}
	}
	if len(s.users) == 0 && len(s.domains) == 0 && len(s.locals) == 0 {
		return nil
	}
	return s
}

// has says whether the account user (canonical) is in the list.
func (s *accounts) has(user string) bool {
	if s == nil {
		return false
	}
	if s.users[user] {
		return true
	}
	at := strings.LastIndexByte(user, '@')
	if at < 0 {
		return false
	}
	for _, d := range s.domains {
		if user[at:] == d {
			return true
		}
	}
	for _, l := range s.locals {
		if user[:at+1] == l {
			return true
		}
	}
	return false
}
