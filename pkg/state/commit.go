package state

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"
)

// DefaultRealertAfter is Run.RealertAfter when it is zero.
const DefaultRealertAfter = 7 * 24 * time.Hour

// Close reasons of an alert.
const (
	ClosedAcknowledged = "acknowledged"
	ClosedUnblocked    = "unblocked"
	ClosedQuiet        = "quiet"
)

// Commit records run in one transaction, in three steps:
//
//   - The positions: each path of run.Positions is saved only where the
//     saved position of (run.Instance, path) is still run.Expect[path],
//     compared field by field, Updated included (absent: none saved);
//     else nothing is recorded and the error is ErrConflict. The saved
//     Updated is run.Now.
//   - The history: per (user, address), counts add up, first and last
//     widen, and the enrichment is replaced by that of a login whose Last
//     is not before the recorded last.
//   - The incidents, per anomaly a of user u, its last login L:
//     (1) u's open alert, if any (at most one: a unique index);
//     (2) when L is more than run.RealertAfter after its last, it is
//     closed ("quiet", at run.Now) and there is none;
//     (3) an open one gets a's addresses as evidence (NewAddresses counts
//     the addresses it did not have), its Last and Updated advance; it is
//     Known when L is not after its last and no address is new;
//     (4) without one, a is Known (and no alert is opened) when L is not
//     after the cutoff of u's latest closed alert: its last, or its
//     closing time when acknowledged or unblocked. Otherwise a new alert
//     is opened (New), with a pending delivery per channel; when another
//     process opened one meanwhile, a is added to that one as in (3).
//
// In PostgreSQL, a transaction that fails because of another (a
// serialization failure, a deadlock, a unique violation) is tried again
// whole; in SQLite, writers are serialised by BEGIN IMMEDIATE.
func (s *store) Commit(ctx context.Context, run *Run) (*Outcome, error) {
	now := run.Now
	if now.IsZero() {
		now = s.now()
	}
	realert := run.RealertAfter
	if realert <= 0 {
		realert = DefaultRealertAfter
	}
	logins := mergeLogins(run.Logins)
	// In the same order in every process: two transactions lock the same
	// rows in the same order, and do not deadlock.
	anomalies := slices.Clone(run.Anomalies)
	slices.SortStableFunc(anomalies, func(a, b Anomaly) int { return cmp.Compare(a.User, b.User) })
	var channels []string
	for _, c := range run.Channels {
		if !slices.Contains(channels, c) {
			channels = append(channels, c)
		}
	}

	var out *Outcome
	err := s.tx(ctx, func(tx *sql.Tx) error {
		out = &Outcome{Alerts: map[string]AlertState{}}
		if err := s.savePositions(ctx, tx, run, now); err != nil {
			return err
		}
		if err := s.addHistory(ctx, tx, logins); err != nil {
			return fmt.Errorf("history: %w", err)
		}
		for _, a := range anomalies {
			st, err := s.incident(ctx, tx, run.Instance, a, now, realert, channels)
			if err != nil {
				return fmt.Errorf("alert of %q: %w", a.User, err)
			}
			if prev, ok := out.Alerts[a.User]; ok && prev.New && prev.Alert == st.Alert {
				st = prev // the same account twice in a run: this run opened it
			}
			out.Alerts[a.User] = st
		}
		return nil
	})
	if err != nil {
		return nil, s.wrap(err)
	}
	return out, nil
}

// savePositions writes the run's positions where the saved ones are still
// those the run started from: each write is conditional, so that two
// processes cannot both succeed (in PostgreSQL the second waits for the
// first's row, then finds it changed).
func (s *store) savePositions(ctx context.Context, tx *sql.Tx, run *Run, now time.Time) error {
	for _, p := range run.Positions {
		var res sql.Result
		var err error
		if exp, ok := run.Expect[p.Path]; !ok {
			res, err = tx.ExecContext(ctx, s.q(`INSERT INTO positions (instance, path, dev, ino, read_offset, size, fp, fp_len, updated)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (instance, path) DO NOTHING`),
				run.Instance, p.Path, int64(p.Dev), int64(p.Ino), p.Offset, p.Size, p.FP, p.FPLen, ns(now))
		} else {
			res, err = tx.ExecContext(ctx, s.q(`UPDATE positions SET dev = ?, ino = ?, read_offset = ?, size = ?, fp = ?, fp_len = ?, updated = ?
WHERE instance = ? AND path = ? AND dev = ? AND ino = ? AND read_offset = ? AND size = ? AND fp = ? AND fp_len = ? AND updated = ?`),
				int64(p.Dev), int64(p.Ino), p.Offset, p.Size, p.FP, p.FPLen, ns(now),
				run.Instance, p.Path, int64(exp.Dev), int64(exp.Ino), exp.Offset, exp.Size, exp.FP, exp.FPLen, ns(exp.Updated))
		}
		if err != nil {
			return fmt.Errorf("position of %s: %w", p.Path, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			return ErrConflict
		}
	}
	return nil
}

// mergeLogins adds up the logins of the same account and address, and
// sorts them by account and address.
func mergeLogins(in []Login) []Login {
	type key struct{ user, ip string }
	idx := make(map[key]int, len(in))
	out := make([]Login, 0, len(in))
	for _, l := range in {
		if l.First.IsZero() {
			l.First = l.Last
		}
		if l.Last.IsZero() {
			l.Last = l.First
		}
		k := key{l.User, l.IP}
		i, ok := idx[k]
		if !ok {
			idx[k] = len(out)
			out = append(out, l)
			continue
		}
		m := &out[i]
		count, first := m.Count+l.Count, m.First
		if l.First.Before(first) {
			first = l.First
		}
		if !l.Last.Before(m.Last) {
			*m = l // the enrichment as last seen
		}
		m.Count, m.First = count, first
	}
	// Sorted by index: a Login is large to move.
	order := make([]int32, len(out))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(i, j int32) int {
		return cmp.Or(cmp.Compare(out[i].User, out[j].User), cmp.Compare(out[i].IP, out[j].IP))
	})
	sorted := make([]Login, len(out))
	for i, j := range order {
		sorted[i] = out[j]
	}
	return sorted
}

// historyUpsert adds a row to what is recorded: counts add up, the dates
// widen, and the enrichment is replaced by one seen as late or later.
var historyUpsert = func() string {
	set := `logins = history.logins + excluded.logins,
	first_seen = CASE WHEN excluded.first_seen < history.first_seen THEN excluded.first_seen ELSE history.first_seen END,
	last_seen = CASE WHEN excluded.last_seen > history.last_seen THEN excluded.last_seen ELSE history.last_seen END`
	for _, c := range []string{"country", "city", "has_loc", "lat", "lon", "accuracy_km", "asn", "org", "rdns", "rdns_verified"} {
		set += fmt.Sprintf(",\n\t%s = CASE WHEN excluded.last_seen >= history.last_seen THEN excluded.%s ELSE history.%s END", c, c, c)
	}
	return ` ON CONFLICT (account, ip) DO UPDATE SET ` + set
}()

func verified(v *bool) sql.NullBool {
	if v == nil {
		return sql.NullBool{}
	}
	return sql.NullBool{Bool: *v, Valid: true}
}

func (s *store) addHistory(ctx context.Context, tx *sql.Tx, logins []Login) error {
	if len(logins) == 0 {
		return nil
	}
	if s.pg {
		return s.addHistoryPG(ctx, tx, logins)
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO history (`+historyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`+historyUpsert)
	if err != nil {
		return err
	}
	defer st.Close()
	for _, l := range logins {
		if _, err := st.ExecContext(ctx, l.User, l.IP, l.Count, ns(l.First), ns(l.Last), l.Country, l.City, l.HasLoc, l.Lat, l.Lon,
			int64(l.AccuracyKM), int64(l.ASN), l.Org, l.RDNS, verified(l.RDNSVerified)); err != nil {
			return err
		}
	}
	return nil
}

// pgChunk is how many history rows go in one statement, as arrays.
const pgChunk = 10000

func (s *store) addHistoryPG(ctx context.Context, tx *sql.Tx, logins []Login) error {
	query := `INSERT INTO history (` + historyColumns + `) SELECT * FROM unnest(
	$1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::text[], $7::text[], $8::boolean[],
	$9::float8[], $10::float8[], $11::bigint[], $12::bigint[], $13::text[], $14::text[], $15::boolean[])` + historyUpsert
	for len(logins) > 0 {
		part := logins[:min(len(logins), pgChunk)]
		logins = logins[len(part):]
		n := len(part)
		var (
			user, ip, country, city, org, rdns = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
			count, first, last, acc, asn       = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
			hasLoc                             = make([]bool, n)
			lat, lon                           = make([]float64, n), make([]float64, n)
			ver                                = make([]*bool, n)
		)
		for i, l := range part {
			user[i], ip[i], country[i], city[i], org[i], rdns[i] = l.User, l.IP, l.Country, l.City, l.Org, l.RDNS
			count[i], first[i], last[i], acc[i], asn[i] = l.Count, ns(l.First), ns(l.Last), int64(l.AccuracyKM), int64(l.ASN)
			hasLoc[i], lat[i], lon[i], ver[i] = l.HasLoc, l.Lat, l.Lon, l.RDNSVerified
		}
		if _, err := tx.ExecContext(ctx, query, user, ip, count, first, last, country, city, hasLoc, lat, lon, acc, asn, org, rdns, ver); err != nil {
			return err
		}
	}
	return nil
}

// openAlert returns user's open alert, or nil; PostgreSQL locks its row
// until the transaction ends.
func (s *store) openAlert(ctx context.Context, tx *sql.Tx, user string) (*Alert, error) {
	query := `SELECT ` + alertColumns + ` FROM alerts WHERE account = ? AND closed IS NULL`
	if s.pg {
		query += ` FOR UPDATE`
	}
	a, err := scanAlert(tx.QueryRowContext(ctx, s.q(query), user))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// incident decides where anomaly a stands: rules (1) to (4) of Commit.
func (s *store) incident(ctx context.Context, tx *sql.Tx, instance string, a Anomaly, now time.Time, realert time.Duration, channels []string) (AlertState, error) {
	// (1) the open incident
	open, err := s.openAlert(ctx, tx, a.User)
	if err != nil {
		return AlertState{}, err
	}
	// (2) quiet for too long: closed, and this is a new one
	if open != nil && a.Last.Sub(open.Last) > realert {
		if _, err := s.closeOpen(ctx, tx, a.User, ClosedQuiet, "", now); err != nil {
			return AlertState{}, err
		}
		open = nil
	}
	if open == nil {
		// (4) nothing later than the last closed incident (or its
		// acknowledgement) is what it already knew: a log read again.
		var prev Alert
		var reason string
		var closed int64
		err := tx.QueryRowContext(ctx, s.q(`SELECT id, opened, last_seen, closed, close_reason FROM alerts
WHERE account = ? AND closed IS NOT NULL ORDER BY closed DESC, id DESC LIMIT 1`), a.User).Scan(&prev.ID, (*nsTime)(&prev.Opened), (*nsTime)(&prev.Last), &closed, &reason)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return AlertState{}, err
		default:
			cutoff := prev.Last
			if c := fromNS(closed); (reason == ClosedAcknowledged || reason == ClosedUnblocked) && c.After(cutoff) {
				cutoff = c
			}
			if !a.Last.After(cutoff) {
				return AlertState{Alert: prev.ID, Opened: prev.Opened, Known: true}, nil
			}
		}
		payload := a.Payload
		if payload == nil {
			payload = []byte{}
		}
		var id int64
		err = tx.QueryRowContext(ctx, s.q(`INSERT INTO alerts (account, instance, opened, updated, last_seen, rule, payload, close_reason, closed_by)
VALUES (?, ?, ?, ?, ?, ?, ?, '', '') ON CONFLICT (account) WHERE closed IS NULL DO NOTHING RETURNING id`),
			a.User, instance, ns(now), ns(now), ns(a.Last), a.Rule, payload).Scan(&id)
		switch {
		case err == nil:
			if _, _, err := s.mergeEvidence(ctx, tx, id, nil, a.Addresses); err != nil {
				return AlertState{}, err
			}
			for _, c := range channels {
				if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO deliveries (alert_id, channel, status, attempts, err_text, updated) VALUES (?, ?, ?, 0, '', ?)`),
					id, c, string(DeliveryPending), ns(now)); err != nil {
					return AlertState{}, err
				}
			}
			return AlertState{Alert: id, New: true, Opened: now}, nil
		case errors.Is(err, sql.ErrNoRows):
			// Another process opened one meanwhile (PostgreSQL): add to it.
			if open, err = s.openAlert(ctx, tx, a.User); err != nil {
				return AlertState{}, err
			}
			if open == nil { // and closed it already: try the whole again
				return AlertState{}, errRetry
			}
		default:
			return AlertState{}, err
		}
	}
	// (3) evidence added to the open incident
	have, err := s.evidence(ctx, tx, open.ID)
	if err != nil {
		return AlertState{}, err
	}
	added, changed, err := s.mergeEvidence(ctx, tx, open.ID, have, a.Addresses)
	if err != nil {
		return AlertState{}, err
	}
	st := AlertState{Alert: open.ID, Opened: open.Opened, NewAddresses: added, Known: !a.Last.After(open.Last) && added == 0}
	if a.Last.After(open.Last) || changed {
		last := max(ns(open.Last), ns(a.Last))
		query := `UPDATE alerts SET last_seen = ?, updated = ? WHERE id = ?`
		args := []any{last, ns(now), open.ID}
		if !st.Known && a.Rule != "" { // the newest words and account for a delivery still to make
			query = `UPDATE alerts SET last_seen = ?, updated = ?, rule = ?, payload = ? WHERE id = ?`
			payload := a.Payload
			if payload == nil {
				payload = []byte{}
			}
			args = []any{last, ns(now), a.Rule, payload, open.ID}
		}
		if _, err := tx.ExecContext(ctx, s.q(query), args...); err != nil {
			return AlertState{}, err
		}
	}
	return st, nil
}

// errRetry is a conflict with another process that the retry resolves.
var errRetry = &retryError{}

type retryError struct{}

func (*retryError) Error() string { return "conflict with another process" }

// nsTime scans unix nanoseconds into a time.Time.
type nsTime time.Time

func (t *nsTime) Scan(v any) error {
	n, ok := v.(int64)
	if !ok {
		return fmt.Errorf("time: %T is not unix nanoseconds", v)
	}
	*t = nsTime(fromNS(n))
	return nil
}

func (s *store) evidence(ctx context.Context, tx *sql.Tx, alert int64) (map[string]Evidence, error) {
	rows, err := tx.QueryContext(ctx, s.q(`SELECT ip, logins, first_seen, last_seen, country, asn, org FROM evidence WHERE alert_id = ?`), alert)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]Evidence{}
	for rows.Next() {
		var e Evidence
		var first, last, asn int64
		if err := rows.Scan(&e.IP, &e.Count, &first, &last, &e.Country, &asn, &e.Org); err != nil {
			return nil, err
		}
		e.First, e.Last, e.ASN = fromNS(first), fromNS(last), uint32(asn)
		out[e.IP] = e
	}
	return out, rows.Err()
}

// mergeEvidence adds addrs to the evidence of alert (have, by address):
// a new address is inserted; a known one widens its dates, and its count
// grows by the new logins when they all came after the recorded ones (else
// they were partly counted already: the larger count stays). It returns
// the number of new addresses and whether anything changed.
func (s *store) mergeEvidence(ctx context.Context, tx *sql.Tx, alert int64, have map[string]Evidence, addrs []Evidence) (added int, changed bool, err error) {
	if have == nil {
		have = map[string]Evidence{}
	}
	inserted := map[string]bool{}
	dirty := map[string]bool{}
	var order []string
	for _, e := range addrs {
		if e.First.IsZero() {
			e.First = e.Last
		}
		if e.Last.IsZero() {
			e.Last = e.First
		}
		old, ok := have[e.IP]
		if !ok {
			have[e.IP] = e
			inserted[e.IP] = true
			order = append(order, e.IP)
			added++
			continue
		}
		m := old
		if e.First.After(old.Last) {
			m.Count = old.Count + e.Count
		} else {
			m.Count = max(old.Count, e.Count)
		}
		if e.First.Before(m.First) {
			m.First = e.First
		}
		if e.Last.After(m.Last) {
			m.Last = e.Last
		}
		if !e.Last.Before(old.Last) { // the enrichment as last seen
			if e.Country != "" {
				m.Country = e.Country
			}
			if e.ASN != 0 || e.Org != "" {
				m.ASN, m.Org = e.ASN, e.Org
			}
		}
		if m != old {
			have[e.IP] = m
			if !inserted[e.IP] && !dirty[e.IP] {
				order = append(order, e.IP)
			}
			dirty[e.IP] = true
		}
	}
	for _, ip := range order {
		e := have[ip]
		if inserted[ip] {
			_, err = tx.ExecContext(ctx, s.q(`INSERT INTO evidence (alert_id, ip, logins, first_seen, last_seen, country, asn, org) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
				alert, e.IP, e.Count, ns(e.First), ns(e.Last), e.Country, int64(e.ASN), e.Org)
		} else {
			_, err = tx.ExecContext(ctx, s.q(`UPDATE evidence SET logins = ?, first_seen = ?, last_seen = ?, country = ?, asn = ?, org = ? WHERE alert_id = ? AND ip = ?`),
				e.Count, ns(e.First), ns(e.Last), e.Country, int64(e.ASN), e.Org, alert, e.IP)
		}
		if err != nil {
			return 0, false, err
		}
	}
	return added, len(order) > 0, nil
}
