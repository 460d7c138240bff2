// Package wire holds the JSON forms of the state's blocks, history and
// alerts that the HTTP API answers with and that loganom blocks, history
// and alerts --format json write: one definition for both, in a package
// that does not link net/http (loganom-parse links the state commands).
package wire

import (
	"time"

	"github.com/loganom/loganom/pkg/detect"
	"github.com/loganom/loganom/pkg/state"
)

// BlockJSON is a block as the API writes it (as loganom blocks --format
// json does).
type BlockJSON struct {
	User    string     `json:"user"`
	Reason  string     `json:"reason"`
	Source  string     `json:"source"`
	By      string     `json:"by"`
	Created time.Time  `json:"created"`
	Expires *time.Time `json:"expires,omitempty"`
}

// NewBlockJSON is b's JSON form (loganom blocks --format json writes
// the same).
func NewBlockJSON(b state.Block) *BlockJSON {
	j := &BlockJSON{User: b.User, Reason: b.Reason, Source: b.Source, By: b.By, Created: b.Created}
	if !b.Expires.IsZero() {
		j.Expires = &b.Expires
	}
	return j
}

// AddressJSON is one address of an account's history (as loganom history
// --format json writes it).
type AddressJSON struct {
	IP           string    `json:"ip"`
	Count        int64     `json:"count"`
	First        time.Time `json:"first"`
	Last         time.Time `json:"last"`
	Country      string    `json:"country,omitempty"`
	City         string    `json:"city,omitempty"`
	Lat          *float64  `json:"lat,omitempty"`
	Lon          *float64  `json:"lon,omitempty"`
	AccuracyKM   int       `json:"accuracy_km,omitempty"`
	ASN          uint32    `json:"asn,omitempty"`
	Org          string    `json:"org,omitempty"`
	RDNS         string    `json:"rdns,omitempty"`
	RDNSVerified *bool     `json:"rdns_verified,omitempty"`
	// Methods: the SASL mechanisms of its logins (detect.MethodList);
	// left out when unknown (logins recorded before schema 4)
	Methods []string `json:"methods,omitempty"`
}

// NewAddressJSON is a's JSON form.
func NewAddressJSON(a state.Address) AddressJSON {
	j := AddressJSON{IP: a.IP, Count: a.Count, First: a.First, Last: a.Last, Country: a.Country, City: a.City,
		AccuracyKM: a.AccuracyKM, ASN: a.ASN, Org: a.Org, RDNS: a.RDNS, RDNSVerified: a.RDNSVerified, Methods: detect.MethodList(a.Methods)}
	if a.HasLoc {
		lat, lon := a.Lat, a.Lon
		j.Lat, j.Lon = &lat, &lon
	}
	return j
}

// NewAlertJSON is a's JSON form (loganom alerts --format json writes the
// same).
func NewAlertJSON(a state.Alert) AlertJSON {
	j := AlertJSON{ID: a.ID, User: a.User, Instance: a.Instance, Opened: a.Opened, Updated: a.Updated, Last: a.Last, Rule: a.Rule,
		Open: a.Closed.IsZero(), CloseReason: a.CloseReason, ClosedBy: a.ClosedBy, Evidence: []EvidenceJSON{}, Deliveries: []DeliveryJSON{}}
	if !a.Closed.IsZero() {
		c := a.Closed
		j.Closed = &c
	}
	for _, e := range a.Evidence {
		j.Evidence = append(j.Evidence, EvidenceJSON(e))
	}
	for _, d := range a.Deliveries {
		j.Deliveries = append(j.Deliveries, DeliveryJSON{Channel: d.Channel, Status: string(d.Status), Attempts: d.Attempts, Error: d.Error, Updated: d.Updated})
	}
	return j
}

// AlertJSON is one alert (as loganom alerts --format json writes it).
type AlertJSON struct {
	ID          int64          `json:"id"`
	User        string         `json:"user"`
	Instance    string         `json:"instance,omitempty"`
	Opened      time.Time      `json:"opened"`
	Updated     time.Time      `json:"updated"`
	Last        time.Time      `json:"last_login"`
	Rule        string         `json:"rule"`
	Open        bool           `json:"open"`
	Closed      *time.Time     `json:"closed,omitempty"`
	CloseReason string         `json:"close_reason,omitempty"`
	ClosedBy    string         `json:"closed_by,omitempty"`
	Evidence    []EvidenceJSON `json:"evidence"`
	Deliveries  []DeliveryJSON `json:"deliveries"`
}

// EvidenceJSON is one address of an alert.
type EvidenceJSON struct {
	IP      string    `json:"ip"`
	Count   int64     `json:"count"`
	First   time.Time `json:"first"`
	Last    time.Time `json:"last"`
	Country string    `json:"country,omitempty"`
	ASN     uint32    `json:"asn,omitempty"`
	Org     string    `json:"org,omitempty"`
}

// DeliveryJSON is one channel's delivery of an alert.
type DeliveryJSON struct {
	Channel  string    `json:"channel"`
	Status   string    `json:"status"`
	Attempts int       `json:"failed_runs"`
	Error    string    `json:"error,omitempty"`
	Updated  time.Time `json:"updated"`
}
