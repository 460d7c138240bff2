package state

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// store is both backends: the same SQL over database/sql, but for the
// placeholders (q) and a few statements.
type store struct {
	db   *sql.DB
	pg   bool
	name string // Describe
	path string // the SQLite file
	now  func() time.Time
}

type queryer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// q rewrites the ? placeholders for PostgreSQL ($1, $2...). No query
// holds a ? of its own.
func (s *store) q(query string) string {
	if !s.pg {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// retry runs f, a whole transaction, again when it failed because of
// another process: SQLite busy beyond the busy timeout, PostgreSQL's
// serialization failures, deadlocks and unique violations.
func (s *store) retry(ctx context.Context, f func() error) error {
	if !s.pg {
		return retryBusy(ctx, f)
	}
	wait := 2 * time.Millisecond
	for i := 0; ; i++ {
		err := f()
		if err == nil || i >= 9 || !(pgRetryable(err) || errors.Is(err, errRetry)) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, 100*time.Millisecond)
	}
}

// tx runs f in one transaction (SQLite: BEGIN IMMEDIATE), retried whole
// as retry says.
func (s *store) tx(ctx context.Context, f func(tx *sql.Tx) error) error {
	return s.retry(ctx, func() error {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if err := f(tx); err != nil {
			return err
		}
		return tx.Commit()
	})
}

// txConn is tx with the connection of the transaction too, for what
// database/sql cannot do (PostgreSQL's COPY, through conn.Raw).
func (s *store) txConn(ctx context.Context, f func(tx *sql.Tx, conn *sql.Conn) error) error {
	return s.retry(ctx, func() error {
		conn, err := s.db.Conn(ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if err := f(tx, conn); err != nil {
			return err
		}
		return tx.Commit()
	})
}

func (s *store) Describe() string { return s.name }

func (s *store) Close() error {
	if err := s.db.Close(); err != nil {
		return s.wrap(err)
	}
	return nil
}

// Times are unix nanoseconds, UTC; 0 (or NULL) is the zero time.
func ns(t time.Time) int64 {
	switch {
	case t.IsZero():
		return 0
	case t.Before(minNS):
		return math.MinInt64
	case t.After(maxNS):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// minNS and maxNS are the times an int64 of nanoseconds since 1970 can
// hold (1677 to 2262): a time outside (a since of 9999-01-01 from the
// API) is kept as the nearest, not wrapped round to the other end.
var minNS, maxNS = time.Unix(0, math.MinInt64), time.Unix(0, math.MaxInt64)

func fromNS(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func nullNS(t time.Time) sql.NullInt64 {
	return sql.NullInt64{Int64: ns(t), Valid: !t.IsZero()}
}

func fromNull(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return fromNS(n.Int64)
}

func (s *store) Positions(ctx context.Context, instance string, paths []string) (map[string]Position, error) {
	out := make(map[string]Position, len(paths))
	if len(paths) == 0 {
		return out, nil
	}
	arg, err := list(s, paths)
	if err != nil {
		return nil, s.wrap(err)
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT path, dev, ino, read_offset, size, fp, fp_len, updated FROM positions WHERE instance = ? AND `+s.in("path", "text")), instance, arg)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	for rows.Next() {
		var p Position
		var dev, ino, updated int64
		if err := rows.Scan(&p.Path, &dev, &ino, &p.Offset, &p.Size, &p.FP, &p.FPLen, &updated); err != nil {
			return nil, s.wrap(err)
		}
		p.Dev, p.Ino, p.Updated = uint64(dev), uint64(ino), fromNS(updated)
		out[p.Path] = p
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap(err)
	}
	return out, nil
}

func (s *store) Pending(ctx context.Context, instance string) ([]Delivery, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`
SELECT d.alert_id, a.account, d.channel, d.status, d.attempts, d.err_text, CASE WHEN d.since > a.opened THEN d.since ELSE a.opened END, d.updated, a.payload, a.rule, d.escalation
FROM deliveries d JOIN alerts a ON a.id = d.alert_id
WHERE d.status = ? AND (? = '' OR a.instance = ?)
ORDER BY a.opened, d.alert_id, d.channel`), string(DeliveryPending), instance, instance)
	if err != nil {
		return nil, s.wrap(err)
	}
	out, err := scanDeliveries(rows)
	return out, s.wrap(err)
}

func scanDeliveries(rows *sql.Rows) ([]Delivery, error) {
	defer rows.Close()
	var out []Delivery
	for rows.Next() {
		var d Delivery
		var status string
		var created, updated int64
		if err := rows.Scan(&d.Alert, &d.User, &d.Channel, &status, &d.Attempts, &d.Error, &created, &updated, &d.Payload, &d.AlertRule, &d.Escalation); err != nil {
			return nil, err
		}
		d.Status, d.Created, d.Updated = DeliveryStatus(status), fromNS(created), fromNS(updated)
		out = append(out, d)
	}
	return out, rows.Err()
}

func (s *store) SetDelivery(ctx context.Context, alert int64, channel string, escalation int, status DeliveryStatus, errText string, attempted bool) error {
	switch status {
	case DeliverySent, DeliveryPending, DeliveryGivenUp:
	default:
		return s.wrap(fmt.Errorf("unknown delivery status %q", status))
	}
	// Given up, the last error stays unless a reason is given; sent or
	// pending, errText is the attempt's (empty when sent).
	query := `UPDATE deliveries SET status = ?, err_text = CASE WHEN ? AND ? = '' THEN err_text ELSE ? END, updated = ?, attempts = attempts + ?
WHERE alert_id = ? AND channel = ? AND escalation = ?`
	n := 0
	if attempted {
		n = 1
	}
	var res sql.Result
	err := s.retry(ctx, func() (err error) {
		res, err = s.db.ExecContext(ctx, s.q(query), string(status), status == DeliveryGivenUp, errText, errText, ns(s.now()), n, alert, channel, escalation)
		return err
	})
	if err != nil {
		return s.wrap(err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return s.wrap(err)
	} else if n > 0 {
		return nil
	}
	// none: the alert grew more severe meanwhile (its newer delivery stays
	// pending), or there is no such delivery
	var newer int
	err = s.db.QueryRowContext(ctx, s.q(`SELECT count(*) FROM deliveries WHERE alert_id = ? AND channel = ? AND escalation > ?`), alert, channel, escalation).Scan(&newer)
	if err != nil {
		return s.wrap(err)
	}
	if newer == 0 {
		return s.wrap(fmt.Errorf("no delivery of alert %d on channel %q", alert, channel))
	}
	return nil
}

const historyColumns = `account, ip, logins, first_seen, last_seen, country, city, has_loc, lat, lon, accuracy_km, asn, org, rdns, rdns_verified, methods`

func (s *store) History(ctx context.Context, user string) ([]Address, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+historyColumns+` FROM history WHERE account = ? ORDER BY last_seen DESC, ip`), user)
	if err != nil {
		return nil, s.wrap(err)
	}
	out, err := scanAddresses(rows, nil)
	return out, s.wrap(err)
}

// Recent returns, in one query whatever the number of accounts, the rows
// of history of each account of since last seen at since[user] or later
// (the zero time: all), by account, the most recently seen first.
func (s *store) Recent(ctx context.Context, since map[string]time.Time) ([]Address, error) {
	if len(since) == 0 {
		return nil, nil
	}
	users := make([]string, 0, len(since))
	for u := range since {
		users = append(users, u)
	}
	slices.Sort(users)
	var rows *sql.Rows
	var err error
	cols := `h.` + strings.ReplaceAll(historyColumns, ", ", ", h.")
	if s.pg {
		times := make([]int64, len(users))
		for i, u := range users {
			times[i] = ns(since[u])
		}
		rows, err = s.db.QueryContext(ctx, `SELECT `+cols+` FROM unnest($1::text[], $2::bigint[]) AS s(account, since)
JOIN history h ON h.account = s.account AND h.last_seen >= s.since ORDER BY h.account, h.last_seen DESC, h.ip`, users, times)
	} else {
		// One parameter, a JSON object {user: unix nanoseconds}: no limit
		// on the number of accounts.
		obj := make(map[string]int64, len(since))
		for u, t := range since {
			obj[u] = ns(t)
		}
		var arg []byte
		if arg, err = json.Marshal(obj); err != nil {
			return nil, s.wrap(err)
		}
		rows, err = s.db.QueryContext(ctx, `SELECT `+cols+` FROM json_each(?) AS s
JOIN history h ON h.account = s.key AND h.last_seen >= s.value ORDER BY h.account, h.last_seen DESC, h.ip`, string(arg))
	}
	if err != nil {
		return nil, s.wrap(err)
	}
	out, err := scanAddresses(rows, nil)
	return out, s.wrap(err)
}

func (s *store) Site(ctx context.Context, fn func(*Address) error) error {
	rows, err := s.db.QueryContext(ctx, `SELECT `+historyColumns+` FROM history`)
	if err != nil {
		return s.wrap(err)
	}
	defer rows.Close()
	var a Address
	for rows.Next() {
		if err := scanAddress(rows, &a); err != nil {
			return s.wrap(err)
		}
		if err := fn(&a); err != nil {
			return err
		}
	}
	return s.wrap(rows.Err())
}

func (s *store) HistorySince(ctx context.Context, since time.Time, fn func(*Address) error) (time.Time, error) {
	asked := s.now()
	if s.pg {
		var n int64
		if err := s.db.QueryRowContext(ctx, `SELECT `+pgNow).Scan(&n); err != nil {
			return time.Time{}, s.wrap(err)
		}
		asked = fromNS(n)
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+historyColumns+` FROM history WHERE recorded >= ?`), ns(since))
	if err != nil {
		return time.Time{}, s.wrap(err)
	}
	defer rows.Close()
	var a Address
	for rows.Next() {
		if err := scanAddress(rows, &a); err != nil {
			return time.Time{}, s.wrap(err)
		}
		if err := fn(&a); err != nil {
			return time.Time{}, err
		}
	}
	if err := rows.Err(); err != nil {
		return time.Time{}, s.wrap(err)
	}
	return asked, nil
}

const sharingColumns = `account, far_days, far_day, far_pair, near_days, near_day, near_pair`

func (s *store) SharingOf(ctx context.Context, users []string) (map[string]Sharing, error) {
	if len(users) == 0 {
		return nil, nil
	}
	users = slices.Clone(users)
	slices.Sort(users)
	users = slices.Compact(users)
	var rows *sql.Rows
	var err error
	if s.pg {
		rows, err = s.db.QueryContext(ctx, `SELECT `+sharingColumns+` FROM sharing WHERE account = ANY($1::text[])`, users)
	} else {
		// one parameter, a JSON array: no limit on the number of accounts
		var arg []byte
		if arg, err = json.Marshal(users); err != nil {
			return nil, s.wrap(err)
		}
		rows, err = s.db.QueryContext(ctx, `SELECT `+sharingColumns+` FROM sharing WHERE account IN (SELECT value FROM json_each(?))`, string(arg))
	}
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	out := map[string]Sharing{}
	for rows.Next() {
		var sh Sharing
		var far, near int64
		if err := rows.Scan(&sh.User, &far, &sh.FarDay, &sh.FarPair, &near, &sh.NearDay, &sh.NearPair); err != nil {
			return nil, s.wrap(err)
		}
		sh.FarDays, sh.NearDays = int(far), int(near)
		out[sh.User] = sh
	}
	return out, s.wrap(rows.Err())
}

func (s *store) Failures(ctx context.Context, since time.Time) ([]Failure, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT instance, ip, first_seen, last_seen, failures FROM failures WHERE last_seen >= ?
ORDER BY ip, first_seen, instance`), ns(since))
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	var out []Failure
	for rows.Next() {
		var f Failure
		var first, last, n int64
		if err := rows.Scan(&f.Instance, &f.IP, &first, &last, &n); err != nil {
			return nil, s.wrap(err)
		}
		f.First, f.Last, f.Count = fromNS(first), fromNS(last), int(n)
		out = append(out, f)
	}
	return out, s.wrap(rows.Err())
}

func scanAddresses(rows *sql.Rows, out []Address) ([]Address, error) {
	defer rows.Close()
	for rows.Next() {
		var a Address
		if err := scanAddress(rows, &a); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// scanAddress reads a row of historyColumns into a.
func scanAddress(rows *sql.Rows, a *Address) error {
	var first, last, asn, methods int64
	var verified sql.NullBool
	if err := rows.Scan(&a.User, &a.IP, &a.Count, &first, &last, &a.Country, &a.City, &a.HasLoc, &a.Lat, &a.Lon, &a.AccuracyKM, &asn, &a.Org, &a.RDNS, &verified, &methods); err != nil {
		return err
	}
	a.First, a.Last, a.ASN, a.Methods = fromNS(first), fromNS(last), uint32(asn), uint8(methods)
	a.RDNSVerified = nil
	if verified.Valid {
		v := verified.Bool
		a.RDNSVerified = &v
	}
	return nil
}

const alertColumns = `id, account, instance, opened, updated, last_seen, rule, closed, close_reason, closed_by, severity`

func scanAlert(sc interface{ Scan(...any) error }) (Alert, error) {
	var a Alert
	var opened, updated, last int64
	var closed sql.NullInt64
	err := sc.Scan(&a.ID, &a.User, &a.Instance, &opened, &updated, &last, &a.Rule, &closed, &a.CloseReason, &a.ClosedBy, &a.Severity)
	a.Opened, a.Updated, a.Last, a.Closed = fromNS(opened), fromNS(updated), fromNS(last), fromNull(closed)
	return a, err
}

func (s *store) Alerts(ctx context.Context, since time.Time) ([]Alert, error) {
	where := `a.updated >= ? OR a.opened >= ?`
	args := []any{ns(since), ns(since)}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+alertColumns+` FROM alerts a WHERE `+where+` ORDER BY a.updated DESC, a.id DESC`), args...)
	if err != nil {
		return nil, s.wrap(err)
	}
	var out []Alert
	index := map[int64]int{}
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			rows.Close()
			return nil, s.wrap(err)
		}
		index[a.ID] = len(out)
		out = append(out, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, s.wrap(err)
	}
	if len(out) == 0 {
		return out, nil
	}
	// The evidence and deliveries of those alerts, in two queries. An
	// alert opened since the first query is not in index: skipped.
	rows, err = s.db.QueryContext(ctx, s.q(`SELECT e.alert_id, e.ip, e.logins, e.first_seen, e.last_seen, e.country, e.asn, e.org
FROM evidence e JOIN alerts a ON a.id = e.alert_id WHERE `+where+` ORDER BY e.alert_id, e.first_seen, e.ip`), args...)
	if err != nil {
		return nil, s.wrap(err)
	}
	for rows.Next() {
		var id, first, last, asn int64
		var e Evidence
		if err := rows.Scan(&id, &e.IP, &e.Count, &first, &last, &e.Country, &asn, &e.Org); err != nil {
			rows.Close()
			return nil, s.wrap(err)
		}
		e.First, e.Last, e.ASN = fromNS(first), fromNS(last), uint32(asn)
		if i, ok := index[id]; ok {
			out[i].Evidence = append(out[i].Evidence, e)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, s.wrap(err)
	}
	rows, err = s.db.QueryContext(ctx, s.q(`
SELECT d.alert_id, a.account, d.channel, d.status, d.attempts, d.err_text, CASE WHEN d.since > a.opened THEN d.since ELSE a.opened END, d.updated, a.payload, a.rule, d.escalation
FROM deliveries d JOIN alerts a ON a.id = d.alert_id WHERE `+where+` ORDER BY d.alert_id, d.channel`), args...)
	if err != nil {
		return nil, s.wrap(err)
	}
	ds, err := scanDeliveries(rows)
	if err != nil {
		return nil, s.wrap(err)
	}
	for _, d := range ds {
		if i, ok := index[d.Alert]; ok {
			out[i].Deliveries = append(out[i].Deliveries, d)
		}
	}
	return out, nil
}

// closeOpen closes user's open incident; it tells whether one was open.
func (s *store) closeOpen(ctx context.Context, tx *sql.Tx, user, reason, by string, at time.Time) (bool, error) {
	res, err := tx.ExecContext(ctx, s.q(`UPDATE alerts SET closed = ?, close_reason = ?, closed_by = ? WHERE account = ? AND closed IS NULL`),
		ns(at), reason, by, user)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

func (s *store) Ack(ctx context.Context, user, by string, at time.Time) (bool, error) {
	var closed bool
	err := s.tx(ctx, func(tx *sql.Tx) (err error) {
		closed, err = s.closeOpen(ctx, tx, user, "acknowledged", by, at)
		return err
	})
	return closed, s.wrap(err)
}

func (s *store) AddBlock(ctx context.Context, b Block) error {
	_, err := s.PutBlock(ctx, b)
	return err
}

// PutBlock writes the block and its audit row, and reads the block it
// replaces in the same transaction, after taking the account's row:
// SQLite has one writer at a time (BEGIN IMMEDIATE); PostgreSQL locks the
// row (FOR UPDATE) to the commit, or, when the account has none, inserts
// it (a row inserted by another transaction meanwhile is locked and
// replaced instead). So two changes of one account at once each return
// the block they overwrote, in the order of BlockAudit.
func (s *store) PutBlock(ctx context.Context, b Block) (*Block, error) {
	old, _, err := s.PutBlockIf(ctx, b, nil)
	return old, err
}

// errRefused: PutBlockIf's ok refused the write; its transaction is
// rolled back (an inserted row goes with it).
var errRefused = errors.New("refused")

// PutBlockIf is PutBlock, when ok allows it: ok is called once the
// account's row is taken (locked, or inserted by this transaction), with
// the block in force at b.Created and the account's latest change in
// the audit trail, read then; no other change of the account can commit
// between ok and the write.
func (s *store) PutBlockIf(ctx context.Context, b Block, ok func(current *Block, latest *BlockChange) bool) (*Block, bool, error) {
	if b.Source == "" {
		b.Source = "manual"
	}
	if b.Created.IsZero() {
		b.Created = s.now()
	}
	var current *Block
	err := s.tx(ctx, func(tx *sql.Tx) error {
		current = nil
		inserted := false
		for i := 0; ; i++ {
			old, err := s.blockRow(ctx, tx, b.User)
			if err != nil {
				return err
			}
			if old != nil {
				// one that had ended by itself was no longer in force:
				// nothing was replaced (as Blocks and RemoveBlock see it)
				if old.Expires.IsZero() || old.Expires.After(b.Created) {
					current = old
				}
				break
			}
			res, err := tx.ExecContext(ctx, s.q(`INSERT INTO blocks (account, reason, source, created_by, created, expires) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (account) DO NOTHING`), b.User, b.Reason, b.Source, b.By, ns(b.Created), nullNS(b.Expires))
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			if n == 1 {
				inserted = true
				break
			}
			// (PostgreSQL) another transaction inserted the account's
			// row since blockRow found none, and has committed: this
			// statement's snapshot sees it, to lock and replace
			if i >= 10 { // the row keeps coming and going: try the whole again
				return errRetry
			}
		}
		if ok != nil {
			// read with the row taken: a change of the account that
			// committed before is seen, none can commit until this one
			latest, err := s.latestChange(ctx, tx, b.User)
			if err != nil {
				return err
			}
			if !ok(current, latest) {
				return errRefused
			}
		}
		if !inserted {
			if _, err := tx.ExecContext(ctx, s.q(`UPDATE blocks SET reason = ?, source = ?, created_by = ?, created = ?, expires = ? WHERE account = ?`),
				b.Reason, b.Source, b.By, ns(b.Created), nullNS(b.Expires), b.User); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO block_audit (at, account, action, actor, reason, source, expires) VALUES (?, ?, 'block', ?, ?, ?, ?)`),
			ns(b.Created), b.User, b.By, b.Reason, b.Source, nullNS(b.Expires))
		return err
	})
	if errors.Is(err, errRefused) {
		return current, false, nil
	}
	if err != nil {
		return nil, false, s.wrap(err)
	}
	return current, true, nil
}

// latestChange reads user's latest change in the audit trail (nil: none).
func (s *store) latestChange(ctx context.Context, tx *sql.Tx, user string) (*BlockChange, error) {
	var c BlockChange
	var at int64
	var expires sql.NullInt64
	err := tx.QueryRowContext(ctx, s.q(`SELECT id, at, account, action, actor, reason, source, expires FROM block_audit
WHERE account = ? ORDER BY id DESC LIMIT 1`), user).Scan(&c.id, &at, &c.User, &c.Action, &c.By, &c.Reason, &c.Source, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	c.At, c.Expires = fromNS(at), fromNull(expires)
	return &c, nil
}

// blockRow reads user's row of blocks (nil: none), ended or not;
// PostgreSQL locks it until the transaction ends.
func (s *store) blockRow(ctx context.Context, tx *sql.Tx, user string) (*Block, error) {
	query := `SELECT account, reason, source, created_by, created, expires FROM blocks WHERE account = ?`
	if s.pg {
		query += ` FOR UPDATE`
	}
	var b Block
	var created int64
	var expires sql.NullInt64
	err := tx.QueryRowContext(ctx, s.q(query), user).Scan(&b.User, &b.Reason, &b.Source, &b.By, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	b.Created, b.Expires = fromNS(created), fromNull(expires)
	return &b, nil
}

func (s *store) RemoveBlock(ctx context.Context, user, by, reason string, at time.Time) (bool, error) {
	var removed bool
	err := s.tx(ctx, func(tx *sql.Tx) error {
		// a block ended by itself is no longer in force (Blocks does not
		// list it): its row goes, but nothing was lifted
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM blocks WHERE account = ? AND expires IS NOT NULL AND expires <= ?`), user, ns(at)); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.q(`DELETE FROM blocks WHERE account = ?`), user)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		removed = n > 0
		if !removed {
			return nil
		}
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO block_audit (at, account, action, actor, reason, source, expires) VALUES (?, ?, 'unblock', ?, ?, '', NULL)`),
			ns(at), user, by, reason)
		if err != nil {
			return err
		}
		_, err = s.closeOpen(ctx, tx, user, "unblocked", by, at)
		return err
	})
	return removed, s.wrap(err)
}

func (s *store) Blocks(ctx context.Context, now time.Time) ([]Block, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT account, reason, source, created_by, created, expires FROM blocks
WHERE expires IS NULL OR expires > ? ORDER BY created, account`), ns(now))
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	var out []Block
	for rows.Next() {
		var b Block
		var created int64
		var expires sql.NullInt64
		if err := rows.Scan(&b.User, &b.Reason, &b.Source, &b.By, &created, &expires); err != nil {
			return nil, s.wrap(err)
		}
		b.Created, b.Expires = fromNS(created), fromNull(expires)
		out = append(out, b)
	}
	return out, s.wrap(rows.Err())
}

// BlockAudit lists the changes by id, the order they took effect, not by
// their times: a change's time is its caller's, taken before its
// transaction (the API's PUT and DELETE, loganom block, another instance
// with its own clock), so a PUT whose time was taken before a DELETE's
// may commit after it, the account left blocked. Each change takes the
// account's row of blocks before its audit row takes its id (SQLite:
// one writer at a time, from BEGIN IMMEDIATE; PostgreSQL: the row's
// lock, or the unique index's, held to the commit), so two changes of
// one account have their ids in the order they committed.
func (s *store) BlockAudit(ctx context.Context, since time.Time) ([]BlockChange, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT id, at, account, action, actor, reason, source, expires FROM block_audit
WHERE at >= ? ORDER BY id DESC`), ns(since))
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	var out []BlockChange
	for rows.Next() {
		var c BlockChange
		var at int64
		var expires sql.NullInt64
		if err := rows.Scan(&c.id, &at, &c.User, &c.Action, &c.By, &c.Reason, &c.Source, &expires); err != nil {
			return nil, s.wrap(err)
		}
		c.At, c.Expires = fromNS(at), fromNull(expires)
		out = append(out, c)
	}
	return out, s.wrap(rows.Err())
}

func (s *store) Stats(ctx context.Context) (Stats, error) {
	st := Stats{DB: s.name}
	v, err := s.version(ctx, s.db)
	if err != nil {
		return st, s.wrap(err)
	}
	st.Schema = v
	err = s.db.QueryRowContext(ctx, s.q(`SELECT
	(SELECT count(DISTINCT account) FROM history),
	(SELECT count(*) FROM history),
	(SELECT coalesce(sum(logins), 0) FROM history),
	(SELECT count(*) FROM alerts),
	(SELECT count(*) FROM alerts WHERE closed IS NULL),
	(SELECT count(*) FROM deliveries WHERE status = ?),
	(SELECT count(*) FROM deliveries WHERE status = ?),
	(SELECT count(*) FROM blocks WHERE expires IS NULL OR expires > ?),
	(SELECT count(*) FROM positions)`), string(DeliveryPending), string(DeliveryGivenUp), ns(s.now())).Scan(
		&st.Accounts, &st.Addresses, &st.Logins, &st.Alerts, &st.OpenAlerts, &st.Pending, &st.GivenUp, &st.Blocks, &st.Positions)
	if err != nil {
		return st, s.wrap(err)
	}
	if s.pg {
		err = s.db.QueryRowContext(ctx, `SELECT pg_database_size(current_database())`).Scan(&st.Bytes)
		if err != nil {
			return st, s.wrap(err)
		}
	} else {
		for _, suffix := range []string{"", "-wal"} {
			if fi, err := os.Stat(s.path + suffix); err == nil {
				st.Bytes += fi.Size()
			}
		}
	}
	return st, nil
}

func (s *store) Prune(ctx context.Context, before time.Time) (Pruned, error) {
	var p Pruned
	err := s.tx(ctx, func(tx *sql.Tx) (err error) {
		p, err = s.prune(ctx, tx, before, s.now())
		return err
	})
	if err != nil {
		return Pruned{}, s.wrap(err)
	}
	return p, nil
}

func (s *store) PruneIfDue(ctx context.Context, now, before time.Time, every time.Duration) (Pruned, bool, error) {
	var p Pruned
	var done bool
	err := s.tx(ctx, func(tx *sql.Tx) error {
		p, done = Pruned{}, false
		// PostgreSQL: the row is locked until the prune commits; a process
		// that finds it locked leaves the prune to the one that holds it
		// (SKIP LOCKED: no row). SQLite: BEGIN IMMEDIATE serialises.
		query := `SELECT at FROM last_prune`
		if s.pg {
			query += ` FOR UPDATE SKIP LOCKED`
		}
		var last int64
		switch err := tx.QueryRowContext(ctx, query).Scan(&last); {
		case errors.Is(err, sql.ErrNoRows) && s.pg:
			return nil // another process is pruning
		case err != nil:
			return err
		}
		if !pruneDue(fromNS(last), now, every) {
			return nil
		}
		var err error
		p, err = s.prune(ctx, tx, before, now)
		done = err == nil
		return err
	})
	if err != nil {
		return Pruned{}, false, s.wrap(err)
	}
	return p, done, nil
}

// pruneDue tells whether a prune is due at now, the last made at last
// (zero: never): when it is every or older; or later than now (a clock
// that was ahead, or stepped back: better a prune too many than none for
// as long as the clock was ahead). every <= 0: never.
func pruneDue(last, now time.Time, every time.Duration) bool {
	if every <= 0 {
		return false
	}
	return last.IsZero() || last.After(now) || !now.Before(last.Add(every))
}

func (s *store) LastPrune(ctx context.Context) (time.Time, error) {
	var last int64
	if err := s.db.QueryRowContext(ctx, `SELECT at FROM last_prune`).Scan(&last); err != nil {
		return time.Time{}, s.wrap(err)
	}
	return fromNS(last), nil
}

// prune deletes what Prune says in tx, and records now as the last prune.
func (s *store) prune(ctx context.Context, tx *sql.Tx, before, now time.Time) (Pruned, error) {
	p, err := s.pruneRows(ctx, tx, before, now)
	if err != nil {
		return Pruned{}, err
	}
	if _, err := tx.ExecContext(ctx, s.q(`UPDATE last_prune SET at = ?`), ns(now)); err != nil {
		return Pruned{}, err
	}
	return p, nil
}

func (s *store) pruneRows(ctx context.Context, tx *sql.Tx, before, now time.Time) (Pruned, error) {
	var p Pruned
	b := ns(before)
	err := func() error {
		res, err := tx.ExecContext(ctx, s.q(`DELETE FROM history WHERE last_seen < ?`), b)
		if err != nil {
			return err
		}
		if p.Addresses, err = res.RowsAffected(); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM sharing WHERE updated < ?`), b); err != nil {
			return err
		}
		res, err = tx.ExecContext(ctx, s.q(`DELETE FROM failures WHERE last_seen < ?`), b)
		if err != nil {
			return err
		}
		if p.Failures, err = res.RowsAffected(); err != nil {
			return err
		}
		// An alert closed recently is kept even when its evidence is old:
		// its closing time is the cutoff that keeps a log read again from
		// opening it anew.
		const old = `SELECT id FROM alerts WHERE closed IS NOT NULL AND closed < ? AND updated < ?`
		for _, t := range []string{"evidence", "deliveries"} {
			if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM `+t+` WHERE alert_id IN (`+old+`)`), b, b); err != nil {
				return err
			}
		}
		res, err = tx.ExecContext(ctx, s.q(`DELETE FROM alerts WHERE id IN (`+old+`)`), b, b)
		if err != nil {
			return err
		}
		if p.Alerts, err = res.RowsAffected(); err != nil {
			return err
		}
		if p.Audit, err = s.pruneAudit(ctx, tx, b); err != nil {
			return err
		}
		// An open alert whose last anomalous login, and last change, are
		// older than the cutoff is closed as quiet, at now: its account's
		// next anomaly would close it anyway (keep is longer than
		// realert_after, as a rule), but an account never flagged again
		// kept it open, counted and never pruned, for ever. Closed now
		// (after the deletions above), it is kept for as long again, its
		// last login the cutoff for a log read again, and pruned then.
		// One whose delivery is still being tried (pending, and tried
		// since the cutoff: a channel down) stays open until it is sent
		// or given up: closed, the next prune would delete it with its
		// delivery, never sent nor given up, when keep is shorter than
		// half of [NOTIFY] give_up_after. A pending delivery that nobody
		// tries any more (its mail server's runs gone) holds nothing.
		res, err = tx.ExecContext(ctx, s.q(`UPDATE alerts SET closed = ?, close_reason = ?, closed_by = ''
WHERE closed IS NULL AND last_seen < ? AND updated < ?
	AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.alert_id = alerts.id AND d.status = ? AND d.updated >= ?)`),
			ns(now), ClosedQuiet, b, b, string(DeliveryPending), b)
		if err != nil {
			return err
		}
		if p.Quiet, err = res.RowsAffected(); err != nil {
			return err
		}
		return nil
	}()
	return p, err
}

// pruneAudit deletes the changes to the blocks made before before (ns)
// that no longer tell anything of that time on: an unblock, and a block
// that ended before it, by itself (its expiry) or by the account's next
// change (an unblock, a block that replaced it). A block in force at
// before, or since, keeps its record (who made it, and why). The changes
// before the cutoff are few (the postmaster's, one automatic block per
// incident): they are sorted out here, by account, in one pass.
func (s *store) pruneAudit(ctx context.Context, tx *sql.Tx, before int64) (int64, error) {
	// in the order the changes were made (id: each took the account's
	// row of blocks first), not by their time: two processes' clocks, or
	// one stepped back, may disagree
	rows, err := tx.QueryContext(ctx, s.q(`SELECT id, account, action, expires FROM block_audit WHERE at < ? ORDER BY account, id`), before)
	if err != nil {
		return 0, err
	}
	type change struct {
		id              int64
		account, action string
		expires         sql.NullInt64
	}
	var old []change
	for rows.Next() {
		var c change
		if err := rows.Scan(&c.id, &c.account, &c.action, &c.expires); err != nil {
			rows.Close()
			return 0, err
		}
		old = append(old, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	var ids []int64
	for i, c := range old {
		followed := i+1 < len(old) && old[i+1].account == c.account // by a change made before the cutoff too
		if c.action != "block" || followed || c.expires.Valid && c.expires.Int64 < before {
			ids = append(ids, c.id)
		}
	}
	if len(ids) == 0 {
		return 0, nil
	}
	arg, err := list(s, ids)
	if err != nil {
		return 0, err
	}
	res, err := tx.ExecContext(ctx, s.q(`DELETE FROM block_audit WHERE `+s.in("id", "bigint")), arg)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
