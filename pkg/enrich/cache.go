package enrich

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" driver, pure Go
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/loganom/loganom/pkg/internal/sqlitex"
)

// Default lifetimes of cached answers.
const (
	DefaultTTLRDNS = 24 * time.Hour
	DefaultTTLGeo  = 30 * 24 * time.Hour
)

// SQLiteCache is the disk cache: an SQLite database in WAL mode, safe for
// several processes at once and for a kill at any moment (SQLite's journal
// keeps it whole; what was not committed yet is lost, nothing else).
// Writes are batched by one goroutine; Close commits what is left.
//
// It is only an optimisation: an answer that cannot be read is a miss, and
// one that cannot be stored (the database locked by another process for
// longer than the busy timeout, a full disk) is lost. Close reports those.
type SQLiteCache struct {
	Path    string
	TTLRDNS time.Duration
	TTLGeo  time.Duration    // of network providers' answers
	Now     func() time.Time // for tests; nil: time.Now
	// OnWriteError, when set, is given the answers that could not be
	// stored, at Close, instead of Close returning them as its error: a
	// cache that cannot store is a warning, not a failed run.
	OnWriteError func(error)
	// OnReadFault, when set, is told that reading the file failed under a
	// lookup (a fault of the mapped file: cut short by another program,
	// or a failing disk), after which the lookups are misses until the
	// cache is opened again (reopenAfter later, then twice as long after
	// each failure, up to reopenMax: a daemon does not run without its
	// cache until restarted; a batch run, shorter, to its end). It is told
	// of each fault (at most maxFaulted), and of the last, after which the
	// cache is not read again. It is called from the goroutine that was
	// reading.
	OnReadFault func(error)
	// OnReadAgain, when set, is told that the cache was opened again
	// after a fault, and answers again (from the goroutine of a lookup).
	OnReadAgain func(string)

	dsn   string
	dbp   atomic.Pointer[sql.DB] // the pool (pool()): another after a reopen
	rd    *sql.Conn              // the lookups' connection
	batch *sql.Stmt              // on rd: the rows of a JSON array of addresses

	// rmu serialises the lookups (GetRDNS and getRDNSBatch may be called
	// from several goroutines): they share rd, batch and mem.
	rmu    sync.Mutex
	closed bool        // by Close: the lookups are misses
	broken atomic.Bool // by a fault reading the mapped file (survive): the same too
	// After a fault (rmu held): when to open the lookups' connection
	// again (reopen), how long the wait after the next failure is, and
	// how many connections were left behind by faults (never closed:
	// their state is unknown).
	retryAt   time.Time
	retryWait time.Duration
	faulted   int
	faultedAt time.Time
	retired   []*sql.DB // the pools replaced by a reopen (closed by Close)
	pages     int64     // the database's pages at the opening
	puts      chan rdnsRow
	wg        sync.WaitGroup
	// pmu guards the sends on puts against Close closing it
	pmu        sync.RWMutex
	putsClosed bool

	// mem holds the rows that had not expired when the first answer was
	// asked for, when the cache is small (preloadPages): a cache of
	// reverse answers that live a day is about a day's addresses, and a
	// map answers far faster than a query. It is read-only once loaded.
	mem  map[netip.Addr]memRow
	load sync.Once

	mu   sync.Mutex
	err  error // the first write error
	lost int   // answers not stored

	closeOnce sync.Once
	closeErr  error
}

type memRow struct {
	v       RDNS
	expires int64
}

type rdnsRow struct {
	ip       string
	name     string
	verified int64 // see the schema
	expires  int64
}

// The verified column: 1 and 0 as a bool, and notChecked for a name not
// looked up forward (RDNS.Unchecked). A version that knows only 0 and 1
// cannot read notChecked into a bool: to it the row is a miss, which it
// looks up and replaces, checked (never taking the name for unverified).
const notChecked = -1

func verifiedColumn(v RDNS) int64 {
	switch {
	case v.Unchecked:
		return notChecked
	case v.Verified:
		return 1
	}
	return 0
}

func fromColumn(name string, verified int64) RDNS {
	return RDNS{Name: name, Verified: verified == 1, Unchecked: verified == notChecked}
}

const schema = `
CREATE TABLE IF NOT EXISTS rdns (
	ip       TEXT PRIMARY KEY,
	name     TEXT NOT NULL,    -- '' when the address has no PTR record
	verified INTEGER NOT NULL, -- 1, 0, or -1: not checked forward (no pattern could use the name)
	expires  INTEGER NOT NULL  -- unix seconds
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS geo (
	source  TEXT NOT NULL,     -- who answered, e.g. 'ipinfo'
	ip      TEXT NOT NULL,
	answer  TEXT NOT NULL,     -- JSON
	expires INTEGER NOT NULL,
	PRIMARY KEY (source, ip)
) WITHOUT ROWID;
`

// DefaultCachePath is loganom/cache.db in the user's cache directory.
func DefaultCachePath() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "loganom", "cache.db"), nil
}

// ErrCacheDamaged is in OpenCache's error when the file is not an SQLite
// database, or a damaged one (a truncated copy, say).
var ErrCacheDamaged = errors.New("damaged, or not an SQLite database")

// busyTimeout is how long a statement waits for another process's lock
// before it fails with SQLITE_BUSY; openDeadline how long OpenCache tries
// again when it does. Variables for the tests.
var (
	busyTimeout  = 10 * time.Second
	openDeadline = 10 * time.Second
)

// OpenCache opens (or creates) the cache at path. Several processes may
// open, even create, the same cache at once. A file that is not a cache
// gives an error that wraps ErrCacheDamaged.
func OpenCache(path string, ttlRDNS time.Duration) (*SQLiteCache, error) {
	if ttlRDNS <= 0 {
		ttlRDNS = DefaultTTLRDNS
	}
	if err := makeFile(path); err != nil {
		return nil, err
	}
	// The busy timeout is set on every connection of the pool before its
	// first statement; BEGIN IMMEDIATE makes a writing transaction wait
	// for the lock at its start, where waiting cannot deadlock.
	dsn := "file:" + uriPath(path) + fmt.Sprintf("?_pragma=busy_timeout(%d)&_pragma=synchronous(NORMAL)&_txlock=immediate", busyTimeout.Milliseconds())
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("cache %s: %w", path, err)
	}
	var pages int64
	if err := retryBusy(func() (err error) { pages, err = setUp(db); return err }); err != nil {
		db.Close()
		return nil, cacheError(path, err)
	}
	// The lookups keep a connection of their own.
	rd, err := db.Conn(context.Background())
	if err != nil {
		db.Close()
		return nil, cacheError(path, err)
	}
	// (an error leaves it reading with pread)
	rd.ExecContext(context.Background(), fmt.Sprintf("PRAGMA mmap_size=%d", mmapSize))
	batch, err := rd.PrepareContext(context.Background(), batchQuery)
	if err != nil {
		rd.Close()
		db.Close()
		return nil, cacheError(path, err)
	}
	c := &SQLiteCache{Path: path, TTLRDNS: ttlRDNS, dsn: dsn, rd: rd, batch: batch, pages: pages, puts: make(chan rdnsRow, 4096)}
	c.dbp.Store(db)
	c.wg.Add(1)
	go c.writer()
	return c, nil
}

// makeFile makes the cache's file, when missing, with mode 0600, which
// SQLite gives its -wal and -shm files too (an empty file is an empty
// database), and its directory.
func makeFile(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		f.Close()
	} else if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o077 != 0 {
		os.Chmod(path, fi.Mode().Perm()&^0o077) // made by an older version
	}
	return nil
}

// mmapSize is how much of the database file the lookups' connection
// reads through a memory mapping instead of a system call per page: half
// the cost of a batch. The mapped pages that were read count in the
// process's resident memory (they are the kernel's page cache, given back
// under pressure).
const mmapSize = 64 << 20

// batchQuery finds the rows of the addresses in a JSON array of strings,
// one primary key search each.
const batchQuery = `SELECT ip, name, verified, expires FROM rdns WHERE ip IN (SELECT value FROM json_each(?))`

// setUp switches the database to WAL and makes the tables if they are not
// there: a file that is not a database, or one whose header promises more
// pages than the file (and its WAL) holds, a truncated copy, fails here
// (SQLite checks that when it reads the header) rather than in the middle
// of a run. It returns the number of pages, which the header tells (no
// row is read: the cost does not grow with the cache).
func setUp(db *sql.DB) (int64, error) {
	var mode string
	if err := db.QueryRow(`PRAGMA journal_mode=WAL`).Scan(&mode); err != nil {
		return 0, err
	}
	if _, err := db.Exec(schema); err != nil {
		return 0, err
	}
	var pages int64
	return pages, db.QueryRow(`PRAGMA page_count`).Scan(&pages)
}

// retryBusy runs f until it does not fail with SQLITE_BUSY or
// SQLITE_LOCKED, or openDeadline has passed. The busy timeout does not
// cover every lock: switching a new database to WAL while another
// process makes it fails at once.
func retryBusy(f func() error) error {
	return sqlitex.RetryBusy(context.Background(), openDeadline, f)
}

func cacheError(path string, err error) error {
	if c := sqlitex.Code(err); c == sqlite3.SQLITE_CORRUPT || c == sqlite3.SQLITE_NOTADB {
		return fmt.Errorf("cache %s: %w: %v", path, ErrCacheDamaged, err)
	}
	return fmt.Errorf("cache %s: %w", path, err)
}

// uriPath escapes what an SQLite URI filename would take for a query, a
// fragment or an escape.
func uriPath(path string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(filepath.Clean(path))
}

func (c *SQLiteCache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// GetRDNS returns a stored answer that has not expired. A cache that
// cannot answer is a miss.
func (c *SQLiteCache) GetRDNS(ip netip.Addr) (RDNS, bool) {
	var v [1]RDNS
	var ok [1]bool
	c.getRDNSBatch([]netip.Addr{ip}, v[:], ok[:])
	return v[0], ok[0]
}

// getRDNSBatch looks up many addresses at once: found[i] and ok[i] are
// what GetRDNS(ips[i]) returns. The addresses not in memory are asked in
// queries of up to batchRows each, which cost far less per address than
// a query each. Every query is a read transaction of its own: it sees the
// answers other processes stored up to its start. A query that fails
// leaves its addresses misses. It may be called from any goroutine.
func (c *SQLiteCache) getRDNSBatch(ips []netip.Addr, found []RDNS, ok []bool) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if c.closed || c.broken.Load() && !c.reopen() {
		return
	}
	c.load.Do(c.loadMem)
	if c.broken.Load() {
		return // the load itself failed: the connection is not used again
	}
	defer c.survive()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	now := c.now().Unix()
	var ask []int // indexes into ips of the addresses not in memory
	for i, ip := range ips {
		if m, hit := c.mem[ip]; hit && m.expires > now {
			found[i], ok[i] = m.v, true
			continue
		}
		// written by another process since the load, or not loaded
		ask = append(ask, i)
	}
	for len(ask) > 0 {
		n := min(len(ask), batchRows)
		if err := c.query(ips, ask[:n], found, ok, now); err != nil && n > 1 && !sqlitex.Busy(err) {
			// a damaged page, say, ends the query part way: the
			// addresses not answered are asked one by one, so that it
			// costs the answers it holds, no more (as when every
			// address was a query of its own). Not when another
			// process holds the file locked (each would wait for
			// busyTimeout).
			for _, i := range ask[:n] {
				if ok[i] {
					continue
				}
				if err := c.query(ips, []int{i}, found, ok, now); sqlitex.Busy(err) {
					break
				}
			}
		}
		ask = ask[n:]
	}
}

// survive recovers from a fault reading the mapped database file: the
// file was made shorter under the query (by another program: SQLite does
// not), or the disk failed. What was read before it stands, the lookups
// are misses until the cache is opened again (reopen), and the
// connection, whose state is unknown, is never used again (nor closed).
// Deferred by getRDNSBatch, with rmu held.
func (c *SQLiteCache) survive() {
	r := recover()
	if r == nil {
		return
	}
	if _, fault := r.(interface{ Addr() uintptr }); !fault {
		panic(r)
	}
	c.broken.Store(true)
	c.faultedAt = c.now()
	c.fault(fmt.Sprintf("reading the file failed (%v)", r))
}

// The lookups' connection is opened again reopenAfter after a fault, then
// twice as long after each failure (a fault again, or a file still
// damaged), up to reopenMax. Each fault leaves a connection behind (its
// state unknown, it is not closed): after maxFaulted of them the cache is
// not read again.
var (
	reopenAfter = time.Minute
	reopenMax   = time.Hour
)

const maxFaulted = 8

// fault notes a connection left behind by a fault (what says what), tells
// OnReadFault, and sets when to open it again. Called with rmu held.
func (c *SQLiteCache) fault(what string) {
	c.faulted++
	c.retryWait = nextWait(c.retryWait)
	c.retryAt = c.now().Add(c.retryWait)
	if c.OnReadFault == nil {
		return
	}
	if c.faulted >= maxFaulted {
		c.OnReadFault(fmt.Errorf("cache %s: %s: the addresses are looked up instead; after %d faults, it is not read again until the next run", c.Path, what, c.faulted))
		return
	}
	c.OnReadFault(fmt.Errorf("cache %s: %s: the addresses are looked up instead; it is not read again until it is opened again, in %s", c.Path, what, c.retryWait))
}

func nextWait(w time.Duration) time.Duration {
	if w == 0 {
		return reopenAfter
	}
	return min(2*w, reopenMax)
}

// pool is the database's connections: the one OpenCache made, or the
// last reopen's.
func (c *SQLiteCache) pool() *sql.DB { return c.dbp.Load() }

// reopen opens the cache again after a fault, when it is time (retryAt)
// and not too many connections were left behind, and tells whether it
// answers again. The file is checked first as OpenCache checks it, on a
// connection that waits for locks a moment only (a lookup waits for
// this): a file cut short, whose header promises more pages than it
// holds, fails; one deleted is made again, empty. Then a new pool (the
// old one's connections may hold a file deleted meanwhile; they are
// closed, but for the one left behind) and a new connection for the
// lookups, which reads the answers whole, under the same guard as a
// lookup: a fault leaves it behind too. A failure is tried again later
// (nextWait). Called by getRDNSBatch, with rmu held.
func (c *SQLiteCache) reopen() (ok bool) {
	if c.faulted >= maxFaulted || c.now().Before(c.retryAt) {
		return false
	}
	var db *sql.DB
	var rd *sql.Conn
	failed := func() bool {
		if rd != nil {
			rd.Close()
		}
		if db != nil {
			db.Close()
		}
		c.retryWait = nextWait(c.retryWait)
		c.retryAt = c.now().Add(c.retryWait)
		return false
	}
	if makeFile(c.Path) != nil {
		return failed()
	}
	short := strings.Replace(c.dsn, fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()), fmt.Sprintf("busy_timeout(%d)", reopenBusy.Milliseconds()), 1)
	probe, err := sql.Open("sqlite", short)
	if err != nil {
		return failed()
	}
	_, err = setUp(probe)
	probe.Close()
	if err != nil {
		return failed()
	}
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		if _, fault := r.(interface{ Addr() uintptr }); !fault {
			panic(r)
		}
		ok = false
		c.fault(fmt.Sprintf("reading the file failed again, opened again after the fault of %s (%v)", c.faultedAt.Format(time.DateTime), r))
		c.faultedAt = c.now()
		// db stays open: rd, left behind, is one of its connections
	}()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	ctx := context.Background()
	if db, err = sql.Open("sqlite", c.dsn); err != nil {
		return failed()
	}
	if rd, err = db.Conn(ctx); err != nil {
		return failed()
	}
	rd.ExecContext(ctx, fmt.Sprintf("PRAGMA mmap_size=%d", mmapSize))
	var rows int64
	if err := rd.QueryRowContext(ctx, `SELECT count(*) FROM rdns`).Scan(&rows); err != nil {
		return failed()
	}
	batch, err := rd.PrepareContext(ctx, batchQuery)
	if err != nil {
		return failed()
	}
	// the connection left behind by the fault stays as it is: not closed
	c.rd, c.batch = rd, batch
	// The old pool is retired, not closed: the writer, PutGeo, GetGeo,
	// Stats or Prune may have taken it (pool()) just before the swap, and
	// a closed pool fails them ("sql: database is closed": answers lost).
	// Its idle connections are closed now, the others once let go; Close
	// closes it.
	old := c.dbp.Swap(db)
	old.SetMaxIdleConns(0)
	c.retired = append(c.retired, old)
	c.broken.Store(false)
	if c.OnReadAgain != nil {
		c.OnReadAgain(fmt.Sprintf("cache %s: opened again after the fault of %s; it answers again (%d answers)", c.Path, c.faultedAt.Format(time.DateTime), rows))
	}
	return true
}

// reopenBusy is how long reopen's check waits for a lock.
var reopenBusy = 200 * time.Millisecond

// memRDNS answers from memory, without a query or a lock, when the cache
// was loaded whole and holds an answer for ip that has not expired; else
// it is a miss, for getRDNSBatch to ask the database (another process may
// have stored it since). The first call loads the cache (getRDNSBatch's
// too). Safe for concurrent use.
func (c *SQLiteCache) memRDNS(ip netip.Addr) (RDNS, bool) {
	c.load.Do(c.loadMem)
	if m, ok := c.mem[ip]; ok && m.expires > c.now().Unix() {
		return m.v, true
	}
	return RDNS{}, false
}

// afterRow, when set (by tests), is called after each row a batch query
// or the load (loadMem) reads.
var afterRow func()

// batchRows is the most addresses one query asks for.
const batchRows = 512

// query asks the database for the addresses ips[i] of the indexes ask.
// Its error is the query's: the addresses it had not answered then are
// misses. Called with rmu held.
func (c *SQLiteCache) query(ips []netip.Addr, ask []int, found []RDNS, ok []bool, now int64) error {
	byText := make(map[string]int, len(ask))
	texts := make([]string, len(ask))
	list := make([]byte, 0, 24*len(ask))
	list = append(list, '[')
	for k, i := range ask {
		text := ips[i].String()
		texts[k] = text
		if _, dup := byText[text]; dup {
			continue // (answered below, by the first)
		}
		byText[text] = i
		if k > 0 {
			list = append(list, ',')
		}
		list = appendJSONString(list, text)
	}
	list = append(list, ']')
	rows, err := c.batch.Query(string(list))
	if err != nil {
		return err // misses
	}
	// (closed at the end, not deferred: not after a fault, see survive)
	for rows.Next() {
		var ip, name string
		var verified, expires int64
		if afterRow != nil {
			afterRow()
		}
		if rows.Scan(&ip, &name, &verified, &expires) != nil || expires <= now {
			continue
		}
		if i, asked := byText[ip]; asked {
			found[i], ok[i] = fromColumn(name, verified), true
		}
	}
	err = rows.Err()
	rows.Close()
	// an address asked twice: the answer of its first
	for k, i := range ask {
		if j := byText[texts[k]]; j != i && !ok[i] {
			found[i], ok[i] = found[j], ok[j]
		}
	}
	return err
}

// appendJSONString appends s as a JSON string. An address's text is
// digits, letters, colons and dots, but a zone (fe80::1%eth0) may hold
// anything: json.Marshal escapes what is not plain.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// preloadPages is the largest cache (in pages of the database file, about
// 65 reverse answers each) that is loaded whole; a larger one is asked in
// batches (getRDNSBatch). Loading costs about as much per row as a batch
// query costs per address asked, and a run asks a small cache about most
// of its addresses, a large one (months of answers, or every address of
// the log when loganom-enrich enriches the rejects too) about few of them.
var preloadPages int64 = 800

// Preload starts loading a small cache into memory (loadMem) in the
// background, now, rather than when the first address is asked for: a
// batch run (the wrapper from cron) that knows it will ask, loads while
// it starts and the parsers begin, instead of in the middle of its
// stages, which wait for it (some 10 ms for 5,000 answers). The rows
// stored by others between now and the first question are then asked of
// the database, as those of a large cache are.
func (c *SQLiteCache) Preload() {
	go c.load.Do(c.loadMem)
}

// loadMem reads every row that has not expired into memory, when the
// cache is small. Called once (c.load), before any lookup uses rd.
func (c *SQLiteCache) loadMem() {
	c.mem = map[netip.Addr]memRow{}
	if c.pages > preloadPages {
		return
	}
	defer c.survive()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	rows, err := c.rd.QueryContext(context.Background(), `SELECT ip, name, verified, expires FROM rdns WHERE expires > ?`, c.now().Unix())
	if err != nil {
		return // the queries of getRDNSBatch still answer
	}
	// (closed at the end, not deferred: not after a fault, see survive)
	for rows.Next() {
		if afterRow != nil {
			afterRow()
		}
		var ip, name string
		var verified int64
		var m memRow
		if rows.Scan(&ip, &name, &verified, &m.expires) != nil {
			continue
		}
		m.v = fromColumn(name, verified)
		if a, err := netip.ParseAddr(ip); err == nil {
			c.mem[a] = m
		}
	}
	rows.Close()
}

// PutRDNS stores an answer, including "no PTR" (an empty name) and a name
// not checked forward (which stays so: GetRDNS gives it back Unchecked).
// One that comes after Close (a lookup of a run stopped part way, still
// in flight) is not stored.
func (c *SQLiteCache) PutRDNS(ip netip.Addr, v RDNS) {
	c.pmu.RLock()
	defer c.pmu.RUnlock()
	if !c.putsClosed {
		c.puts <- rdnsRow{ip.String(), v.Name, verifiedColumn(v), c.now().Add(c.TTLRDNS).Unix()}
	}
}

// writer commits the answers it is given in batches.
func (c *SQLiteCache) writer() {
	defer c.wg.Done()
	var batch []rdnsRow
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case row, ok := <-c.puts:
			if !ok {
				c.commit(batch)
				return
			}
			batch = append(batch, row)
			if len(batch) >= 1000 {
				c.commit(batch)
				batch = batch[:0]
			}
		case <-tick.C:
			c.commit(batch)
			batch = batch[:0]
		}
	}
}

func (c *SQLiteCache) commit(batch []rdnsRow) {
	if len(batch) == 0 {
		return
	}
	err := func() error {
		tx, err := c.pool().Begin()
		if err != nil {
			return err
		}
		defer tx.Rollback()
		st, err := tx.Prepare(`INSERT OR REPLACE INTO rdns (ip, name, verified, expires) VALUES (?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		for _, r := range batch {
			if _, err := st.Exec(r.ip, r.name, r.verified, r.expires); err != nil {
				return err
			}
		}
		return tx.Commit()
	}()
	if err != nil {
		c.writeFailed(err, len(batch))
	}
}

// writeFailed notes n answers lost to err.
func (c *SQLiteCache) writeFailed(err error, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		c.err = err
	}
	c.lost += n
}

// GetGeo returns a stored answer of a network provider (source, e.g.
// "ipinfo") that has not expired.
func (c *SQLiteCache) GetGeo(source string, ip netip.Addr) (Geo, bool) {
	var text string
	var expires int64
	err := c.pool().QueryRow(`SELECT answer, expires FROM geo WHERE source = ? AND ip = ?`, source, ip.String()).Scan(&text, &expires)
	if err != nil || expires <= c.now().Unix() {
		return Geo{}, false
	}
	var g Geo
	if json.Unmarshal([]byte(text), &g) != nil {
		return Geo{}, false
	}
	return g, true
}

// PutGeo stores a network provider's answer for TTLGeo.
func (c *SQLiteCache) PutGeo(source string, ip netip.Addr, g Geo) {
	text, _ := json.Marshal(g)
	_, err := c.pool().Exec(`INSERT OR REPLACE INTO geo (source, ip, answer, expires) VALUES (?, ?, ?, ?)`,
		source, ip.String(), string(text), c.now().Add(c.ttlGeo()).Unix())
	if err != nil {
		c.writeFailed(err, 1)
	}
}

func (c *SQLiteCache) ttlGeo() time.Duration {
	if c.TTLGeo > 0 {
		return c.TTLGeo
	}
	return DefaultTTLGeo
}

// Close commits what is pending and closes the database. What could not
// be stored goes to OnWriteError if it is set, else Close returns it.
// Closing twice is harmless.
func (c *SQLiteCache) Close() error {
	c.closeOnce.Do(func() {
		c.load.Do(func() {}) // (waits for a load under way: Preload)
		c.pmu.Lock()
		c.putsClosed = true
		close(c.puts)
		c.pmu.Unlock()
		c.wg.Wait()
		c.rmu.Lock()
		c.closed = true
		if !c.broken.Load() {
			c.batch.Close()
			c.rd.Close()
		}
		retired := c.retired
		c.rmu.Unlock()
		err := c.pool().Close()
		for _, db := range retired {
			db.Close()
		}
		if err != nil {
			err = fmt.Errorf("cache %s: %w", c.Path, err)
		}
		c.mu.Lock()
		if c.err != nil {
			err = errors.Join(fmt.Errorf("cache %s: %d answers not stored: %w", c.Path, c.lost, c.err), err)
		}
		c.mu.Unlock()
		if err != nil && c.OnWriteError != nil {
			c.OnWriteError(err)
			err = nil
		}
		c.closeErr = err
	})
	return c.closeErr
}

// CacheStats describe the cache.
type CacheStats struct {
	Path        string
	Bytes       int64
	RDNS, Geo   int64 // rows
	Expired     int64 // rows past their lifetime
	NoPTR       int64 // "no PTR record" answers
	Unconfirmed int64 // names that do not resolve back
	NotChecked  int64 // names not looked up forward (no pattern could use them)
}

// Stats counts the rows.
func (c *SQLiteCache) Stats() (CacheStats, error) {
	s := CacheStats{Path: c.Path}
	now := c.now().Unix()
	err := c.pool().QueryRow(`SELECT count(*), coalesce(sum(expires <= ?), 0), coalesce(sum(name = ''), 0),
		coalesce(sum(name != '' AND verified = 0), 0), coalesce(sum(name != '' AND verified = ?), 0) FROM rdns`, now, notChecked).
		Scan(&s.RDNS, &s.Expired, &s.NoPTR, &s.Unconfirmed, &s.NotChecked)
	if err != nil {
		return s, err
	}
	var geoExpired int64
	if err := c.pool().QueryRow(`SELECT count(*), coalesce(sum(expires <= ?), 0) FROM geo`, now).Scan(&s.Geo, &geoExpired); err != nil {
		return s, err
	}
	s.Expired += geoExpired
	for _, suffix := range []string{"", "-wal"} {
		if fi, err := os.Stat(c.Path + suffix); err == nil {
			s.Bytes += fi.Size()
		}
	}
	return s, nil
}

// Prune deletes expired rows and returns how many.
func (c *SQLiteCache) Prune() (int64, error) {
	now := c.now().Unix()
	var n int64
	for _, table := range []string{"rdns", "geo"} {
		res, err := c.pool().Exec(`DELETE FROM `+table+` WHERE expires <= ?`, now)
		if err != nil {
			return n, err
		}
		k, _ := res.RowsAffected()
		n += k
	}
	_, err := c.pool().Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	return n, err
}
