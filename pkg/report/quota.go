package report

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
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
	gaps    Gaps // the inputs not read (input_error records), for QuotaJSON
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

// Process counts a matching reject, and notes the inputs not read in full
// or empty (record.TypeInputError; Gaps).
func (q *Quota) Process(r *record.Record, emit record.Emit) error {
	if r.Type == record.TypeInputError {
		if r.Reason == record.EmptyInput {
			q.gaps.Empty = append(q.gaps.Empty, strings.Clone(r.SrcFile))
		} else {
			q.gaps.Unread = append(q.gaps.Unread, Unread{Input: strings.Clone(r.SrcFile), Lines: r.SrcLine, Error: strings.Clone(r.Reason)})
		}
		return nil
	}
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

// Gaps are the inputs the stage was told were not read in full, or had
// no line at all (input_error records).
func (q *Quota) Gaps() Gaps { return q.gaps }

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

// QuotaText writes the senders over quota (Over) as text, with the limit
// they passed. When an input could not be read, or no input had a line (incomplete), it does not
// say that no sender is over the quota.
func QuotaText(w io.Writer, over []*Sender, limit int, incomplete bool) error {
	if len(over) == 0 && incomplete {
		_, err := fmt.Fprintf(w, "INCOMPLETE: an input could not be read, or no input had a line (see stderr); no sender is over the quota (more than %d rejects) in what was read, but this is no all-clear.\n", limit)
		return err
	}
	if len(over) == 0 {
		_, err := fmt.Fprintf(w, "No sender is over the quota (more than %d rejects).\n", limit)
		return err
	}
	if _, err := fmt.Fprintf(w, "Senders with more than %d quota rejects:\n", limit); err != nil {
		return err
	}
	for _, s := range over {
		if _, err := fmt.Fprintf(w, "  %s: %s, %s to %s\n", Escape(s.From), plural(s.Rejects, "reject", "rejects"), s.First.Format("2006-01-02 15:04:05"), s.Last.Format("2006-01-02 15:04:05")); err != nil {
			return err
		}
	}
	return nil
}

// QuotaJSON writes one JSON object per sender over quota and line, the
// senders' addresses inert (InertJSON). When inputs could not be read or
// had no line at all (incomplete), a first line says so, as JSONGaps's
// does: {"incomplete":true,"unread":[…],"empty":["FILE"]}; g names them
// (an input not read that no input_error record named is left out of
// unread, its error on stderr).
func QuotaJSON(w io.Writer, over []*Sender, incomplete bool, g Gaps) error {
	var line bytes.Buffer
	enc := json.NewEncoder(&line)
	lines := make([]any, 0, len(over)+1)
	if incomplete {
		lines = append(lines, g.header())
	}
	for _, s := range over {
		lines = append(lines, s)
	}
	for _, v := range lines {
		line.Reset()
		if err := enc.Encode(v); err != nil {
			return err
		}
		if _, err := w.Write(InertJSON(line.Bytes())); err != nil {
			return err
		}
	}
	return nil
}
