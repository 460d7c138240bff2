package state

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/state/pgtest"
)

// t0 is the tests' clock: every time is given, none is read.
var t0 = time.Date(2026, 11, 27, 10, 32, 0, 123456789, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

const day = 24 * time.Hour

// backend makes a fresh, empty database and returns its DSN.
type backend struct {
	name string
	dsn  func(t testing.TB) string
}

var backends = []backend{
	{"sqlite", func(t testing.TB) string { return filepath.Join(t.TempDir(), "dir", "state.db") }},
	{"postgres", pgtest.DSN},
}

// TestStore is the suite, run against each backend.
func TestStore(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			for _, c := range suite {
				t.Run(c.name, func(t *testing.T) { c.f(t, b) })
			}
		})
	}
}

var suite = []struct {
	name string
	f    func(t *testing.T, b backend)
}{
	{"FreshMigrate", testFreshMigrate},
	{"ConcurrentOpen", testConcurrentOpen},
	{"UpgradeAndTooNew", testUpgradeAndTooNew},
	{"HistorySums", testHistorySums},
	{"Recent", testRecent},
	{"Positions", testPositions},
	{"ConflictRecordsNothing", testConflictRecordsNothing},
	{"IncidentOpen", testIncidentOpen},
	{"IncidentAddEvidence", testIncidentAddEvidence},
	{"IncidentQuietClose", testIncidentQuietClose},
	{"IncidentAckThenOld", testIncidentAckThenOld},
	{"IncidentAckThenNew", testIncidentAckThenNew},
	{"IncidentUnblock", testIncidentUnblock},
	{"IncidentBatch", testIncidentBatch},
	{"ConcurrentCommit", testConcurrentCommit},
	{"ConcurrentHistory", testConcurrentHistory},
	{"ConcurrentPositions", testConcurrentPositions},
	{"Deliveries", testDeliveries},
	{"LockDeliveries", testLockDeliveries},
	{"LockDeliveriesOld", testLockDeliveriesOld},
	{"LockLogs", testLockLogs},
	{"LockLogsReleased", testLockLogsReleased},
	{"LockLogsLost", testLockLogsLost},
	{"Prune", testPrune},
	{"PruneIfDue", testPruneIfDue},
	{"PruneIfDueConcurrent", testPruneIfDueConcurrent},
	{"Blocks", testBlocks},
	{"BlockAudit", testBlockAudit},
	{"PruneAudit", testPruneAudit},
	{"UpgradeFrom1", testUpgradeFrom1},
	{"UpgradeFrom2", testUpgradeFrom2},
	{"UpgradeFrom3", testUpgradeFrom3},
	{"Stats", testStats},
}

func open(t testing.TB, dsn string) *store {
	t.Helper()
	s, err := Open(context.Background(), dsn, Options{Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s.(*store)
}

func commit(t testing.TB, s Store, run *Run) *Outcome {
	t.Helper()
	out, err := s.Commit(context.Background(), run)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// count counts rows of the database itself.
func count(t testing.TB, s *store, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := s.db.QueryRow(s.q(query), args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func testFreshMigrate(t *testing.T, b backend) {
	ctx := context.Background()
	dsn := b.dsn(t)
	from, to, err := Migrate(ctx, dsn)
	v := SchemaVersion()
	if err != nil || from != 0 || to != v || to != 9 {
		t.Fatalf("Migrate = %d, %d, %v; want 0, 9, nil", from, to, err)
	}
	from, to, err = Migrate(ctx, dsn)
	if err != nil || from != v || to != v {
		t.Fatalf("Migrate again = %d, %d, %v; want %d, %d, nil", from, to, err, v, v)
	}
	s := open(t, dsn)
	st, err := s.Stats(ctx)
	if err != nil || st.Schema != v || st.DB != s.Describe() {
		t.Fatalf("Stats = %+v, %v", st, err)
	}
	if !IsPostgres(dsn) {
		// A committed "sent" survives a power loss: the WAL is synced at
		// every commit, on every connection of the pool.
		var conns []*sql.Conn
		for range 2 {
			c, err := s.db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			conns = append(conns, c)
			var mode string
			var sync int
			if err := c.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
				t.Fatal(err)
			}
			if err := c.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&sync); err != nil {
				t.Fatal(err)
			}
			if mode != "wal" || sync != 2 { // FULL
				t.Errorf("journal_mode %s, synchronous %d; want wal, 2 (FULL)", mode, sync)
			}
		}
		for path, want := range map[string]os.FileMode{dsn: 0o600, filepath.Dir(dsn): 0o700} {
			fi, err := os.Stat(path)
			if err != nil || fi.Mode().Perm() != want {
				t.Errorf("%s: mode %v, %v; want %v", path, fi.Mode().Perm(), err, want)
			}
		}
	}
}

// Two processes that open a new database at once both succeed.
func testConcurrentOpen(t *testing.T, b backend) {
	dsn := b.dsn(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			s, err := Open(context.Background(), dsn, Options{})
			if err == nil {
				_, err = s.Stats(context.Background())
				s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}

// snapshot is what a database holds that a refused open must not change:
// the SQLite file's bytes, or PostgreSQL's tables and columns and the
// schema version.
func snapshot(t *testing.T, dsn string) string {
	t.Helper()
	if !IsPostgres(dsn) {
		b, err := os.ReadFile(dsn)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, 2`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var a, c, d string
		rows.Scan(&a, &c, &d)
		fmt.Fprintln(&b, a, c, d)
	}
	var v int
	if err := db.QueryRow(`SELECT version FROM loganom_schema`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(&b, "version", v)
	return b.String()
}

// An older database is upgraded (or refused with NoMigrate); a newer one
// is refused and left as it was.
func testUpgradeAndTooNew(t *testing.T, b backend) {
	ctx := context.Background()
	dsn := b.dsn(t)
	v := SchemaVersion()
	s := open(t, dsn) // version v
	commit(t, s, &Run{Instance: "mx1", Now: t0, Logins: []Login{{User: "a", IP: "192.0.2.1", Count: 1, Last: t0}}})
	s.Close()

	v1 := migrations
	t.Cleanup(func() { migrations = v1 })
	// This binary knows a version v+1.
	migrations = append(slices.Clip(v1), `CREATE TABLE extra (x BIGINT); UPDATE history SET logins = logins + 1;`)

	_, err := Open(ctx, dsn, Options{NoMigrate: true})
	var old *OldSchemaError
	if !errors.As(err, &old) || old.Have != v || old.Binary != v+1 || !strings.Contains(err.Error(), "loganom db migrate") || !strings.Contains(err.Error(), Describe(dsn)) {
		t.Fatalf("Open(NoMigrate) of an older schema: %v", err)
	}
	from, to, err := Migrate(ctx, dsn)
	if err != nil || from != v || to != v+1 {
		t.Fatalf("Migrate = %d, %d, %v; want %d, %d", from, to, err, v, v+1)
	}
	s = open(t, dsn)
	if st, err := s.Stats(ctx); err != nil || st.Schema != v+1 || st.Logins != 2 {
		t.Fatalf("after the upgrade: %+v, %v", st, err)
	}
	s.Close()

	// Back to the binary of version v: the database is too new.
	migrations = v1
	before := snapshot(t, dsn)
	for _, f := range []func() error{
		func() error { _, err := Open(ctx, dsn, Options{}); return err },
		func() error { _, err := Open(ctx, dsn, Options{NoMigrate: true}); return err },
		func() error { _, _, err := Migrate(ctx, dsn); return err },
	} {
		err := f()
		var tn *TooNewError
		if !errors.As(err, &tn) || tn.Have != v+1 || tn.Binary != v || tn.DB != Describe(dsn) {
			t.Fatalf("too new: %v", err)
		}
		if !strings.Contains(err.Error(), "upgrade loganom") {
			t.Errorf("message %q", err)
		}
	}
	if after := snapshot(t, dsn); after != before {
		t.Fatal("the database too new was changed")
	}
}

func TestOpenNotState(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.db")
	os.WriteFile(garbage, bytes.Repeat([]byte("not a database\n"), 300), 0o600)
	_, err := Open(context.Background(), garbage, Options{})
	if err == nil || !strings.Contains(err.Error(), "not an SQLite database") || !strings.Contains(err.Error(), garbage) {
		t.Errorf("garbage: %v", err)
	}
	other := filepath.Join(dir, "other.db")
	db, err := sql.Open("sqlite", other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE mine (x)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = Open(context.Background(), other, Options{})
	if err == nil || !strings.Contains(err.Error(), "not a loganom state database") {
		t.Errorf("another application's database: %v", err)
	}
	if _, err := Open(context.Background(), "", Options{}); err == nil {
		t.Error("an empty DSN was accepted")
	}
}

func TestDescribe(t *testing.T) {
	for _, c := range []struct{ dsn, want string }{
		{"/var/lib/loganom/state.db", "/var/lib/loganom/state.db"},
		{"postgres://u:secret@db.example:5432/loganom?sslmode=disable&password=secret2", "postgres://u@db.example:5432/loganom"},
		{"postgresql://db.example/loganom", "postgresql://db.example/loganom"},
		{"postgres://u:secret@[::1", "postgresql database"},
	} {
		if got := Describe(c.dsn); got != c.want {
			t.Errorf("Describe(%q) = %q; want %q", c.dsn, got, c.want)
		}
	}
	for dsn, want := range map[string]bool{"postgres://h/d": true, "PostgreSQL://h/d": true, "/tmp/postgres://x": false, "state.db": false} {
		if IsPostgres(dsn) != want {
			t.Errorf("IsPostgres(%q) != %v", dsn, want)
		}
	}
}

// pgx's own messages do not show the password either.
func TestOpenPostgresHidesPassword(t *testing.T) {
	for _, dsn := range []string{
		"postgres://loganom:s3cr3t@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=5", // nothing listens on port 1
		"postgres://loganom:s3cr3t@127.0.0.1:1/postgres?sslmode=bogus",
	} {
		_, err := Open(context.Background(), dsn, Options{})
		if err == nil || strings.Contains(err.Error(), "s3cr3t") || !strings.HasPrefix(err.Error(), "state postgres://loganom@127.0.0.1:1/postgres: ") {
			t.Errorf("Open(%q) = %v", dsn, err)
		}
	}
}

func TestDefaultPath(t *testing.T) {
	home, _ := os.UserHomeDir()
	for _, c := range []struct{ xdg, want string }{
		{"/x/state", "/x/state/loganom/state.db"},
		{"", filepath.Join(home, ".local/state/loganom/state.db")},
		{"relative", filepath.Join(home, ".local/state/loganom/state.db")},
	} {
		t.Setenv("XDG_STATE_HOME", c.xdg)
		got, err := DefaultPath()
		if os.Geteuid() == 0 && c.xdg != "/x/state" {
			c.want = "/var/lib/loganom/state.db"
		}
		if err != nil || got != c.want {
			t.Errorf("XDG_STATE_HOME=%q: %q, %v; want %q", c.xdg, got, err, c.want)
		}
	}
}

func testHistorySums(t *testing.T, b backend) {
	ctx := context.Background()
	s := open(t, b.dsn(t))
	yes, no := true, false
	commit(t, s, &Run{Instance: "mx1", Now: at(time.Hour), Logins: []Login{
		{User: "a", IP: "192.0.2.1", Count: 3, First: at(0), Last: at(10 * time.Minute), Country: "DE", City: "Berlin", HasLoc: true, Lat: 52.5, Lon: 13.4, AccuracyKM: 20, ASN: 3320, Org: "DTAG", RDNS: "p1.dtag.example", RDNSVerified: &yes},
		{User: "a", IP: "192.0.2.1", Count: 2, First: at(-time.Hour), Last: at(5 * time.Minute)}, // the same pair twice in a run
		{User: "a", IP: "2001:db8::1", Count: 1, First: at(time.Minute), Last: at(time.Minute), RDNSVerified: &no},
		{User: "b", IP: "192.0.2.1", Count: 7, First: at(0), Last: at(0)},
	}})
	// A later run: counts add up, dates widen, enrichment from the later login.
	commit(t, s, &Run{Instance: "mx2", Now: at(2 * time.Hour), Logins: []Login{
		{User: "a", IP: "192.0.2.1", Count: 4, First: at(time.Hour), Last: at(90 * time.Minute), Country: "FR", ASN: 12322, Org: "Free"},
		{User: "a", IP: "2001:db8::1", Count: 1, First: at(-day), Last: at(-day), Country: "US"}, // older: keeps the enrichment
	}})
	// And no logins at all.
	commit(t, s, &Run{Instance: "mx1", Now: at(3 * time.Hour)})

	got, err := s.History(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	want := []Address{
		{User: "a", IP: "192.0.2.1", Count: 9, First: at(-time.Hour), Last: at(90 * time.Minute), Country: "FR", ASN: 12322, Org: "Free"},
		{User: "a", IP: "2001:db8::1", Count: 2, First: at(-day), Last: at(time.Minute), RDNSVerified: &no},
	}
	if len(got) != len(want) {
		t.Fatalf("History(a) = %+v", got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.First.Location() != time.UTC || g.Last.Location() != time.UTC {
			t.Errorf("times not in UTC: %v %v", g.First, g.Last)
		}
		if (g.RDNSVerified == nil) != (w.RDNSVerified == nil) || g.RDNSVerified != nil && *g.RDNSVerified != *w.RDNSVerified {
			t.Errorf("%s: RDNSVerified %v; want %v", w.IP, g.RDNSVerified, w.RDNSVerified)
		}
		g.RDNSVerified, w.RDNSVerified = nil, nil
		if g != w {
			t.Errorf("History(a)[%d] =\n %+v; want\n %+v", i, g, w)
		}
	}
	// The enrichment of the first run, kept whole while it was the latest.
	got, _ = s.History(ctx, "b")
	if len(got) != 1 || got[0].Count != 7 {
		t.Fatalf("History(b) = %+v", got)
	}
	commit(t, s, &Run{Instance: "mx1", Now: at(4 * time.Hour), Logins: []Login{
		{User: "c", IP: "192.0.2.9", Count: 1, Last: at(0), Country: "DE", City: "Berlin", HasLoc: true, Lat: 52.5, Lon: 13.4, AccuracyKM: 20, ASN: 3320, Org: "DTAG", RDNS: "p1.dtag.example", RDNSVerified: &yes},
	}})
	got, _ = s.History(ctx, "c")
	if len(got) != 1 || got[0].City != "Berlin" || !got[0].HasLoc || got[0].Lat != 52.5 || got[0].Lon != 13.4 || got[0].AccuracyKM != 20 || got[0].RDNS != "p1.dtag.example" || got[0].RDNSVerified == nil || !*got[0].RDNSVerified || !got[0].First.Equal(at(0)) {
		t.Fatalf("History(c) = %+v", got)
	}
	if got, _ := s.History(ctx, "nobody"); len(got) != 0 {
		t.Errorf("History(nobody) = %+v", got)
	}
	// Site: every account's rows, each as History has it
	var site []Address
	if err := s.Site(ctx, func(a *Address) error { site = append(site, *a); return nil }); err != nil {
		t.Fatal(err)
	}
	for _, user := range []string{"a", "b", "c"} {
		h, _ := s.History(ctx, user)
		var mine []Address
		for _, a := range site {
			if a.User == user {
				mine = append(mine, a)
			}
		}
		slices.SortFunc(mine, func(x, y Address) int { return -x.Last.Compare(y.Last) })
		if fmt.Sprint(deref(mine)) != fmt.Sprint(deref(h)) {
			t.Errorf("Site's rows of %s:\n %+v; History:\n %+v", user, deref(mine), deref(h))
		}
	}
	if len(site) != 4 {
		t.Errorf("Site: %d rows, want 4", len(site))
	}
	stop := errors.New("enough")
	n := 0
	if err := s.Site(ctx, func(*Address) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("Site with fn failing: %v after %d rows", err, n)
	}
}

// deref shows the rows with what RDNSVerified points to.
func deref(as []Address) []string {
	var out []string
	for _, a := range as {
		v := "nil"
		if a.RDNSVerified != nil {
			v = fmt.Sprint(*a.RDNSVerified)
		}
		a.RDNSVerified = nil
		out = append(out, fmt.Sprintf("%+v verified=%s", a, v))
	}
	return out
}

func testPositions(t *testing.T, b backend) {
	ctx := context.Background()
	s := open(t, b.dsn(t))
	p := Position{Path: "/var/log/mail.log", Dev: 1<<63 + 5, Ino: 1<<64 - 1, Offset: 1234, Size: 5000, FP: "ab12", FPLen: 1024}
	commit(t, s, &Run{Instance: "mx1", Now: at(0), Positions: []Position{p}})
	got, err := s.Positions(ctx, "mx1", []string{p.Path, "/var/log/other.log"})
	if err != nil {
		t.Fatal(err)
	}
	want := p
	want.Updated = at(0)
	if len(got) != 1 || got[p.Path] != want {
		t.Fatalf("Positions = %+v; want %+v", got, want)
	}
	if got, _ := s.Positions(ctx, "mx2", []string{p.Path}); len(got) != 0 {
		t.Errorf("another instance's positions: %+v", got)
	}
	// The next run, from the saved position.
	p2 := p
	p2.Offset = 4000
	commit(t, s, &Run{Instance: "mx1", Now: at(time.Hour), Positions: []Position{p2}, Expect: got})
	got2, _ := s.Positions(ctx, "mx1", []string{p.Path})
	if got2[p.Path].Offset != 4000 || !got2[p.Path].Updated.Equal(at(time.Hour)) {
		t.Fatalf("after the second run: %+v", got2)
	}
	// A run that started from the first position, or from none: conflict.
	for _, expect := range []map[string]Position{got, nil} {
		_, err := s.Commit(ctx, &Run{Instance: "mx1", Now: at(2 * time.Hour), Positions: []Position{p2}, Expect: expect})
		if !errors.Is(err, ErrConflict) {
			t.Errorf("Expect %v: %v; want ErrConflict", expect, err)
		}
	}
}

// anomaly is user's anomaly from the addresses given, its last login the
// latest of theirs.
func anomaly(user string, ev ...Evidence) Anomaly {
	a := Anomaly{User: user, Rule: "2 or more countries: " + fmt.Sprint(len(ev)), Payload: []byte(`{"user":"` + user + `"}`)}
	for _, e := range ev {
		if e.Last.After(a.Last) {
			a.Last = e.Last
		}
	}
	a.Addresses = ev
	return a
}

func ev(ip string, n int64, first, last time.Duration, country string) Evidence {
	return Evidence{IP: ip, Count: n, First: at(first), Last: at(last), Country: country, ASN: 64500, Org: "Example"}
}

func testConflictRecordsNothing(t *testing.T, b backend) {
	ctx := context.Background()
	s := open(t, b.dsn(t))
	p := Position{Path: "/var/log/mail.log", Offset: 10, Size: 10, FP: "aa", FPLen: 10}
	q := Position{Path: "/var/log/mail.log.1", Offset: 20, Size: 20, FP: "bb", FPLen: 20}
	commit(t, s, &Run{Instance: "mx1", Now: at(0), Positions: []Position{p}})
	before, _ := s.Stats(ctx)

	// The first position is fine and the second not: neither is saved,
	// nor the logins, nor the alert.
	p2, q2 := p, q
	p2.Offset, q2.Offset = 50, 60
	saved, _ := s.Positions(ctx, "mx1", []string{p.Path})
	_, err := s.Commit(ctx, &Run{
		Instance: "mx1", Now: at(time.Hour),
		Positions: []Position{p2, q2},
		Expect:    map[string]Position{p.Path: saved[p.Path], q.Path: q}, // q was never saved
		Logins:    []Login{{User: "x", IP: "192.0.2.1", Count: 5, Last: at(0)}},
		Anomalies: []Anomaly{anomaly("x", ev("192.0.2.1", 5, 0, 0, "DE"))},
		Channels:  []string{"mail"},
	})
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), s.Describe()) {
		t.Fatalf("Commit = %v; want ErrConflict naming the database", err)
	}
	after, _ := s.Stats(ctx)
	// What is recorded, not the database's size on disk, which the
	// server changes on its own (PostgreSQL's autovacuum, say).
	before.Bytes, after.Bytes = 0, 0
	if before != after {
		t.Errorf("a conflict recorded something: %+v, then %+v", before, after)
	}
	if got, _ := s.Positions(ctx, "mx1", []string{p.Path, q.Path}); len(got) != 1 || got[p.Path].Offset != 10 {
		t.Errorf("positions changed: %+v", got)
	}
	if h, _ := s.History(ctx, "x"); len(h) != 0 {
		t.Errorf("history recorded: %+v", h)
	}
	if a, _ := s.Alerts(ctx, time.Time{}); len(a) != 0 {
		t.Errorf("alert recorded: %+v", a)
	}
}

func testIncidentOpen(t *testing.T, b backend) {
	ctx := context.Background()
	s := open(t, b.dsn(t))
	a := anomaly("eve@example.org", ev("192.0.2.1", 3, 0, time.Hour, "DE"), ev("198.51.100.7", 2, 30*time.Minute, 2*time.Hour, "RU"))
	out := commit(t, s, &Run{Instance: "mx1", Now: at(3 * time.Hour), Anomalies: []Anomaly{a}, Channels: []string{"mail", "webhook", "mail"}})
	st := out.Alerts[a.User]
	if !st.New || st.Known || st.Alert == 0 || !st.Opened.Equal(at(3*time.Hour)) || len(out.Alerts) != 1 {
		t.Fatalf("Outcome = %+v", out)
	}
	alerts, err := s.Alerts(ctx, time.Time{})
	if err != nil || len(alerts) != 1 {
		t.Fatalf("Alerts = %+v, %v", alerts, err)
	}
	al := alerts[0]
	if al.ID != st.Alert || al.User != a.User || al.Instance != "mx1" || al.Rule != a.Rule || !al.Last.Equal(at(2*time.Hour)) ||
		!al.Opened.Equal(at(3*time.Hour)) || !al.Updated.Equal(at(3*time.Hour)) || !al.Closed.IsZero() || al.CloseReason != "" {
		t.Errorf("alert = %+v", al)
	}
	if len(al.Evidence) != 2 || al.Evidence[0] != a.Addresses[0] || al.Evidence[1] != a.Addresses[1] {
		t.Errorf("evidence = %+v; want %+v", al.Evidence, a.Addresses)
	}
	if len(al.Deliveries) != 2 || al.Deliveries[0].Channel != "mail" || al.Deliveries[1].Channel != "webhook" {
		t.Fatalf("deliveries = %+v", al.Deliveries)
	}
	for _, d := range al.Deliveries {
		if d.Status != DeliveryPending || d.Attempts != 0 || !bytes.Equal(d.Payload, a.Payload) || d.AlertRule != a.Rule || d.User != a.User || !d.Created.Equal(at(3*time.Hour)) {
			t.Errorf("delivery = %+v", d)
		}
	}
	// Since: a later time lists nothing.
	if later, _ := s.Alerts(ctx, at(4*time.Hour)); len(later) != 0 {
		t.Errorf("Alerts(since later) = %+v", later)
	}
	// Another account opens its own.
	out = commit(t, s, &Run{Instance: "mx2", Now: at(4 * time.Hour), Anomalies: []Anomaly{anomaly("bob", ev("192.0.2.1", 1, 0, 0, "DE"))}})
	if st2 := out.Alerts["bob"]; !st2.New || st2.Alert == st.Alert {
		t.Errorf("bob: %+v", st2)
	}
	if al, _ := s.Alerts(ctx, at(4*time.Hour)); len(al) != 1 || al[0].User != "bob" {
		t.Errorf("Alerts(since) = %+v", al)
	}
}

func testIncidentAddEvidence(t *testing.T, b backend) {
	ctx := context.Background()
	s := open(t, b.dsn(t))
	chans := []string{"mail"}
	first := commit(t, s, &Run{Now: at(3 * time.Hour), Channels: chans, Anomalies: []Anomaly{
		anomaly("u", ev("192.0.2.1", 3, 0, time.Hour, "DE"), ev("198.51.100.7", 2, 0, 2*time.Hour, "RU"))}}).Alerts["u"]

	type want struct {
		state                AlertState
		updated, last        time.Time
		counts               map[string]int64
		firstSeen, lastSeens map[string]time.Time
	}
	for _, c := range []struct {
		name string
		a    Anomaly
		now  time.Duration
		want want
	}{
		{
			name: "new address and later logins",
			a:    anomaly("u", ev("192.0.2.1", 4, 90*time.Minute, 5*time.Hour, "DE"), ev("203.0.113.5", 1, 4*time.Hour, 4*time.Hour, "CN")),
			now:  6 * time.Hour,
			want: want{
				state:   AlertState{Alert: first.Alert, Opened: at(3 * time.Hour), NewAddresses: 1},
				updated: at(6 * time.Hour), last: at(5 * time.Hour),
				counts: map[string]int64{"192.0.2.1": 7, "198.51.100.7": 2, "203.0.113.5": 1}, // 3+4: all after the recorded last
			},
		},
		{
			name: "the same log read again",
			a:    anomaly("u", ev("192.0.2.1", 5, 0, 5*time.Hour, "DE")),
			now:  7 * time.Hour,
			want: want{
				state:   AlertState{Alert: first.Alert, Opened: at(3 * time.Hour), Known: true},
				updated: at(6 * time.Hour), last: at(5 * time.Hour),
				counts: map[string]int64{"192.0.2.1": 7, "198.51.100.7": 2, "203.0.113.5": 1}, // overlapping: the larger
			},
		},
		{
			name: "an overlap that widens the dates",
			a:    anomaly("u", ev("198.51.100.7", 9, -time.Hour, 2*time.Hour, "RU")),
			now:  8 * time.Hour,
			want: want{
				state:   AlertState{Alert: first.Alert, Opened: at(3 * time.Hour), Known: true},
				updated: at(8 * time.Hour), last: at(5 * time.Hour),
				counts: map[string]int64{"192.0.2.1": 7, "198.51.100.7": 9, "203.0.113.5": 1},
			},
		},
		{
			name: "later logins from known addresses, within realert_after (default 7 days)",
			a:    anomaly("u", ev("203.0.113.5", 1, 6*day+5*time.Hour, 6*day+5*time.Hour, "CN")),
			now:  6*day + 6*time.Hour,
			want: want{
				state:   AlertState{Alert: first.Alert, Opened: at(3 * time.Hour)},
				updated: at(6*day + 6*time.Hour), last: at(6*day + 5*time.Hour),
				counts: map[string]int64{"192.0.2.1": 7, "198.51.100.7": 9, "203.0.113.5": 2},
			},
		},
	} {
		out := commit(t, s, &Run{Now: at(c.now), Channels: chans, Anomalies: []Anomaly{c.a}})
		if got := out.Alerts["u"]; got != c.want.state {
			t.Errorf("%s: %+v; want %+v", c.name, got, c.want.state)
		}
		alerts, _ := s.Alerts(ctx, time.Time{})
		if len(alerts) != 1 {
			t.Fatalf("%s: %d alerts", c.name, len(alerts))
		}
		al := alerts[0]
		if !al.Updated.Equal(c.want.updated) || !al.Last.Equal(c.want.last) || len(al.Deliveries) != 1 {
			t.Errorf("%s: alert %+v", c.name, al)
		}
		counts := map[string]int64{}
		for _, e := range al.Evidence {
			counts[e.IP] = e.Count
		}
		if fmt.Sprint(counts) != fmt.Sprint(c.want.counts) {
			t.Errorf("%s: counts %v; want %v", c.name, counts, c.want.counts)
		}
	}
	al, _ := s.Alerts(ctx, time.Time{})
	for _, e := range al[0].Evidence {
		if e.IP == "198.51.100.7" && (!e.First.Equal(at(-time.Hour)) || !e.Last.Equal(at(2*time.Hour))) {
			t.Errorf("dates not widened: %+v", e)
		}
	}
}

func testIncidentQuietClose(t *testing.T, b backend) {
	ctx := context.Background()
	s := open(t, b.dsn(t))
	realert := 24 * time.Hour
	first := commit(t, s, &Run{Now: at(time.Hour), RealertAfter: realert, Channels: []string{"mail"},
		Anomalies: []Anomaly{anomaly("u", ev("192.0.2.1", 1, 0, 0, "DE"))}}).Alerts["u"]
	// Exactly realert_after later: still the same incident.
	st := commit(t, s, &Run{Now: at(day + time.Hour), RealertAfter: realert, Channels: []string{"mail"},
		Anomalies: []Anomaly{anomaly("u", ev("192.0.2.1", 1, day, day, "DE"))}}).Alerts["u"]
	if st.New || st.Alert != first.Alert {
		t.Fatalf("within realert_after: %+v", st)
	}
	// Quiet for longer: a new incident, the old one closed at the run.
	st = commit(t, s, &Run{Now: at(3 * day), RealertAfter: realert, Channels: []string{"mail"},
		Anomalies: []Anomaly{anomaly("u", ev("192.0.2.1", 1, 2*day+time.Second, 2*day+time.Second, "DE"))}}).Alerts["u"]
	if !st.New || st.Alert == first.Alert || !st.Opened.Equal(at(3*day)) {
		t.Fatalf("after realert_after: %+v", st)
	}
	alerts, _ := s.Alerts(ctx, time.Time{})
	if len(alerts) != 2 {
		t.Fatalf("%d alerts", len(alerts))
	}
	for _, a := range alerts {
		switch a.ID {
		case first.Alert:
			if a.CloseReason != ClosedQuiet || !a.Closed.Equal(at(3*day)) {
				t.Errorf("old alert: %+v", a)
			}
		case st.Alert:
			if !a.Closed.IsZero() || len(a.Deliveries) != 1 || a.Deliveries[0].Status != DeliveryPending {
				t.Errorf("new alert: %+v", a)
			}
		}
	}
	// The old logins once more: known (they are not after the closed
	// incident's last, and the new incident has them).
	st = commit(t, s, &Run{Now: at(4 * day), RealertAfter: realert,
		Anomalies: []Anomaly{anomaly("u", ev("192.0.2.1", 1, 2*day+time.Second, 2*day+time.Second, "DE"))}}).Alerts["u"]
	if st.New || !st.Known {
		t.Errorf("read again: %+v", st)
	}
}

func testIncidentAckThenOld(t *testing.T, b backend) {
	ctx := context.Background()
	s := open(t, b.dsn(t))
	a := anomaly("u", ev("192.0.2.1", 3, 0, time.Hour, "DE"), ev("198.51.100.7", 2, 0, 2*time.Hour, "RU"))
	first := commit(t, s, &Run{Now: at(3 * time.Hour), Channels: []string{"mail"}, Anomalies: []Anomaly{a}}).Alerts["u"]
	if ok, err := s.Ack(ctx, "u", "postmaster", at(4*time.Hour)); !ok || err != nil {
		t.Fatalf("Ack = %v, %v", ok, err)
	}
	if ok, err := s.Ack(ctx, "u", "postmaster", at(4*time.Hour)); ok || err != nil {
		t.Fatalf("Ack again = %v, %v; want false", ok, err)
	}
	if ok, _ := s.Ack(ctx, "nobody", "postmaster", at(4*time.Hour)); ok {
		t.Fatal("Ack of nobody = true")
	}
	// Logins up to the acknowledgement, even from a new address: known.
	for i, a := range []Anomaly{a, anomaly("u", ev("203.0.113.5", 1, 3*time.Hour, 4*time.Hour, "CN"))} {
		st := commit(t, s, &Run{Now: at(5 * time.Hour), Channels: []string{"mail"}, Anomalies: []Anomaly{a}}).Alerts["u"]
		if want := (AlertState{Alert: first.Alert, Opened: at(3 * time.Hour), Known: true}); st != want {
			t.Errorf("%d: %+v; want %+v", i, st, want)
		}
	}
	alerts, _ := s.Alerts(ctx, time.Time{})
	if len(alerts) != 1 || alerts[0].CloseReason != ClosedAcknowledged || alerts[0].ClosedBy != "postmaster" || !alerts[0].Closed.Equal(at(4*time.Hour)) {
		t.Fatalf("Alerts = %+v", alerts)
	}
}

func testIncidentAckThenNew(t *testing.T, b backend) {
	ctx := context.Background()
	s := open(t, b.dsn(t))
	first := commit(t, s, &Run{Now: at(3 * time.Hour), Channels: []string{"mail"},
		Anomalies: []Anomaly{anomaly("u", ev("192.0.2.1", 3, 0, time.Hour, "DE"))}}).Alerts["u"]
	s.Ack(ctx, "u", "postmaster", at(4*time.Hour))
	st := commit(t, s, &Run{Now: at(6 * time.Hour), Channels: []string{"mail"},
		Anomalies: []Anomaly{anomaly("u", ev("192.0.2.1", 1, 5*time.Hour, 5*time.Hour, "DE"))}}).Alerts["u"]
	if !st.New || st.Alert == first.Alert || st.Known {
		t.Fatalf("after the ack, newer logins: %+v", st)
	}
	if p, _ := s.Pending(ctx, ""); len(p) != 2 {
		t.Errorf("pending: %+v", p)
	}
}

func testIncidentUnblock(t *testing.T, b backend) {
	ctx := context.Background()
	s := open(t, b.dsn(t))
	first := commit(t, s, &Run{Now: at(3 * time.Hour), Anomalies: []Anomaly{anomaly("u", ev("192.0.2.1", 3, 0, time.Hour, "DE"))}}).Alerts["u"]
	if ok, _ := s.RemoveBlock(ctx, "u", "admin", "", at(3*time.Hour)); ok {
		t.Fatal("RemoveBlock of an account not blocked = true")
	}
	if err := s.AddBlock(ctx, Block{User: "u", Reason: "stolen password", Source: "automatic", By: "loganom", Created: at(3 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.RemoveBlock(ctx, "u", "admin", "", at(5*time.Hour)); !ok || err != nil {
		t.Fatalf("RemoveBlock = %v, %v", ok, err)
	}
	alerts, _ := s.Alerts(ctx, time.Time{})
	if len(alerts) != 1 || alerts[0].CloseReason != ClosedUnblocked || alerts[0].ClosedBy != "admin" || !alerts[0].Closed.Equal(at(5*time.Hour)) {
		t.Fatalf("Alerts = %+v", alerts)
	}
	if bl, _ := s.Blocks(ctx, at(5*time.Hour)); len(bl) != 0 {
		t.Errorf("Blocks = %+v", bl)
	}
	// Like an acknowledgement: up to the unblocking, known; later, new.
	st := commit(t, s, &Run{Now: at(6 * time.Hour), Anomalies: []Anomaly{anomaly("u", ev("203.0.113.1", 1, 4*time.Hour, 4*time.Hour, "CN"))}}).Alerts["u"]
	if !st.Known || st.Alert != first.Alert {
		t.Errorf("before the unblocking: %+v", st)
	}
	st = commit(t, s, &Run{Now: at(7 * time.Hour), Anomalies: []Anomaly{anomaly("u", ev("203.0.113.1", 1, 6*time.Hour, 6*time.Hour, "CN"))}}).Alerts["u"]
	if !st.New {
		t.Errorf("after the unblocking: %+v", st)
	}
}

// Two processes commit the same anomaly at once, 20 times: one alert.
// With the same logins (their rows of history are locked in turn) and
// without (in PostgreSQL, both try to open the alert at once); and with
// an anomaly that opens a new incident each round: one alert per round.
func testConcurrentCommit(t *testing.T, b backend) {
	for _, c := range []struct {
		name     string
		logins   bool
		newEvery bool
	}{{"logins", true, false}, {"no logins", false, false}, {"new incident each round", false, true}} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			dsn := b.dsn(t)
			stores := []*store{open(t, dsn), open(t, dsn)}
			const n = 20
			outs := make([][]AlertState, len(stores))
			errs := make([]error, len(stores))
			for j := range n {
				a := anomaly("u", ev("192.0.2.1", 3, 0, time.Hour, "DE"), ev("198.51.100.7", 2, 0, 2*time.Hour, "RU"))
				if c.newEvery {
					d := time.Duration(j) * 8 * day // more than realert_after apart
					a = anomaly("u", ev("192.0.2.1", 3, d, d, "DE"))
				}
				run := Run{Now: at(time.Duration(j) * 8 * day), Channels: []string{"mail"}, Anomalies: []Anomaly{a}}
				if c.logins {
					run.Logins = []Login{{User: "u", IP: "192.0.2.1", Count: 1, Last: at(0)}, {User: "v", IP: "192.0.2.1", Count: 1, Last: at(0)}}
				}
				var wg sync.WaitGroup
				for i, s := range stores {
					wg.Go(func() {
						r := run
						r.Instance = fmt.Sprint("mx", i)
						out, err := s.Commit(ctx, &r)
						if err != nil {
							errs[i] = err
							return
						}
						outs[i] = append(outs[i], out.Alerts["u"])
					})
				}
				wg.Wait()
				if err := errors.Join(errs...); err != nil {
					t.Fatal(err)
				}
			}
			alerts, _ := stores[0].Alerts(ctx, time.Time{})
			want := 1
			if c.newEvery {
				want = n
			}
			if len(alerts) != want {
				t.Fatalf("%d alerts; want %d", len(alerts), want)
			}
			ids := map[int64]bool{}
			for _, a := range alerts {
				ids[a.ID] = true
				if len(a.Deliveries) != 1 {
					t.Errorf("alert %d: deliveries %+v", a.ID, a.Deliveries)
				}
			}
			news := 0
			for _, o := range outs {
				for _, st := range o {
					if !ids[st.Alert] {
						t.Errorf("outcome of another alert: %+v", st)
					}
					if st.New {
						news++
					}
				}
			}
			if news != want {
				t.Errorf("%d outcomes New; want %d", news, want)
			}
			if c.logins {
				for _, u := range []string{"u", "v"} {
					if h, _ := stores[1].History(ctx, u); len(h) != 1 || h[0].Count != 2*n {
						t.Errorf("history of %s: %+v; want count %d", u, h, 2*n)
					}
				}
			}
		})
	}
}

// Two processes add the same many rows of history at once, new accounts
// in each round (PostgreSQL writes those by COPY, which fails on a row the
// other inserted meanwhile: the transaction is tried again) and known
// ones: every login counts once.
func testConcurrentHistory(t *testing.T, b backend) {
	ctx := context.Background()
	dsn := b.dsn(t)
	stores := []*store{open(t, dsn), open(t, dsn)}
	const rounds, users, perUser = 4, 150, 3
	for r := range rounds {
		var wg sync.WaitGroup
		errs := make([]error, len(stores))
		for i, s := range stores {
			run := Run{Instance: fmt.Sprint("mx", i), Now: at(time.Duration(r) * time.Hour)}
			for u := range users {
				// accounts u < r*users/rounds... : known from earlier rounds; the others new in this one
				user := fmt.Sprintf("u%03d", (u+r*users/2)%(2*users))
				for k := range perUser {
					run.Logins = append(run.Logins, Login{User: user, IP: fmt.Sprintf("192.0.2.%d", k+i), Count: 1, Last: at(time.Duration(r) * time.Hour)})
				}
			}
			wg.Go(func() { _, errs[i] = s.Commit(ctx, &run) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
	}
	// Each round, each store adds 1 login per (user, address) it names.
	want := map[string]int64{}
	for r := range rounds {
		for i := range stores {
			for u := range users {
				user := fmt.Sprintf("u%03d", (u+r*users/2)%(2*users))
				for k := range perUser {
					want[user+" "+fmt.Sprintf("192.0.2.%d", k+i)]++
				}
			}
		}
	}
	got := map[string]int64{}
	for u := range 2 * users {
		h, err := stores[0].History(ctx, fmt.Sprintf("u%03d", u))
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range h {
			got[a.User+" "+a.IP] += a.Count
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d rows of history; want %d", len(got), len(want))
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s: %d logins; want %d", k, got[k], n)
		}
	}
}

// Two processes that read the same log from the same position commit at
// once: one records its run, the other gets ErrConflict and records
// nothing.
func testConcurrentPositions(t *testing.T, b backend) {
	ctx := context.Background()
	dsn := b.dsn(t)
	stores := []*store{open(t, dsn), open(t, dsn)}
	const n = 20
	var saved map[string]Position
	path := "/var/log/mail.log"
	for j := range n {
		errs := make([]error, len(stores))
		var wg sync.WaitGroup
		for i, s := range stores {
			wg.Go(func() {
				_, errs[i] = s.Commit(ctx, &Run{Instance: "mx1", Now: at(time.Duration(j) * time.Hour),
					Positions: []Position{{Path: path, Offset: int64(j + 1)}}, Expect: saved,
					Logins: []Login{{User: "u", IP: "192.0.2.1", Count: 1, Last: at(0)}}})
			})
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, ErrConflict):
				t.Fatal(err)
			}
		}
		if ok != 1 {
			t.Fatalf("round %d: %d runs recorded; want 1", j, ok)
		}
		saved, _ = stores[0].Positions(ctx, "mx1", []string{path})
	}
	if h, _ := stores[0].History(ctx, "u"); len(h) != 1 || h[0].Count != n {
		t.Errorf("history %+v; want count %d", h, n)
	}
}

func testDeliveries(t *testing.T, b backend) {
	ctx := context.Background()
	s := open(t, b.dsn(t))
	chans := []string{"mail", "webhook"}
	a1 := commit(t, s, &Run{Now: at(time.Hour), Channels: chans, Anomalies: []Anomaly{anomaly("u1", ev("192.0.2.1", 1, 0, 0, "DE"))}}).Alerts["u1"]
	a2 := commit(t, s, &Run{Now: at(2 * time.Hour), Channels: chans, Anomalies: []Anomaly{anomaly("u2", ev("192.0.2.2", 1, 0, 0, "DE"))}}).Alerts["u2"]
	p, err := s.Pending(ctx, "")
	if err != nil || len(p) != 4 {
		t.Fatalf("Pending = %+v, %v", p, err)
	}
	// Oldest first.
	if p[0].Alert != a1.Alert || p[0].Channel != "mail" || p[1].Channel != "webhook" || p[2].Alert != a2.Alert || string(p[2].Payload) != `{"user":"u2"}` || p[2].User != "u2" {
		t.Errorf("Pending = %+v", p)
	}
	steps := []struct {
		alert     int64
		channel   string
		status    DeliveryStatus
		errText   string
		attempted bool
		attempts  int
		wantErr   string
		pending   int
	}{
		{a1.Alert, "mail", DeliveryPending, "connection refused", true, 1, "connection refused", 4},
		{a1.Alert, "mail", DeliveryPending, "timeout", true, 2, "timeout", 4},
		{a1.Alert, "mail", DeliverySent, "", true, 3, "", 3},
		{a1.Alert, "webhook", DeliveryPending, "503", true, 1, "503", 3},
		// given up without a send (the channel is no longer configured):
		// not an attempt; the last error stays when no reason is given
		{a1.Alert, "webhook", DeliveryGivenUp, "", false, 1, "503", 2},
		// given up after a failed send: that send counts
		{a2.Alert, "mail", DeliveryGivenUp, "421 try later", true, 1, "421 try later", 1},
		{a2.Alert, "webhook", DeliveryGivenUp, "channel no longer configured", false, 0, "channel no longer configured", 0},
	}
	for _, c := range steps {
		if err := s.SetDelivery(ctx, c.alert, c.channel, 0, c.status, c.errText, c.attempted); err != nil {
			t.Fatal(err)
		}
		alerts, _ := s.Alerts(ctx, time.Time{})
		var d Delivery
		for _, al := range alerts {
			for _, x := range al.Deliveries {
				if x.Alert == c.alert && x.Channel == c.channel {
					d = x
				}
			}
		}
		if d.Status != c.status || d.Attempts != c.attempts || d.Error != c.wantErr || !d.Updated.Equal(t0) {
			t.Errorf("after %s %q: %+v", c.status, c.errText, d)
		}
		if p, _ := s.Pending(ctx, ""); len(p) != c.pending {
			t.Errorf("after %s: %d pending; want %d", c.status, len(p), c.pending)
		}
	}
	st, _ := s.Stats(ctx)
	if st.Pending != 0 || st.GivenUp != 3 {
		t.Errorf("Stats = %+v", st)
	}
	for _, bad := range []struct {
		alert   int64
		channel string
		status  DeliveryStatus
	}{{a1.Alert + a2.Alert + 100, "mail", DeliverySent}, {a1.Alert, "sms", DeliverySent}, {a1.Alert, "mail", "lost"}} {
		if err := s.SetDelivery(ctx, bad.alert, bad.channel, 0, bad.status, "", true); err == nil || !strings.Contains(err.Error(), s.Describe()) {
			t.Errorf("SetDelivery(%v) = %v", bad, err)
		}
	}
}

func testPrune(t *testing.T, b backend) {
	ctx := context.Background()
	s := open(t, b.dsn(t))
	commit(t, s, &Run{Now: at(0), Logins: []Login{
		{User: "a", IP: "192.0.2.1", Count: 1, Last: at(-200 * day)},
		{User: "a", IP: "192.0.2.2", Count: 1, First: at(-200 * day), Last: at(-day)},
		{User: "b", IP: "192.0.2.1", Count: 1, Last: at(-181 * day)},
	}})
	mk := func(user string, last time.Duration) int64 {
		return commit(t, s, &Run{Now: at(last), Channels: []string{"mail"},
			Anomalies: []Anomaly{anomaly(user, ev("192.0.2.1", 1, last, last, "DE"))}}).Alerts[user].Alert
	}
	oldClosed := mk("old-closed", -200*day)
	s.Ack(ctx, "old-closed", "pm", at(-190*day))
	oldOpen := mk("old-open", -200*day)
	recentAck := mk("recent-ack", -200*day)
	s.Ack(ctx, "recent-ack", "pm", at(-day))
	recent := mk("recent", -day)
	s.Ack(ctx, "recent", "pm", at(0))
	// open, its last anomalous login old, but changed lately (a new
	// address of that time, read late): not quiet
	touched := mk("touched", -200*day)
	commit(t, s, &Run{Now: at(-day), Anomalies: []Anomaly{anomaly("touched", ev("192.0.2.9", 1, -200*day, -200*day, "FR"))}})

	p, err := s.Prune(ctx, at(-180*day))
	if err != nil || p != (Pruned{Addresses: 2, Alerts: 1, Quiet: 1}) {
		t.Fatalf("Prune = %+v, %v", p, err)
	}
	// the open alert quiet for longer than keep is closed, at the
	// prune's now, not deleted: its last login stays the cutoff of a log
	// read again, and a later anomaly opens a new incident
	byID := map[int64]Alert{}
	all, _ := s.Alerts(ctx, time.Time{})
	for _, a := range all {
		byID[a.ID] = a
	}
	if a := byID[oldOpen]; !a.Closed.Equal(t0) || a.CloseReason != ClosedQuiet {
		t.Errorf("old open alert after the prune: closed %v (%q); want %v (%q)", a.Closed, a.CloseReason, t0, ClosedQuiet)
	}
	if a := byID[touched]; !a.Closed.IsZero() {
		t.Errorf("alert changed since the cutoff closed at %v (%q)", a.Closed, a.CloseReason)
	}
	if st := commit(t, s, &Run{Now: at(0), Anomalies: []Anomaly{anomaly("old-open", ev("192.0.2.1", 1, -200*day, -200*day, "DE"))}}).Alerts["old-open"]; !st.Known || st.New {
		t.Errorf("the old incident's logins read again: %+v; want known", st)
	}
	if st := commit(t, s, &Run{Now: at(0), Anomalies: []Anomaly{anomaly("old-open", ev("192.0.2.1", 1, 0, 0, "DE"))}}).Alerts["old-open"]; !st.New || st.Alert == oldOpen {
		t.Errorf("a new anomaly after the quiet close: %+v; want a new incident", st)
	}
	if h, _ := s.History(ctx, "a"); len(h) != 1 || h[0].IP != "192.0.2.2" {
		t.Errorf("history of a: %+v", h)
	}
	alerts, _ := s.Alerts(ctx, time.Time{})
	var ids []int64
	for _, a := range alerts {
		ids = append(ids, a.ID)
	}
	slices.Sort(ids)
	if want := []int64{oldOpen, recentAck, recent, touched, ids[len(ids)-1]}; len(ids) != 5 || !slices.Equal(ids, want) {
		t.Errorf("alerts left %v; want %v (pruned %d)", ids, want, oldClosed)
	}
	for _, table := range []string{"evidence", "deliveries"} {
		if n := count(t, s, `SELECT count(*) FROM `+table+` WHERE alert_id = ?`, oldClosed); n != 0 {
			t.Errorf("%d rows of %s left of the pruned alert", n, table)
		}
		// 1 of each of 4 alerts, touched's second address, and the new
		// incident's address (delivered on no channel)
		if n, want := count(t, s, `SELECT count(*) FROM `+table), map[string]int64{"evidence": 6, "deliveries": 4}[table]; n != want {
			t.Errorf("%d rows of %s; want %d", n, table, want)
		}
	}
	if p, _ := s.Prune(ctx, at(-180*day)); p != (Pruned{}) {
		t.Errorf("Prune again = %+v", p)
	}
	// once closed for keep, it goes as the other closed alerts do
	if p, err := s.Prune(ctx, at(time.Second)); err != nil || p.Alerts != 3 || p.Quiet != 2 {
		t.Errorf("Prune after the close = %+v, %v; want 3 alerts deleted (old-open, recent-ack, recent), 2 closed (touched, the new one)", p, err)
	}
	if n := count(t, s, `SELECT count(*) FROM alerts WHERE id = ?`, oldOpen); n != 0 {
		t.Errorf("the quiet alert is left after a prune past its close")
	}
}

// testPruneIfDue: the last prune is recorded in the state, by Prune (the
// store's clock) and PruneIfDue (its now); PruneIfDue prunes only when it
// is every old or older, or never was, or is later than now; every 0:
// never.
func testPruneIfDue(t *testing.T, b backend) {
	ctx := context.Background()
	s := open(t, b.dsn(t))
	old := func(ip string) {
		t.Helper()
		commit(t, s, &Run{Now: at(0), Logins: []Login{{User: "a", IP: ip, Count: 1, Last: at(-400 * day)}}})
	}
	rows := func() int64 { t.Helper(); return count(t, s, `SELECT count(*) FROM history`) }
	last := func() time.Time {
		t.Helper()
		l, err := s.LastPrune(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	if l := last(); !l.IsZero() {
		t.Fatalf("a fresh state was last pruned %s, want never", l)
	}
	for _, c := range []struct {
		name     string
		now      time.Time
		every    time.Duration
		want     bool
		wantLast time.Time
	}{
		{"never pruned: due", at(0), day, true, at(0)},
		{"every 0: never", at(10 * day), 0, false, at(0)},
		{"a second short of every", at(day - time.Second), day, false, at(0)},
		{"every to the nanosecond", at(day), day, true, at(day)},
		{"every 6h, 6h later", at(day + 6*time.Hour), 6 * time.Hour, true, at(day + 6*time.Hour)},
		{"the last is later than now (a clock stepped back)", at(-3 * day), day, true, at(-3 * day)},
	} {
		old("192.0.2.9")
		p, done, err := s.PruneIfDue(ctx, c.now, c.now.Add(-180*day), c.every)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if done != c.want {
			t.Errorf("%s: pruned %v, want %v", c.name, done, c.want)
		}
		wantRows, wantP := int64(1), Pruned{}
		if c.want {
			wantRows, wantP = 0, Pruned{Addresses: 1}
		}
		if n := rows(); n != wantRows || p != wantP {
			t.Errorf("%s: %+v, %d rows left; want %+v, %d", c.name, p, n, wantP, wantRows)
		}
		if l := last(); !l.Equal(c.wantLast) {
			t.Errorf("%s: last pruned %s, want %s", c.name, l, c.wantLast)
		}
	}
	// loganom db prune (Prune) records the store's clock (t0)
	if _, err := s.Prune(ctx, at(-180*day)); err != nil {
		t.Fatal(err)
	}
	if l := last(); !l.Equal(t0) {
		t.Fatalf("after Prune: last pruned %s, want %s", l, t0)
	}
	if _, done, err := s.PruneIfDue(ctx, at(time.Hour), at(-180*day), day); err != nil || done {
		t.Fatalf("an hour after Prune: pruned %v, %v; want not due", done, err)
	}
}

// testPruneIfDueConcurrent: processes (stores of their own) that find a
// prune due at once prune once.
func testPruneIfDueConcurrent(t *testing.T, b backend) {
	ctx := context.Background()
	dsn := b.dsn(t)
	first := open(t, dsn)
	commit(t, first, &Run{Now: at(0), Logins: []Login{{User: "a", IP: "192.0.2.1", Count: 1, Last: at(-400 * day)}}})
	const n = 6
	stores := []*store{first}
	for range n - 1 {
		stores = append(stores, open(t, dsn))
	}
	var wg sync.WaitGroup
	results := make(chan bool, n)
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			_, done, err := stores[i].PruneIfDue(ctx, at(0), at(-180*day), day)
			if err != nil {
				errs <- err
			}
			results <- done
		})
	}
	wg.Wait()
	close(results)
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	pruned := 0
	for done := range results {
		if done {
			pruned++
		}
	}
	if pruned != 1 {
		t.Fatalf("%d of %d processes pruned, want 1", pruned, n)
	}
	if rows := count(t, first, `SELECT count(*) FROM history`); rows != 0 {
		t.Fatalf("%d rows left", rows)
	}
}

// openAtSchema opens dsn as a loganom of schema n made it (its first n
// migrations), for a test of the upgrade that follows.
func openAtSchema(t *testing.T, dsn string, n int) *store {
	t.Helper()
	all := migrations
	defer func() { migrations = all }()
	migrations = all[:n]
	return open(t, dsn)
}

// testUpgradeFrom2: a database of schema 2 (never pruned as far as it
// knows) upgrades to one whose first PruneIfDue prunes.
func testUpgradeFrom2(t *testing.T, b backend) {
	ctx := context.Background()
	dsn := b.dsn(t)
	s2 := openAtSchema(t, dsn, 2)
	// as loganom of schema 2 wrote it
	if _, err := s2.db.Exec(s2.q(`INSERT INTO history (account, ip, logins, first_seen, last_seen, country, city, has_loc, lat, lon, accuracy_km, asn, org, rdns, rdns_verified)
VALUES ('a', '192.0.2.1', 1, 0, ?, '', '', false, 0, 0, 0, 0, '', '', NULL)`), ns(at(-400*day))); err != nil {
		t.Fatal(err)
	}
	s2.Close()
	from, to, err := Migrate(ctx, dsn)
	if err != nil || from != 2 || to != SchemaVersion() {
		t.Fatalf("Migrate = %d, %d, %v", from, to, err)
	}
	s := open(t, dsn)
	if l, err := s.LastPrune(ctx); err != nil || !l.IsZero() {
		t.Fatalf("LastPrune after the upgrade = %s, %v; want never", l, err)
	}
	if p, done, err := s.PruneIfDue(ctx, at(0), at(-180*day), day); err != nil || !done || p != (Pruned{Addresses: 1}) {
		t.Fatalf("PruneIfDue after the upgrade = %+v, %v, %v", p, done, err)
	}
}

func testBlocks(t *testing.T, b backend) {
	ctx := context.Background()
	s := open(t, b.dsn(t))
	for _, bl := range []Block{
		{User: "a", Reason: "r1", Source: "manual", By: "admin", Created: at(0)},
		{User: "b", Reason: "r2", Source: "automatic", By: "loganom", Created: at(time.Hour), Expires: at(day)},
		{User: "c", Reason: "r3", Source: "manual", By: "admin", Created: at(2 * time.Hour), Expires: at(day)},
		{User: "c", Reason: "r3 again", Source: "manual", By: "root", Created: at(3 * time.Hour), Expires: at(2 * day)}, // replaces
	} {
		if err := s.AddBlock(ctx, bl); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		now  time.Time
		want []string
	}{
		{at(4 * time.Hour), []string{"a:r1:manual:admin:-", "b:r2:automatic:loganom:" + at(day).String(), "c:r3 again:manual:root:" + at(2*day).String()}},
		{at(day), []string{"a:r1:manual:admin:-", "c:r3 again:manual:root:" + at(2*day).String()}},
		{at(3 * day), []string{"a:r1:manual:admin:-"}},
	} {
		bl, err := s.Blocks(ctx, c.now)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, x := range bl {
			e := "-"
			if !x.Expires.IsZero() {
				e = x.Expires.String()
			}
			got = append(got, strings.Join([]string{x.User, x.Reason, x.Source, x.By, e}, ":"))
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("Blocks(%v) =\n %q; want\n %q", c.now, got, c.want)
		}
	}
	if st, _ := s.Stats(ctx); st.Blocks != 3 { // at t0
		t.Errorf("Stats.Blocks = %d", st.Blocks)
	}
}

func testStats(t *testing.T, b backend) {
	ctx := context.Background()
	s := open(t, b.dsn(t))
	if st, err := s.Stats(ctx); err != nil || st != (Stats{DB: s.Describe(), Schema: SchemaVersion(), Bytes: st.Bytes}) || st.Bytes <= 0 {
		t.Fatalf("empty: %+v, %v", st, err)
	}
	commit(t, s, &Run{Instance: "mx1", Now: at(0), Channels: []string{"mail", "webhook"},
		Positions: []Position{{Path: "/a"}, {Path: "/b"}},
		Logins: []Login{
			{User: "a", IP: "192.0.2.1", Count: 3, Last: at(0)},
			{User: "a", IP: "192.0.2.2", Count: 4, Last: at(0)},
			{User: "b", IP: "192.0.2.1", Count: 5, Last: at(0)},
		},
		Anomalies: []Anomaly{anomaly("a", ev("192.0.2.1", 3, 0, 0, "DE")), anomaly("b", ev("192.0.2.1", 5, 0, 0, "DE"))},
	})
	s.Ack(ctx, "b", "pm", at(time.Hour))
	s.AddBlock(ctx, Block{User: "a", Created: at(0)})
	st, err := s.Stats(ctx)
	want := Stats{DB: s.Describe(), Schema: SchemaVersion(), Accounts: 2, Addresses: 3, Logins: 12, Alerts: 2, OpenAlerts: 1, Pending: 4, Blocks: 1, Positions: 2, Bytes: st.Bytes}
	if err != nil || st != want {
		t.Fatalf("Stats =\n %+v, %v; want\n %+v", st, err, want)
	}
}

// Every change to the blocks is in the audit trail, in the change's
// transaction: who, when, what, why.
func testBlockAudit(t *testing.T, b backend) {
	ctx := context.Background()
	s := open(t, b.dsn(t))
	if a, err := s.BlockAudit(ctx, time.Time{}); err != nil || len(a) != 0 {
		t.Fatalf("empty: %v, %v", a, err)
	}
	s.AddBlock(ctx, Block{User: "u", Reason: "stolen password", Source: "automatic", By: "loganom", Created: at(time.Hour), Expires: at(25 * time.Hour)})
	s.AddBlock(ctx, Block{User: "u", Reason: "again", By: "root", Created: at(2 * time.Hour)})
	if ok, _ := s.RemoveBlock(ctx, "nobody", "root", "typo", at(3*time.Hour)); ok {
		t.Fatal("removed a block that is not")
	}
	s.RemoveBlock(ctx, "u", "admin", "password changed", at(4*time.Hour))
	a, err := s.BlockAudit(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range a {
		got = append(got, fmt.Sprintf("%v %s %s by %s (%s) %q until %v", c.At.Sub(t0), c.Action, c.User, c.By, c.Source, c.Reason, c.Expires.Sub(t0)))
	}
	want := []string{
		`4h0m0s unblock u by admin () "password changed" until -2026h`,
		`2h0m0s block u by root (manual) "again" until -2026h`,
		`1h0m0s block u by loganom (automatic) "stolen password" until 25h0m0s`,
	}
	for i := range want {
		want[i] = strings.Replace(want[i], "-2026h", time.Time{}.Sub(t0).String(), 1)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if a, _ := s.BlockAudit(ctx, at(2*time.Hour)); len(a) != 2 {
		t.Errorf("since 2h: %d changes", len(a))
	}
}

// Prune deletes the audit trail's changes made before its cutoff ([STATE]
// keep), as it does the history and the closed alerts, but for the record
// of a block in force at the cutoff or later (who made it, and why, stay
// known for as long as it lasts, and keep after): an unblock, a block
// ended, a block replaced or lifted before the cutoff, go.
func testPruneAudit(t *testing.T, b backend) {
	ctx := context.Background()
	s := open(t, b.dsn(t))
	add := func(user string, created, expires time.Duration, forever bool) {
		t.Helper()
		bl := Block{User: user, Reason: "r", By: "root", Created: at(created), Expires: at(expires)}
		if forever {
			bl.Expires = time.Time{}
		}
		if err := s.AddBlock(ctx, bl); err != nil {
			t.Fatal(err)
		}
	}
	unblock := func(user string, when time.Duration) {
		t.Helper()
		if ok, err := s.RemoveBlock(ctx, user, "root", "done", at(when)); err != nil || !ok {
			t.Fatalf("RemoveBlock(%s) = %v, %v", user, ok, err)
		}
	}
	add("ended", -200*day, -199*day, false)        // ended by itself long ago: pruned
	add("lifted", -200*day, 0, true)               // lifted long ago: both pruned
	unblock("lifted", -190*day)                    //
	add("forever", -200*day, 0, true)              // in force: kept
	add("long", -200*day, day, false)              // in force until tomorrow: kept
	add("until-cutoff", -200*day, -180*day, false) // in force at the cutoff: kept
	add("replaced", -200*day, 0, true)             // replaced long ago: the old one pruned
	add("replaced", -190*day, 0, true)             // (in force: kept)
	add("replaced-lately", -200*day, 0, true)      // replaced within keep: both kept
	add("replaced-lately", -10*day, 0, true)       //
	add("recent", -2*day, 0, true)                 // recent: both kept
	unblock("recent", -day)                        //
	add("old-then-lifted", -200*day, 0, true)      // lifted within keep: both kept
	unblock("old-then-lifted", -day)               //
	// a block made after an unblock by a clock behind the unblock's (two
	// instances on one PostgreSQL, a clock stepped back): in force, its
	// record is kept; the changes before it go
	add("skewed", -200*day, 0, true)
	unblock("skewed", -190*day)
	add("skewed", -191*day, 0, true)

	p, err := s.Prune(ctx, at(-180*day))
	if err != nil || p != (Pruned{Audit: 6}) {
		t.Fatalf("Prune = %+v, %v; want 6 changes of the audit", p, err)
	}
	a, err := s.BlockAudit(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range a {
		got = append(got, fmt.Sprintf("%s %s %d", c.Action, c.User, int64(c.At.Sub(t0)/day)))
	}
	slices.Sort(got)
	want := []string{
		"block forever -200", "block long -200", "block old-then-lifted -200", "block recent -2",
		"block replaced -190", "block replaced-lately -10", "block replaced-lately -200", "block skewed -191", "block until-cutoff -200",
		"unblock old-then-lifted -1", "unblock recent -1",
	}
	if !slices.Equal(got, want) {
		t.Errorf("audit left:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if p, _ := s.Prune(ctx, at(-180*day)); p != (Pruned{}) {
		t.Errorf("Prune again = %+v", p)
	}
	// the blocks themselves are not touched
	bs, err := s.Blocks(ctx, at(0))
	if err != nil || len(bs) != 5 {
		t.Errorf("blocks in force: %+v, %v; want forever, long, replaced, replaced-lately, skewed", bs, err)
	}
}

// A database of schema 1 (blocks and no audit) is upgraded with its
// blocks kept; the changes after are audited.
func testUpgradeFrom1(t *testing.T, b backend) {
	ctx := context.Background()
	dsn := b.dsn(t)
	s1 := openAtSchema(t, dsn, 1)
	// as loganom of schema 1 wrote it
	if _, err := s1.db.Exec(s1.q(`INSERT INTO blocks (account, reason, source, created_by, created, expires) VALUES ('old', '', 'manual', 'root', ?, NULL)`), ns(at(0))); err != nil {
		t.Fatal(err)
	}
	s1.Close()
	from, to, err := Migrate(ctx, dsn)
	if err != nil || from != 1 || to != SchemaVersion() {
		t.Fatalf("Migrate = %d, %d, %v", from, to, err)
	}
	s := open(t, dsn)
	if bl, err := s.Blocks(ctx, at(time.Hour)); err != nil || len(bl) != 1 || bl[0].User != "old" {
		t.Fatalf("blocks after the upgrade: %v, %v", bl, err)
	}
	s.RemoveBlock(ctx, "old", "root", "", at(time.Hour))
	if a, err := s.BlockAudit(ctx, time.Time{}); err != nil || len(a) != 1 || a[0].Action != "unblock" {
		t.Fatalf("audit after the upgrade: %v, %v", a, err)
	}
}

// testUpgradeFrom3: a database of schema 3 (no SASL mechanisms in the
// history) upgrades to one whose old rows' mechanisms are unknown (0), and
// whose rows then gather the mechanisms of the logins added (OR).
func testUpgradeFrom3(t *testing.T, b backend) {
	ctx := context.Background()
	dsn := b.dsn(t)
	s3 := openAtSchema(t, dsn, 3)
	// as loganom of schema 3 wrote it
	if _, err := s3.db.Exec(s3.q(`INSERT INTO history (account, ip, logins, first_seen, last_seen, country, city, has_loc, lat, lon, accuracy_km, asn, org, rdns, rdns_verified)
VALUES ('a', '192.0.2.1', 5, ?, ?, 'DE', '', false, 0, 0, 0, 3320, '', '', NULL)`), ns(at(-2*day)), ns(at(-day))); err != nil {
		t.Fatal(err)
	}
	s3.Close()
	from, to, err := Migrate(ctx, dsn)
	if err != nil || from != 3 || to != SchemaVersion() {
		t.Fatalf("Migrate = %d, %d, %v", from, to, err)
	}
	s := open(t, dsn)
	methods := func(want ...uint8) {
		t.Helper()
		h, err := s.History(ctx, "a")
		if err != nil {
			t.Fatal(err)
		}
		var got []uint8
		for _, a := range h {
			got = append(got, a.Methods)
		}
		r, err := s.Recent(ctx, map[string]time.Time{"a": {}})
		if err != nil {
			t.Fatal(err)
		}
		var gotR []uint8
		for _, a := range r {
			gotR = append(gotR, a.Methods)
		}
		if !slices.Equal(got, want) || !slices.Equal(gotR, want) {
			t.Fatalf("methods: History %v, Recent %v; want %v", got, gotR, want)
		}
	}
	methods(0)
	// 1 PLAIN, 2 LOGIN (detect.MethodBit): rows gather them, new rows
	// (COPY on PostgreSQL) and old ones (upsert) alike
	commit(t, s, &Run{Now: at(0), Logins: []Login{{User: "a", IP: "192.0.2.1", Count: 1, First: at(-time.Hour), Last: at(-time.Hour), Country: "DE", ASN: 3320, Methods: 1}}})
	methods(1)
	commit(t, s, &Run{Now: at(time.Hour), Logins: []Login{
		{User: "a", IP: "192.0.2.1", Count: 1, First: at(time.Hour), Last: at(time.Hour), Country: "DE", ASN: 3320, Methods: 2},
		{User: "b", IP: "192.0.2.9", Count: 1, First: at(time.Hour), Last: at(time.Hour), Methods: 2}}})
	methods(3)
	commit(t, s, &Run{Now: at(2 * time.Hour), Logins: []Login{{User: "a", IP: "192.0.2.1", Count: 1, First: at(2 * time.Hour), Last: at(2 * time.Hour)}}})
	methods(3)
	if h, err := s.History(ctx, "b"); err != nil || len(h) != 1 || h[0].Methods != 2 {
		t.Fatalf("b's history: %+v, %v", h, err)
	}
}
