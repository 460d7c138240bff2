package state

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
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
//     Updated is the position's Updated (when its log was read), or
//     run.Now.
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
	sharing := slices.Clone(run.Sharing)
	slices.SortStableFunc(sharing, func(a, b Sharing) int { return cmp.Compare(a.User, b.User) })
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
	err := s.txConn(ctx, func(tx *sql.Tx, conn *sql.Conn) error {
		out = &Outcome{Alerts: map[string]AlertState{}}
		if err := s.savePositions(ctx, tx, run, now); err != nil {
			return err
		}
		if err := s.addHistory(ctx, tx, conn, logins); err != nil {
			return fmt.Errorf("history: %w", err)
		}
		if err := s.addSharing(ctx, tx, sharing); err != nil {
			return fmt.Errorf("sharing: %w", err)
		}
		if err := s.addFailures(ctx, tx, run); err != nil {
			return fmt.Errorf("failures: %w", err)
		}
		// In rounds: the first anomaly of each account, then the second
		// of an account that has two, and so on.
		for rest := anomalies; len(rest) > 0; {
			var round, next []Anomaly
			for i, a := range rest {
				if i > 0 && rest[i-1].User == a.User {
					next = append(next, a)
				} else {
					round = append(round, a)
				}
			}
			states, err := s.incidents(ctx, tx, run.Instance, round, now, realert, channels)
			if err != nil {
				return fmt.Errorf("alerts: %w", err)
			}
			for i, a := range round {
				st := states[i]
				if prev, ok := out.Alerts[a.User]; ok && prev.New && prev.Alert == st.Alert {
					st = prev // the same account twice in a run: this run opened it
				}
				out.Alerts[a.User] = st
			}
			rest = next
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
		at := now
		if !p.Updated.IsZero() {
			at = p.Updated // when the log was read (input.Mark.Saved)
		}
		if exp, ok := run.Expect[p.Path]; !ok {
			res, err = tx.ExecContext(ctx, s.q(`INSERT INTO positions (instance, path, dev, ino, read_offset, size, fp, fp_len, updated)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (instance, path) DO NOTHING`),
				run.Instance, p.Path, int64(p.Dev), int64(p.Ino), p.Offset, p.Size, p.FP, p.FPLen, ns(at))
		} else {
			res, err = tx.ExecContext(ctx, s.q(`UPDATE positions SET dev = ?, ino = ?, read_offset = ?, size = ?, fp = ?, fp_len = ?, updated = ?
WHERE instance = ? AND path = ? AND dev = ? AND ino = ? AND read_offset = ? AND size = ? AND fp = ? AND fp_len = ? AND updated = ?`),
				int64(p.Dev), int64(p.Ino), p.Offset, p.Size, p.FP, p.FPLen, ns(at),
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
		count, first, methods := m.Count+l.Count, m.First, m.Methods|l.Methods
		if l.First.Before(first) {
			first = l.First
		}
		if !l.Last.Before(m.Last) {
			*m = l // the enrichment as last seen
		}
		m.Count, m.First, m.Methods = count, first, methods
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

// historyMerge is what a row of history becomes when a login of the run
// (in the table or alias run) is added to it (in old): counts add up, the
// dates widen, and the enrichment is replaced by one seen as late or
// later.
func historyMerge(old, run string) string {
	set := fmt.Sprintf(`logins = %[1]s.logins + %[2]s.logins,
	first_seen = CASE WHEN %[2]s.first_seen < %[1]s.first_seen THEN %[2]s.first_seen ELSE %[1]s.first_seen END,
	last_seen = CASE WHEN %[2]s.last_seen > %[1]s.last_seen THEN %[2]s.last_seen ELSE %[1]s.last_seen END,
	methods = %[1]s.methods | %[2]s.methods,
	recorded = %[2]s.recorded`, old, run)
	for _, c := range []string{"country", "city", "has_loc", "lat", "lon", "accuracy_km", "asn", "org", "rdns", "rdns_verified"} {
		set += fmt.Sprintf(",\n\t%s = CASE WHEN %s.last_seen >= %s.last_seen THEN %s.%s ELSE %s.%s END", c, run, old, run, c, old, c)
	}
	return set
}

// historyUpsert adds a row to what is recorded.
var historyUpsert = ` ON CONFLICT (account, ip) DO UPDATE SET ` + historyMerge("history", "excluded")

func verified(v *bool) sql.NullBool {
	if v == nil {
		return sql.NullBool{}
	}
	return sql.NullBool{Bool: *v, Valid: true}
}

// addFailures merges the run's runs of failed logins into the state's
// (sorted: two processes lock the rows in the same order): the same run
// read again (a run whose commit failed, a log given again, a live
// reader's run sent again as it grows) keeps the later last failure and
// the larger count; and drops the instance's own that end before
// FailuresBefore (another mail server's log may lag behind this one's:
// its rows are its own runs' to drop, and Prune's). In PostgreSQL, one
// statement per pgChunk rows, with an array per column.
func (s *store) addFailures(ctx context.Context, tx *sql.Tx, run *Run) error {
	fs := make([]Failure, 0, len(run.Failures))
	for _, f := range run.Failures {
		if f.IP == "" || f.First.IsZero() || f.Count <= 0 {
			continue
		}
		if f.Last.Before(f.First) {
			f.Last = f.First
		}
		fs = append(fs, f)
	}
	slices.SortFunc(fs, func(a, b Failure) int {
		return cmp.Or(cmp.Compare(a.IP, b.IP), a.First.Compare(b.First))
	})
	// a statement may not update a row twice (PostgreSQL's ON
	// CONFLICT): one row per address and first failure
	merged := fs[:0]
	for _, f := range fs {
		if k := len(merged) - 1; k >= 0 && merged[k].IP == f.IP && merged[k].First.Equal(f.First) {
			if f.Last.After(merged[k].Last) {
				merged[k].Last = f.Last
			}
			merged[k].Count = max(merged[k].Count, f.Count)
			continue
		}
		merged = append(merged, f)
	}
	fs = merged
	const upsert = ` ON CONFLICT (instance, ip, first_seen) DO UPDATE SET
	last_seen = CASE WHEN excluded.last_seen > failures.last_seen THEN excluded.last_seen ELSE failures.last_seen END,
	failures = CASE WHEN excluded.failures > failures.failures THEN excluded.failures ELSE failures.failures END`
	if s.pg {
		for len(fs) > 0 {
			part := fs[:min(len(fs), pgChunk)]
			fs = fs[len(part):]
			ip, first, last, n := make([]string, len(part)), make([]int64, len(part)), make([]int64, len(part)), make([]int64, len(part))
			for i, f := range part {
				ip[i], first[i], last[i], n[i] = f.IP, ns(f.First), ns(f.Last), int64(f.Count)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO failures (instance, ip, first_seen, last_seen, failures)
SELECT $1, ip, f, l, n FROM unnest($2::text[], $3::bigint[], $4::bigint[], $5::bigint[]) AS v(ip, f, l, n)`+upsert,
				run.Instance, ip, first, last, n); err != nil {
				return err
			}
		}
	} else if len(fs) > 0 {
		st, err := tx.PrepareContext(ctx, `INSERT INTO failures (instance, ip, first_seen, last_seen, failures) VALUES (?, ?, ?, ?, ?)`+upsert)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, f := range fs {
			if _, err := st.ExecContext(ctx, run.Instance, f.IP, ns(f.First), ns(f.Last), int64(f.Count)); err != nil {
				return err
			}
		}
	}
	if !run.FailuresBefore.IsZero() {
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM failures WHERE instance = ? AND last_seen < ?`), run.Instance, ns(run.FailuresBefore)); err != nil {
			return err
		}
	}
	return nil
}

// addSharing merges what the run's logins showed of several people using
// each account into the state's (sorted by account: two processes lock
// the rows in the same order): of each kind, the more days and the later
// day; the first pair kept.
func (s *store) addSharing(ctx context.Context, tx *sql.Tx, sharing []Sharing) error {
	if len(sharing) == 0 {
		return nil
	}
	st, err := tx.PrepareContext(ctx, s.q(`INSERT INTO sharing (`+sharingColumns+`, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (account) DO UPDATE SET
	far_days = CASE WHEN excluded.far_days > sharing.far_days THEN excluded.far_days ELSE sharing.far_days END,
	far_day = CASE WHEN excluded.far_day > sharing.far_day THEN excluded.far_day ELSE sharing.far_day END,
	far_pair = CASE WHEN sharing.far_pair = '' THEN excluded.far_pair ELSE sharing.far_pair END,
	near_days = CASE WHEN excluded.near_days > sharing.near_days THEN excluded.near_days ELSE sharing.near_days END,
	near_day = CASE WHEN excluded.near_day > sharing.near_day THEN excluded.near_day ELSE sharing.near_day END,
	near_pair = CASE WHEN sharing.near_pair = '' THEN excluded.near_pair ELSE sharing.near_pair END,
	updated = CASE WHEN excluded.updated > sharing.updated THEN excluded.updated ELSE sharing.updated END`))
	if err != nil {
		return err
	}
	defer st.Close()
	for _, sh := range sharing {
		if sh.FarDays <= 0 && sh.NearDays <= 0 {
			continue
		}
		// the last day counted, as a log time (Prune)
		updated := max(sh.FarDay, sh.NearDay) * 86400 * int64(time.Second)
		if _, err := st.ExecContext(ctx, sh.User, int64(sh.FarDays), sh.FarDay, sh.FarPair, int64(sh.NearDays), sh.NearDay, sh.NearPair, updated); err != nil {
			return err
		}
	}
	return nil
}

func (s *store) addHistory(ctx context.Context, tx *sql.Tx, conn *sql.Conn, logins []Login) error {
	if len(logins) == 0 {
		return nil
	}
	if s.pg {
		return s.addHistoryPG(ctx, tx, conn, logins)
	}
	// (recorded: this machine's clock; in PostgreSQL, the server's, the
	// column's default)
	st, err := tx.PrepareContext(ctx, `INSERT INTO history (`+historyColumns+`, recorded) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`+historyUpsert)
	if err != nil {
		return err
	}
	defer st.Close()
	recorded := ns(s.now())
	for _, l := range logins {
		if _, err := st.ExecContext(ctx, l.User, l.IP, l.Count, ns(l.First), ns(l.Last), l.Country, l.City, l.HasLoc, l.Lat, l.Lon,
			int64(l.AccuracyKM), int64(l.ASN), l.Org, l.RDNS, verified(l.RDNSVerified), int64(l.Methods), recorded); err != nil {
			return err
		}
	}
	return nil
}

// pgChunk is how many history rows go in one statement, as arrays.
const pgChunk = 10000

// historyColumnList is historyColumns, for COPY.
var historyColumnList = strings.Split(historyColumns, ", ")

// addHistoryPG adds logins (sorted by account and address) to the
// history. The logins of the accounts that have a history are added by
// INSERT ... ON CONFLICT DO UPDATE, from an array per column, which
// locks the rows in the order of the logins (two processes do not
// deadlock). Those of the accounts that have none (all of them in a new
// database) are new rows, written by COPY, which costs the server half of
// what an INSERT of the same rows from arrays does, ON CONFLICT or not
// (the 4,900 rows of scripts/bench-state's log: 45 ms instead of 100). A
// row that another process inserts meanwhile makes COPY fail with a
// unique violation: the whole transaction is tried again (Commit), and
// then finds that account's history.
func (s *store) addHistoryPG(ctx context.Context, tx *sql.Tx, conn *sql.Conn, logins []Login) error {
	for len(logins) > 0 {
		part := logins[:min(len(logins), pgChunk)]
		logins = logins[len(part):]
		var users []string
		for i, l := range part {
			if i == 0 || part[i-1].User != l.User {
				users = append(users, l.User)
			}
		}
		rows, err := tx.QueryContext(ctx, `SELECT u FROM unnest($1::text[]) AS u WHERE EXISTS (SELECT 1 FROM history h WHERE h.account = u)`, users)
		if err != nil {
			return err
		}
		known := map[string]bool{}
		for rows.Next() {
			var u string
			if err := rows.Scan(&u); err != nil {
				rows.Close()
				return err
			}
			known[u] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		old, fresh := part, []Login(nil)
		if len(known) < len(users) {
			old = nil
			for _, l := range part {
				if known[l.User] {
					old = append(old, l)
				} else {
					fresh = append(fresh, l)
				}
			}
		}
		if err := s.upsertHistoryPG(ctx, tx, old); err != nil {
			return err
		}
		if len(fresh) == 0 {
			continue
		}
		err = copyRows(ctx, conn, "history", historyColumnList, len(fresh), func(i int) ([]any, error) {
			l := &fresh[i]
			return []any{l.User, l.IP, l.Count, ns(l.First), ns(l.Last), l.Country, l.City, l.HasLoc, l.Lat, l.Lon,
				int64(l.AccuracyKM), int64(l.ASN), l.Org, l.RDNS, l.RDNSVerified, int64(l.Methods)}, nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// upsertHistoryPG adds logins to the history, with an array per column:
// rows that exist are added to, in the order of logins.
func (s *store) upsertHistoryPG(ctx context.Context, tx *sql.Tx, logins []Login) error {
	n := len(logins)
	if n == 0 {
		return nil
	}
	var (
		user, ip, country, city, org, rdns = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		count, first, last, acc, asn, meth = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		hasLoc                             = make([]bool, n)
		lat, lon                           = make([]float64, n), make([]float64, n)
		ver                                = make([]*bool, n)
	)
	for i, l := range logins {
		user[i], ip[i], country[i], city[i], org[i], rdns[i] = l.User, l.IP, l.Country, l.City, l.Org, l.RDNS
		count[i], first[i], last[i], acc[i], asn[i] = l.Count, ns(l.First), ns(l.Last), int64(l.AccuracyKM), int64(l.ASN)
		hasLoc[i], lat[i], lon[i], ver[i], meth[i] = l.HasLoc, l.Lat, l.Lon, l.RDNSVerified, int64(l.Methods)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO history (`+historyColumns+`) SELECT * FROM unnest(
	$1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::text[], $7::text[], $8::boolean[],
	$9::float8[], $10::float8[], $11::bigint[], $12::bigint[], $13::text[], $14::text[], $15::boolean[], $16::bigint[])`+historyUpsert,
		user, ip, count, first, last, country, city, hasLoc, lat, lon, acc, asn, org, rdns, ver, meth)
	return err
}

// copyRows writes n rows (row(i) for each) into table by COPY, on conn,
// in its transaction (PostgreSQL).
func copyRows(ctx context.Context, conn *sql.Conn, table string, cols []string, n int, row func(int) ([]any, error)) error {
	return conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("copy into %s: not a pgx connection (%T)", table, dc)
		}
		_, err := c.Conn().CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromSlice(n, row))
		return err
	})
}

// in is the condition that col is in the list of a parameter made by
// list (a PostgreSQL array of pgType, or a JSON array for SQLite).
func (s *store) in(col, pgType string) string {
	if s.pg {
		return col + ` = ANY(?::` + pgType + `[])`
	}
	return col + ` IN (SELECT value FROM json_each(?))`
}

// list is the parameter of in: xs itself for PostgreSQL, a JSON array for
// SQLite.
func list[T string | int64](s *store, xs []T) (any, error) {
	if s.pg {
		return xs, nil
	}
	b, err := json.Marshal(xs)
	return string(b), err
}

// bulk runs one INSERT or UPDATE for n rows. In PostgreSQL, pgQuery runs
// once, with an array per column (unnest); in SQLite, which has no round
// trips to save, sqliteQuery runs prepared once per row, its parameter ?i
// taking row's element of args[i-1]. An arg that is not a []int64,
// []string, []bool or [][]byte is the same for every row.
func (s *store) bulk(ctx context.Context, tx *sql.Tx, n int, pgQuery, sqliteQuery string, args ...any) error {
	if n == 0 {
		return nil
	}
	if s.pg {
		_, err := tx.ExecContext(ctx, pgQuery, args...)
		return err
	}
	st, err := tx.PrepareContext(ctx, sqliteQuery)
	if err != nil {
		return err
	}
	defer st.Close()
	row := make([]any, len(args))
	for i := range n {
		for k, a := range args {
			row[k] = element(a, i)
		}
		if _, err := st.ExecContext(ctx, row...); err != nil {
			return err
		}
	}
	return nil
}

func element(col any, i int) any {
	switch c := col.(type) {
	case []int64:
		return c[i]
	case []string:
		return c[i]
	case []bool:
		return c[i]
	case [][]byte:
		return c[i]
	}
	return col
}

// incidents decides where each anomaly of round stands (one per account,
// sorted by account), as rules (1) to (4) of Commit say, with a few
// statements for the whole round: the open alerts, locked in the order of
// their accounts (PostgreSQL); the quiet ones closed; the latest closed
// alerts of the accounts without one; the new alerts; the evidence of
// the open ones; then the evidence, deliveries and alerts written.
func (s *store) incidents(ctx context.Context, tx *sql.Tx, instance string, round []Anomaly, now time.Time, realert time.Duration, channels []string) ([]AlertState, error) {
	states := make([]AlertState, len(round))
	users := make([]string, len(round))
	for i, a := range round {
		users[i] = a.User
	}
	// (1) the open incidents
	open, err := s.openAlerts(ctx, tx, users)
	if err != nil {
		return nil, err
	}
	// (2) quiet for too long: closed, and there is none
	var quiet []int64
	var none []string
	for _, a := range round {
		if o, ok := open[a.User]; ok && a.Last.Sub(o.Last) > realert {
			quiet = append(quiet, o.ID)
			delete(open, a.User)
		}
		if _, ok := open[a.User]; !ok {
			none = append(none, a.User)
		}
	}
	if len(quiet) > 0 {
		ids, err := list(s, quiet)
		if err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE alerts SET closed = ?, close_reason = ?, closed_by = '' WHERE `+s.in("id", "bigint")), ns(now), ClosedQuiet, ids); err != nil {
			return nil, err
		}
	}
	// (4) without one: nothing later than the latest closed incident (or
	// its acknowledgement) is what it already knew (a log read again);
	// else a new incident.
	closed, err := s.lastClosed(ctx, tx, none)
	if err != nil {
		return nil, err
	}
	var toOpen []int // indexes in round
	for i, a := range round {
		if _, ok := open[a.User]; ok {
			continue
		}
		if prev, ok := closed[a.User]; ok {
			cutoff := prev.Last
			if (prev.CloseReason == ClosedAcknowledged || prev.CloseReason == ClosedUnblocked) && prev.Closed.After(cutoff) {
				cutoff = prev.Closed
			}
			if !a.Last.After(cutoff) {
				states[i] = AlertState{Alert: prev.ID, Opened: prev.Opened, Known: true}
				continue
			}
		}
		toOpen = append(toOpen, i)
	}
	ids, err := s.insertAlerts(ctx, tx, instance, round, toOpen, now)
	if err != nil {
		return nil, err
	}
	var evidence []evidenceRow // to write, and their alerts
	var evidenceAlert []int64
	var deliveries []int64
	var raced []string // another process opened one meanwhile
	for _, i := range toOpen {
		a := round[i]
		id, ok := ids[a.User]
		if !ok {
			raced = append(raced, a.User)
			continue
		}
		rows, _ := mergeEvidence(nil, a.Addresses)
		for _, e := range rows {
			evidence, evidenceAlert = append(evidence, e), append(evidenceAlert, id)
		}
		for range channels {
			deliveries = append(deliveries, id)
		}
		states[i] = AlertState{Alert: id, New: true, Opened: now}
	}
	if len(raced) > 0 {
		// (PostgreSQL) add to the alert that the other process opened.
		more, err := s.openAlerts(ctx, tx, raced)
		if err != nil {
			return nil, err
		}
		if len(more) != len(raced) { // and closed it already: try the whole again
			return nil, errRetry
		}
		for u, o := range more {
			open[u] = o
		}
	}
	// (3) evidence added to the open incidents
	have, err := s.evidenceOf(ctx, tx, open)
	if err != nil {
		return nil, err
	}
	type change struct {
		id, last, severity int64
		rule               string
		payload            []byte
		setRule            bool
	}
	var changes []change
	var escalated []int64 // open alerts alerted again: more severe
	for i, a := range round {
		o, ok := open[a.User]
		if !ok {
			continue
		}
		rows, added := mergeEvidence(have[o.ID], a.Addresses)
		for _, e := range rows {
			evidence, evidenceAlert = append(evidence, e), append(evidenceAlert, o.ID)
		}
		more := a.Severity > o.Severity
		st := AlertState{Alert: o.ID, Opened: o.Opened, NewAddresses: added, Known: !more && !a.Last.After(o.Last) && added == 0, Escalated: more}
		states[i] = st
		if more {
			for range channels {
				escalated = append(escalated, o.ID)
			}
		}
		if more || a.Last.After(o.Last) || len(rows) > 0 {
			c := change{id: o.ID, last: max(ns(o.Last), ns(a.Last)), severity: int64(max(o.Severity, a.Severity))}
			// the newest words and account for a delivery still to make,
			// unless less severe than the incident: a high alert's words
			// and account stay the high ones ("why" in loganom alerts, and
			// what a delivery still pending sends)
			if !st.Known && a.Rule != "" && a.Severity >= o.Severity {
				c.setRule, c.rule, c.payload = true, a.Rule, a.Payload
				if c.payload == nil {
					c.payload = []byte{}
				}
			}
			changes = append(changes, c)
		}
	}
	if err := s.writeEvidence(ctx, tx, evidenceAlert, evidence); err != nil {
		return nil, err
	}
	if len(deliveries) > 0 {
		chans := make([]string, len(deliveries))
		for i := range chans {
			chans[i] = channels[i%len(channels)]
		}
		err := s.bulk(ctx, tx, len(deliveries),
			`INSERT INTO deliveries (alert_id, channel, status, attempts, err_text, updated)
SELECT id, ch, $3, 0, '', $4 FROM unnest($1::bigint[], $2::text[]) AS v(id, ch)`,
			`INSERT INTO deliveries (alert_id, channel, status, attempts, err_text, updated) VALUES (?1, ?2, ?3, 0, '', ?4)`,
			deliveries, chans, string(DeliveryPending), ns(now))
		if err != nil {
			return nil, err
		}
	}
	if len(escalated) > 0 {
		// pending again, each a message of its own: a delivery already
		// made (or given up) starts over, one still pending sends the
		// newest account; a channel added since gets one
		chans := make([]string, len(escalated))
		for i := range chans {
			chans[i] = channels[i%len(channels)]
		}
		err := s.bulk(ctx, tx, len(escalated),
			`INSERT INTO deliveries AS d (alert_id, channel, status, attempts, err_text, updated, escalation, since)
SELECT id, ch, $3, 0, '', $4, 1, $4 FROM unnest($1::bigint[], $2::text[]) AS v(id, ch)
ON CONFLICT (alert_id, channel) DO UPDATE SET status = excluded.status, attempts = 0, err_text = '', updated = excluded.updated, escalation = d.escalation + 1, since = excluded.since`,
			`INSERT INTO deliveries (alert_id, channel, status, attempts, err_text, updated, escalation, since) VALUES (?1, ?2, ?3, 0, '', ?4, 1, ?4)
ON CONFLICT (alert_id, channel) DO UPDATE SET status = excluded.status, attempts = 0, err_text = '', updated = excluded.updated, escalation = escalation + 1, since = excluded.since`,
			escalated, chans, string(DeliveryPending), ns(now))
		if err != nil {
			return nil, err
		}
	}
	if len(changes) > 0 {
		n := len(changes)
		id, last, set, rule, payload, sev := make([]int64, n), make([]int64, n), make([]bool, n), make([]string, n), make([][]byte, n), make([]int64, n)
		for i, c := range changes {
			id[i], last[i], set[i], rule[i], payload[i], sev[i] = c.id, c.last, c.setRule, c.rule, c.payload, c.severity
			if payload[i] == nil {
				payload[i] = []byte{}
			}
		}
		err := s.bulk(ctx, tx, n,
			`UPDATE alerts a SET last_seen = v.last, updated = $2, severity = v.sev,
	rule = CASE WHEN v.set_rule THEN v.rule ELSE a.rule END,
	payload = CASE WHEN v.set_rule THEN v.payload ELSE a.payload END
FROM unnest($1::bigint[], $3::bigint[], $4::boolean[], $5::text[], $6::bytea[], $7::bigint[]) AS v(id, last, set_rule, rule, payload, sev)
WHERE a.id = v.id`,
			`UPDATE alerts SET last_seen = ?3, updated = ?2, severity = ?7,
	rule = CASE WHEN ?4 THEN ?5 ELSE rule END,
	payload = CASE WHEN ?4 THEN ?6 ELSE payload END
WHERE id = ?1`,
			id, ns(now), last, set, rule, payload, sev)
		if err != nil {
			return nil, err
		}
	}
	return states, nil
}

// openAlerts returns the open alerts of users, by user; PostgreSQL locks
// their rows, in the order of the users, until the transaction ends.
func (s *store) openAlerts(ctx context.Context, tx *sql.Tx, users []string) (map[string]*Alert, error) {
	out := map[string]*Alert{}
	if len(users) == 0 {
		return out, nil
	}
	arg, err := list(s, users)
	if err != nil {
		return nil, err
	}
	query := `SELECT ` + alertColumns + ` FROM alerts WHERE ` + s.in("account", "text") + ` AND closed IS NULL ORDER BY account`
	if s.pg {
		query += ` FOR UPDATE`
	}
	rows, err := tx.QueryContext(ctx, s.q(query), arg)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return nil, err
		}
		out[a.User] = &a
	}
	return out, rows.Err()
}

// lastClosed returns the latest closed alert of each of users that has
// one (ID, Opened, Last, Closed and CloseReason), by user.
func (s *store) lastClosed(ctx context.Context, tx *sql.Tx, users []string) (map[string]Alert, error) {
	out := map[string]Alert{}
	if len(users) == 0 {
		return out, nil
	}
	arg, err := list(s, users)
	if err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, s.q(`SELECT id, account, opened, last_seen, closed, close_reason FROM (
	SELECT id, account, opened, last_seen, closed, close_reason, row_number() OVER (PARTITION BY account ORDER BY closed DESC, id DESC) AS n
	FROM alerts WHERE `+s.in("account", "text")+` AND closed IS NOT NULL) AS latest WHERE n = 1`), arg)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var a Alert
		var opened, last, closed int64
		if err := rows.Scan(&a.ID, &a.User, &opened, &last, &closed, &a.CloseReason); err != nil {
			return nil, err
		}
		a.Opened, a.Last, a.Closed = fromNS(opened), fromNS(last), fromNS(closed)
		out[a.User] = a
	}
	return out, rows.Err()
}

// insertAlerts opens an alert for each round[i] of which, and returns
// their ids by user. An account that has an open alert all the same
// (another process opened it meanwhile: PostgreSQL) gets none and is not
// in the map.
func (s *store) insertAlerts(ctx context.Context, tx *sql.Tx, instance string, round []Anomaly, which []int, now time.Time) (map[string]int64, error) {
	out := make(map[string]int64, len(which))
	if len(which) == 0 {
		return out, nil
	}
	n := len(which)
	users, last, rule, payload, sev := make([]string, n), make([]int64, n), make([]string, n), make([][]byte, n), make([]int64, n)
	for k, i := range which {
		a := round[i]
		users[k], last[k], rule[k], payload[k], sev[k] = a.User, ns(a.Last), a.Rule, a.Payload, int64(a.Severity)
		if payload[k] == nil {
			payload[k] = []byte{}
		}
	}
	const conflict = ` ON CONFLICT (account) WHERE closed IS NULL DO NOTHING RETURNING id, account`
	if s.pg {
		rows, err := tx.QueryContext(ctx, `INSERT INTO alerts (account, instance, opened, updated, last_seen, rule, payload, close_reason, closed_by, severity)
SELECT u, $2, $3, $3, l, r, p, '', '', sv FROM unnest($1::text[], $4::bigint[], $5::text[], $6::bytea[], $7::bigint[]) AS v(u, l, r, p, sv)`+conflict,
			users, instance, ns(now), last, rule, payload, sev)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var user string
			if err := rows.Scan(&id, &user); err != nil {
				return nil, err
			}
			out[user] = id
		}
		return out, rows.Err()
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO alerts (account, instance, opened, updated, last_seen, rule, payload, close_reason, closed_by, severity)
VALUES (?, ?, ?, ?, ?, ?, ?, '', '', ?)`+conflict)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	for k := range users {
		var id int64
		var user string
		err := st.QueryRowContext(ctx, users[k], instance, ns(now), ns(now), last[k], rule[k], payload[k], sev[k]).Scan(&id, &user)
		switch {
		case err == nil:
			out[user] = id
		case !errors.Is(err, sql.ErrNoRows):
			return nil, err
		}
	}
	return out, nil
}

// evidenceOf returns the evidence of the alerts of open, by alert and
// address.
func (s *store) evidenceOf(ctx context.Context, tx *sql.Tx, open map[string]*Alert) (map[int64]map[string]evidenceRow, error) {
	out := make(map[int64]map[string]evidenceRow, len(open))
	if len(open) == 0 {
		return out, nil
	}
	ids := make([]int64, 0, len(open))
	for _, a := range open {
		ids = append(ids, a.ID)
		out[a.ID] = map[string]evidenceRow{}
	}
	slices.Sort(ids)
	arg, err := list(s, ids)
	if err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, s.q(`SELECT alert_id, ip, logins, first_seen, last_seen, country, asn, org, sent_first, sent_logins FROM evidence WHERE `+s.in("alert_id", "bigint")), arg)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var e evidenceRow
		var id, first, last, asn, sent int64
		if err := rows.Scan(&id, &e.IP, &e.Count, &first, &last, &e.Country, &asn, &e.Org, &sent, &e.sentCount); err != nil {
			return nil, err
		}
		e.First, e.Last, e.ASN = fromNS(first), fromNS(last), uint32(asn)
		if sent != 0 {
			e.sentFirst = fromNS(sent)
		}
		out[id][e.IP] = e
	}
	return out, rows.Err()
}

// writeEvidence writes rows of evidence (of alert[i]), new or changed.
func (s *store) writeEvidence(ctx context.Context, tx *sql.Tx, alert []int64, rows []evidenceRow) error {
	n := len(rows)
	if n == 0 {
		return nil
	}
	ip, country, org := make([]string, n), make([]string, n), make([]string, n)
	count, first, last, asn := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	sentFirst, sentCount := make([]int64, n), make([]int64, n)
	for i, e := range rows {
		ip[i], country[i], org[i] = e.IP, e.Country, e.Org
		count[i], first[i], last[i], asn[i] = e.Count, ns(e.First), ns(e.Last), int64(e.ASN)
		sentFirst[i], sentCount[i] = ns(e.sentFirst), e.sentCount
	}
	const upsert = ` ON CONFLICT (alert_id, ip) DO UPDATE SET logins = excluded.logins, first_seen = excluded.first_seen,
	last_seen = excluded.last_seen, country = excluded.country, asn = excluded.asn, org = excluded.org,
	sent_first = excluded.sent_first, sent_logins = excluded.sent_logins`
	return s.bulk(ctx, tx, n,
		`INSERT INTO evidence (alert_id, ip, logins, first_seen, last_seen, country, asn, org, sent_first, sent_logins)
SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::text[], $7::bigint[], $8::text[], $9::bigint[], $10::bigint[])`+upsert,
		`INSERT INTO evidence (alert_id, ip, logins, first_seen, last_seen, country, asn, org, sent_first, sent_logins) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)`+upsert,
		alert, ip, count, first, last, country, asn, org, sentFirst, sentCount)
}

// errRetry is a conflict with another process that the retry resolves.
var errRetry = &retryError{}

type retryError struct{}

func (*retryError) Error() string { return "conflict with another process" }

// evidenceRow is a row of evidence as recorded, with the count last
// merged into it as its sender counted it (see mergeEvidence).
type evidenceRow struct {
	Evidence
	sentFirst time.Time // that count's first login (zero: none)
	sentCount int64
}

// mergeEvidence adds addrs to have, the evidence of one alert by address
// (nil: none yet): a new address is added; a known one widens its dates,
// and its count grows
//
//   - by all its logins, when they all came after the recorded ones;
//   - by the logins counted since, when its sender counts on from the
//     same first login as the count last merged (a daemon's memory of
//     the address, that sends it grown; a batch run's rows from their
//     first login): the logins of an address used again after the
//     daemon forgot it, or given first as an earlier address from the
//     history, are counted once each;
//   - else, they were partly counted already (a log read again, another
//     process's count): the larger count stays.
//
// It returns the rows to write (new or changed), and the number of new
// addresses.
func mergeEvidence(have map[string]evidenceRow, addrs []Evidence) (write []evidenceRow, added int) {
	if have == nil {
		have = map[string]evidenceRow{}
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
			have[e.IP] = evidenceRow{Evidence: e, sentFirst: e.First, sentCount: e.Count}
			inserted[e.IP] = true
			order = append(order, e.IP)
			added++
			continue
		}
		m := old
		switch {
		case e.First.After(old.Last):
			m.Count = old.Count + e.Count
			m.sentFirst, m.sentCount = e.First, e.Count
		case !old.sentFirst.IsZero() && e.First.Equal(old.sentFirst):
			if e.Count > old.sentCount {
				m.Count = old.Count + e.Count - old.sentCount
				m.sentCount = e.Count
			}
		case e.Count > old.Count:
			m.Count = e.Count
			m.sentFirst, m.sentCount = e.First, e.Count
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
		write = append(write, have[ip])
	}
	return write, added
}
