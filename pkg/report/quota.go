package report

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/loganom/loganom/pkg/record"
)

// Quota is the original's second processor: it counts, per envelope
// sender, the rejects whose reason contains Message, and reports the
// senders with more than Limit of them (an account sending spam runs into
// its hourly quota).
type Quota struct {
	Limit   int
	Message string
	senders map[string]*Sender
}

// Sender is one sender's quota rejects.
type Sender struct {
	From    string    `json:"from"`
	Rejects int       `json:"rejects"`
	First   time.Time `json:"first"`
	Last    time.Time `json:"last"`
}

// NewQuota makes the stage.
func NewQuota(limit int, message string) *Quota {
	return &Quota{Limit: limit, Message: strings.ToLower(message), senders: map[string]*Sender{}}
}

// Process counts a matching reject.
func (q *Quota) Process(r *record.Record, emit record.Emit) error {
	if r.Type != record.TypeReject || r.From == nil || *r.From == "" || !strings.Contains(strings.ToLower(r.Reason), q.Message) {
		return nil
	}
	s := q.senders[*r.From]
	if s == nil {
		s = &Sender{From: strings.Clone(*r.From)}
		q.senders[s.From] = s
	}
	s.Rejects++
	if !r.Time.IsZero() {
		if s.First.IsZero() || r.Time.Before(s.First) {
			s.First = r.Time
		}
		if r.Time.After(s.Last) {
			s.Last = r.Time
		}
	}
	return nil
}

// Flush does nothing.
func (q *Quota) Flush(record.Emit) error { return nil }

// Over returns the senders over the limit, most rejects first.
func (q *Quota) Over() []*Sender {
	var out []*Sender
	for _, s := range q.senders {
		if s.Rejects > q.Limit {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b *Sender) int {
		return cmp.Or(cmp.Compare(b.Rejects, a.Rejects), strings.Compare(a.From, b.From))
	})
	return out
}
