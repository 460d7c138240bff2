// Package record defines the login-event record that every loganom stage
// exchanges, its newline-delimited JSON codec, and the stage contract.
//
// A record is one flat JSON object per line with snake_case keys. Fields a
// stage does not know are kept in Extra, in input order, and written back
// untouched, so that a user's own additions (made with jq, say) survive every
// stage.
package record

import (
	"strconv"
	"time"
)

// SchemaVersion is the version of the record schema documented in README.md.
// It changes only when a field changes meaning or type; new fields are added
// without a new version.
const SchemaVersion = 1

// Record types written by loganom-parse.
const (
	TypeLogin       = "login"        // successful SASL authentication
	TypeAuthFailure = "auth_failure" // failed SASL authentication
	TypeReject      = "reject"       // smtpd or postscreen reject
)

// Record is one event. The zero value of a field means "absent" and is not
// written, except for From and To, which are pointers because Postfix logs the
// null sender as from=<>, an empty address that means something.
type Record struct {
	Type       string    // login, auth_failure, reject
	Time       time.Time // with zone
	Host       string    // the syslog host field
	Service    string    // the syslog program, e.g. postfix/submission/smtpd
	PID        int
	QueueID    string
	User       string // sasl_username
	IP         string // canonical form (netip)
	ClientName string // the name Postfix printed, unverified, may be "unknown"
	Port       int
	Method     string // SASL mechanism, upper case
	Sender     string // sasl_sender
	From       *string
	To         *string
	Command    string // the SMTP command of a reject: RCPT, EHLO, …
	Reason     string // reject reason, or the SASL failure reason
	SrcFile    string // where the event came from
	SrcLine    int64

	// Added by loganom-enrich.
	RDNS         string  // the PTR name of IP
	RDNSVerified *bool   // whether RDNS resolves back to IP; nil without RDNS, or when it was not checked (no pattern_ip could match it)
	Country      string  // ISO 3166-1 alpha-2
	City         string  // in English where the database has it
	HasLoc       bool    // Lat and Lon are known
	Lat, Lon     float64 // degrees
	AccuracyKM   int     // radius of the location's uncertainty
	ASN          uint32  // autonomous system number
	Org          string  // the autonomous system's organisation
	EnrichErrors []string

	// Added by loganom-filter --explain: the rule and value that would
	// drop the record, e.g. "country_ignore: BR".
	FilteredBy string

	// Extra holds the fields this version does not know, in input order.
	Extra []Field

	// AddrID is set in-process by the enricher: a number it gives each
	// distinct address text it looks up in a run, never the same number
	// for two texts (0: none; the same text may get a second number after
	// the enricher forgets it). The stages after it in the same process
	// (the wrapper) remember their per-address work by it, without
	// hashing the text again. It is never encoded.
	AddrID uint32

	// raw, set by a partial reading only (ReaderSource.Partial), is the
	// line the record was read from: its fields other than ip, type and
	// the enrich ones were not decoded and are written back from it as
	// they were.
	raw *rawLine
}

// Field is a key with its raw JSON value.
type Field struct {
	Key   string
	Value []byte // raw JSON, valid
}

// Src returns the record's origin as "file:line".
func (r *Record) Src() string {
	if r.SrcFile == "" && r.SrcLine == 0 {
		return ""
	}
	return r.SrcFile + ":" + strconv.FormatInt(r.SrcLine, 10)
}

// Get returns the raw JSON of an unknown field, or nil.
func (r *Record) Get(key string) []byte {
	for i := range r.Extra {
		if r.Extra[i].Key == key {
			return r.Extra[i].Value
		}
	}
	return nil
}

// Set sets an unknown field to a raw JSON value (which must be valid JSON),
// replacing an earlier value of the same key. Keys that the Record has a field
// for must be set through that field. Set looks for the key through Extra:
// it is meant for a stage's few fields of its own (Decode, which may add
// thousands, keeps an index instead).
func (r *Record) Set(key string, raw []byte) {
	for i := range r.Extra {
		if r.Extra[i].Key == key {
			r.Extra[i].Value = raw
			return
		}
	}
	r.Extra = append(r.Extra, Field{Key: key, Value: raw})
}

// Str returns a pointer to s, for From and To.
func Str(s string) *string { return &s }

// Bool returns a pointer to b, for RDNSVerified.
func Bool(b bool) *bool { return &b }
