package enrich

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" driver, pure Go
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
type SQLiteCache struct {
	Path    string
	TTLRDNS time.Duration
	TTLGeo  time.Duration    // of network providers' answers
	Now     func() time.Time // for tests; nil: time.Now

	db   *sql.DB
	get  *sql.Stmt
	puts chan rdnsRow
	wg   sync.WaitGroup

	// mem holds the rows that had not expired when the first answer was
	// asked for: a cache of reverse answers that live a day is about a
	// day's addresses, and a map answers far faster than a query.
	mem    map[netip.Addr]memRow
	loaded bool

	mu  sync.Mutex
	err error // the first write error

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
	verified bool
	expires  int64
}

const schema = `
CREATE TABLE IF NOT EXISTS rdns (
	ip       TEXT PRIMARY KEY,
	name     TEXT NOT NULL,    -- '' when the address has no PTR record
	verified INTEGER NOT NULL,
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

// OpenCache opens (or creates) the cache at path.
func OpenCache(path string, ttlRDNS time.Duration) (*SQLiteCache, error) {
	if ttlRDNS <= 0 {
		ttlRDNS = DefaultTTLRDNS
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("cache %s: %w", path, err)
	}
	if _, err := db.Exec(schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("cache %s: %w", path, err)
	}
	os.Chmod(path, 0o600)
	get, err := db.Prepare(`SELECT name, verified, expires FROM rdns WHERE ip = ?`)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("cache %s: %w", path, err)
	}
	c := &SQLiteCache{Path: path, TTLRDNS: ttlRDNS, db: db, get: get, puts: make(chan rdnsRow, 4096)}
	c.wg.Add(1)
	go c.writer()
	return c, nil
}

func (c *SQLiteCache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// GetRDNS returns a stored answer that has not expired. A cache that
// cannot answer is a miss. It is called from one goroutine (the stage's).
func (c *SQLiteCache) GetRDNS(ip netip.Addr) (RDNS, bool) {
	if !c.loaded {
		c.load()
	}
	now := c.now().Unix()
	if m, ok := c.mem[ip]; ok && m.expires > now {
		return m.v, true
	}
	// written by another process since the load?
	var v RDNS
	var expires int64
	if err := c.get.QueryRow(ip.String()).Scan(&v.Name, &v.Verified, &expires); err != nil {
		return RDNS{}, false
	}
	if expires <= now {
		return RDNS{}, false
	}
	return v, true
}

// preloadMax is the largest cache loaded whole; a larger one is asked
// address by address.
var preloadMax = 50000

// load reads every row that has not expired into memory, when there are
// not too many of them.
func (c *SQLiteCache) load() {
	c.loaded = true
	c.mem = map[netip.Addr]memRow{}
	var n int
	if c.db.QueryRow(`SELECT count(*) FROM rdns`).Scan(&n) != nil || n > preloadMax {
		return
	}
	rows, err := c.db.Query(`SELECT ip, name, verified, expires FROM rdns WHERE expires > ?`, c.now().Unix())
	if err != nil {
		return // the queries of GetRDNS still answer
	}
	defer rows.Close()
	for rows.Next() {
		var ip string
		var m memRow
		if rows.Scan(&ip, &m.v.Name, &m.v.Verified, &m.expires) != nil {
			continue
		}
		if a, err := netip.ParseAddr(ip); err == nil {
			c.mem[a] = m
		}
	}
}

// PutRDNS stores an answer, including "no PTR" (an empty name).
func (c *SQLiteCache) PutRDNS(ip netip.Addr, v RDNS) {
	c.puts <- rdnsRow{ip.String(), v.Name, v.Verified, c.now().Add(c.TTLRDNS).Unix()}
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
		tx, err := c.db.Begin()
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
		c.mu.Lock()
		if c.err == nil {
			c.err = fmt.Errorf("cache %s: %w", c.Path, err)
		}
		c.mu.Unlock()
	}
}

// GetGeo returns a stored answer of a network provider (source, e.g.
// "ipinfo") that has not expired.
func (c *SQLiteCache) GetGeo(source string, ip netip.Addr) (Geo, bool) {
	var text string
	var expires int64
	err := c.db.QueryRow(`SELECT answer, expires FROM geo WHERE source = ? AND ip = ?`, source, ip.String()).Scan(&text, &expires)
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
	_, err := c.db.Exec(`INSERT OR REPLACE INTO geo (source, ip, answer, expires) VALUES (?, ?, ?, ?)`,
		source, ip.String(), string(text), c.now().Add(c.ttlGeo()).Unix())
	if err != nil {
		c.mu.Lock()
		if c.err == nil {
			c.err = fmt.Errorf("cache %s: %w", c.Path, err)
		}
		c.mu.Unlock()
	}
}

func (c *SQLiteCache) ttlGeo() time.Duration {
	if c.TTLGeo > 0 {
		return c.TTLGeo
	}
	return DefaultTTLGeo
}

// Close commits what is pending and closes the database. It returns the
// first write error, if any.
// Closing twice is harmless.
func (c *SQLiteCache) Close() error {
	c.closeOnce.Do(func() {
		close(c.puts)
		c.wg.Wait()
		c.get.Close()
		err := c.db.Close()
		c.mu.Lock()
		defer c.mu.Unlock()
		c.closeErr = errors.Join(c.err, err)
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
}

// Stats counts the rows.
func (c *SQLiteCache) Stats() (CacheStats, error) {
	s := CacheStats{Path: c.Path}
	now := c.now().Unix()
	err := c.db.QueryRow(`SELECT count(*), coalesce(sum(expires <= ?), 0), coalesce(sum(name = ''), 0), coalesce(sum(name != '' AND NOT verified), 0) FROM rdns`, now).
		Scan(&s.RDNS, &s.Expired, &s.NoPTR, &s.Unconfirmed)
	if err != nil {
		return s, err
	}
	var geoExpired int64
	if err := c.db.QueryRow(`SELECT count(*), coalesce(sum(expires <= ?), 0) FROM geo`, now).Scan(&s.Geo, &geoExpired); err != nil {
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
		res, err := c.db.Exec(`DELETE FROM `+table+` WHERE expires <= ?`, now)
		if err != nil {
			return n, err
		}
		k, _ := res.RowsAffected()
		n += k
	}
	_, err := c.db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	return n, err
}
