package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
	_ "modernc.org/sqlite"             // the "sqlite" driver, pure Go
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/loganom/loganom/pkg/internal/sqlitex"
)

// OldSchemaError: the database's schema is older than this binary's and
// Options.NoMigrate forbade upgrading it.
type OldSchemaError struct {
	DB     string
	Have   int // the database's schema version
	Binary int // this binary's
}

func (e *OldSchemaError) Error() string {
	return fmt.Sprintf("%s: schema version %d is older than this loganom's (%d): run 'loganom db migrate' to upgrade it", e.DB, e.Have, e.Binary)
}

// IsPostgres tells whether dsn names a PostgreSQL database
// (postgres://... or postgresql://...) rather than an SQLite file.
func IsPostgres(dsn string) bool {
	l := strings.ToLower(dsn)
	return strings.HasPrefix(l, "postgres://") || strings.HasPrefix(l, "postgresql://")
}

// DefaultPath is the SQLite state of the user: loganom/state.db in
// $XDG_STATE_HOME when that is set, else /var/lib/loganom/state.db for
// root, else ~/.local/state/loganom/state.db.
func DefaultPath() (string, error) {
	dir := os.Getenv("XDG_STATE_HOME")
	if dir != "" && filepath.IsAbs(dir) { // set: the user's choice, root's too (the spec: a relative one is ignored)
		return filepath.Join(dir, "loganom", "state.db"), nil
	}
	if os.Geteuid() == 0 {
		return "/var/lib/loganom/state.db", nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no state directory: %w", err)
	}
	return filepath.Join(home, ".local", "state", "loganom", "state.db"), nil
}

// Describe names the database of dsn for messages: the SQLite file, or
// the PostgreSQL URL without its password and parameters.
func Describe(dsn string) string {
	if !IsPostgres(dsn) {
		return dsn
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "postgresql database" // the text may hold a password
	}
	d := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}
	if u.User != nil {
		d.User = url.User(u.User.Username())
	}
	return d.String()
}

// Open opens the state at dsn: a PostgreSQL URL (see IsPostgres) or the
// path of an SQLite file, made with its directory when missing. An older
// schema is upgraded (unless opts.NoMigrate); a newer one is refused with
// a *TooNewError, and the database is left untouched.
func Open(ctx context.Context, dsn string, opts Options) (Store, error) {
	s, err := connect(ctx, dsn, opts)
	if err != nil {
		return nil, err
	}
	var have int
	err = s.retry(ctx, func() (err error) { have, err = s.version(ctx, s.db); return err })
	if err == nil {
		switch {
		case have > SchemaVersion():
			err = &TooNewError{DB: s.name, Have: have, Binary: SchemaVersion()}
		case have < SchemaVersion() && opts.NoMigrate:
			err = &OldSchemaError{DB: s.name, Have: have, Binary: SchemaVersion()}
		case have < SchemaVersion():
			_, _, err = s.migrate(ctx)
		}
	} else {
		err = s.wrap(err)
	}
	if err != nil {
		s.db.Close()
		return nil, err
	}
	return s, nil
}

// Migrate upgrades the schema of the state at dsn (made when missing) to
// this binary's, and returns the versions before and after. A newer
// schema is a *TooNewError, and the database is left untouched.
func Migrate(ctx context.Context, dsn string) (from, to int, err error) {
	s, err := connect(ctx, dsn, Options{})
	if err != nil {
		return 0, 0, err
	}
	defer s.db.Close()
	from, to, err = s.migrate(ctx)
	if err != nil {
		return 0, 0, err
	}
	return from, to, nil
}

// busyTimeout is how long an SQLite statement waits for another process's
// lock; busyDeadline how long an operation that failed with SQLITE_BUSY
// all the same (switching to WAL) is tried again.
var (
	busyTimeout  = 10 * time.Second
	busyDeadline = 20 * time.Second
)

// connect opens the database without reading or writing anything in it.
func connect(ctx context.Context, dsn string, opts Options) (*store, error) {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	if dsn == "" {
		return nil, errors.New("state: no database given")
	}
	if IsPostgres(dsn) {
		s := &store{pg: true, name: Describe(dsn), now: now}
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			return nil, s.wrap(err)
		}
		// No ping: the first query connects (a round trip less).
		s.db = db
		return s, nil
	}
	path := dsn
	s := &store{path: path, name: path, now: now}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, s.wrap(err)
	}
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		f.Close()
	} else if !errors.Is(err, os.ErrExist) {
		return nil, s.wrap(err)
	} else if fi, err := os.Stat(path); err != nil {
		return nil, s.wrap(err)
	} else if !fi.Mode().IsRegular() {
		return nil, s.wrap(errors.New("not a regular file"))
	}
	// The busy timeout is set on every connection of the pool; a writing
	// transaction is BEGIN IMMEDIATE: it waits for the lock at its start,
	// where waiting cannot deadlock, and the writers are serialised.
	//
	// synchronous=FULL: in WAL mode, NORMAL may lose the last commits at a
	// power loss (the WAL is not synced at each commit), and an alert
	// system must not forget a committed "sent" (it would send again) nor
	// a position. FULL syncs the WAL at every commit. This is the state's
	// setting only: the lookup cache keeps its own.
	q := "file:" + uriPath(path) + fmt.Sprintf("?_pragma=busy_timeout(%d)&_pragma=synchronous(FULL)&_txlock=immediate", busyTimeout.Milliseconds())
	db, err := sql.Open("sqlite", q)
	if err != nil {
		return nil, s.wrap(err)
	}
	s.db = db
	return s, nil
}

// uriPath escapes what an SQLite URI filename would take for a query, a
// fragment or an escape.
func uriPath(path string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(filepath.Clean(path))
}

// version reads the schema version: 0 for a database without loganom's
// tables.
func (s *store) version(ctx context.Context, q queryer) (int, error) {
	var exists bool
	if _, isDB := q.(*sql.DB); isDB && s.pg {
		// Outside a transaction, where an error does not abort it: the
		// version at once, one round trip for a database in use; the
		// catalog only when the table is missing.
		var v int
		err := q.QueryRowContext(ctx, `SELECT version FROM loganom_schema`).Scan(&v)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "42P01" { // undefined_table
			return v, err
		}
	}
	if s.pg {
		// A query of the catalog, not to_regclass: its cache may not have
		// seen yet the table that the migration waited for.
		if err := q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = 'loganom_schema')`).Scan(&exists); err != nil {
			return 0, err
		}
	} else {
		var n, others int
		if err := q.QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE name = 'loganom_schema'), count(*) FILTER (WHERE name NOT LIKE 'sqlite%') FROM sqlite_master WHERE type = 'table'`).Scan(&n, &others); err != nil {
			return 0, err
		}
		if n == 0 && others > 0 {
			return 0, errors.New("not a loganom state database: it has other tables")
		}
		exists = n > 0
	}
	if !exists {
		return 0, nil
	}
	var v int
	err := q.QueryRowContext(ctx, `SELECT version FROM loganom_schema`).Scan(&v)
	return v, err
}

// migrateLock is the key of the advisory lock held while PostgreSQL's
// schema is upgraded ("loganom" in ASCII).
const migrateLock = 0x6c6f67616e6f6d

// migrate upgrades the schema under a lock: two processes opening a new
// database at once make it once.
func (s *store) migrate(ctx context.Context) (from, to int, err error) {
	// Read without a lock first: a database too new is not written to
	// (not even switched to WAL).
	var have int
	err = s.retry(ctx, func() (err error) { have, err = s.version(ctx, s.db); return err })
	if err != nil {
		return 0, 0, s.wrap(err)
	}
	if have > SchemaVersion() {
		return 0, 0, &TooNewError{DB: s.name, Have: have, Binary: SchemaVersion()}
	}
	if !s.pg {
		// The busy timeout does not cover this: switching a new database
		// to WAL while another process makes it fails at once.
		err := retryBusy(ctx, func() error {
			var mode string
			return s.db.QueryRowContext(ctx, `PRAGMA journal_mode=WAL`).Scan(&mode)
		})
		if err != nil {
			return 0, 0, s.wrap(err)
		}
	}
	err = s.retry(ctx, func() error {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if s.pg {
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrateLock)); err != nil {
				return err
			}
		}
		from, err = s.version(ctx, tx)
		if err != nil {
			return err
		}
		if from > SchemaVersion() {
			return &TooNewError{DB: s.name, Have: from, Binary: SchemaVersion()}
		}
		if from == SchemaVersion() {
			return nil
		}
		for v := from; v < SchemaVersion(); v++ {
			if _, err := tx.ExecContext(ctx, ddl(migrations[v], s.pg)); err != nil {
				return fmt.Errorf("schema version %d to %d: %w", v, v+1, err)
			}
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE loganom_schema SET version = ?`), SchemaVersion()); err != nil {
			return err
		}
		return tx.Commit()
	})
	if err != nil {
		var tn *TooNewError
		if errors.As(err, &tn) {
			return 0, 0, err
		}
		return 0, 0, s.wrap(err)
	}
	return from, SchemaVersion(), nil
}

// retryBusy runs f until it does not fail with SQLITE_BUSY or
// SQLITE_LOCKED, or busyDeadline has passed.
func retryBusy(ctx context.Context, f func() error) error {
	return sqlitex.RetryBusy(ctx, busyDeadline, f)
}

// pgRetryable: a transaction that failed so is tried again whole.
func pgRetryable(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	switch pe.Code {
	case "40001", // serialization_failure
		"40P01", // deadlock_detected
		"23505": // unique_violation: another process inserted the same row meanwhile
		return true
	}
	return false
}

// wrap names the database in an error.
func (s *store) wrap(err error) error {
	if err == nil {
		return nil
	}
	if c := sqlitex.Code(err); c == sqlite3.SQLITE_NOTADB || c == sqlite3.SQLITE_CORRUPT {
		return fmt.Errorf("state %s: damaged, or not an SQLite database: %w", s.name, err)
	}
	return fmt.Errorf("state %s: %w", s.name, err)
}
