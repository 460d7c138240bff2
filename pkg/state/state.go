// Package state is loganom's memory: the history of each account's
// addresses, the alerts (one per incident) with each channel's delivery,
// the blocks, and how far each log was read. One interface, Store, has two
// backends with the same schema and versioned migrations: SQLite, embedded
// (the default), and PostgreSQL, which several loganom processes on
// several mail servers share.
//
// Nothing outside this package writes SQL against the state.
package state

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Store is the state. Every method is safe for concurrent use, and other
// processes may use the same database at the same time (SQLite: on one
// machine; PostgreSQL: anywhere).
type Store interface {
	// Positions returns the saved positions of the named logs read by
	// instance (a mail server's name: several share one PostgreSQL),
	// by path; a log never read has none.
	Positions(ctx context.Context, instance string, paths []string) (map[string]Position, error)

	// Commit records one run in one transaction: its logins in the
	// history, its positions, and its anomalies as alerts (opening an
	// incident, or adding evidence to the open one). Either all of it is
	// recorded or none. When a position in run.Expect is no longer the
	// saved one (another run read the same log meanwhile), nothing is
	// recorded and the error is ErrConflict.
	Commit(ctx context.Context, run *Run) (*Outcome, error)

	// Pending returns the deliveries still to be made (status
	// DeliveryPending) of the alerts that instance opened ("": all),
	// oldest first, with their alert's payload. Each alert is delivered
	// by the instance that opened it, so that two mail servers sharing
	// a database never both send it.
	Pending(ctx context.Context, instance string) ([]Delivery, error)
	// SetDelivery records where one channel's delivery of alert stands:
	// status Sent, Pending (failed, to be tried again; errText kept as
	// Error) or GivenUp (errText, when not empty, replaces Error).
	// Attempts is incremented iff attempted: a send was made (a give-up
	// after a failed send counts that send; a give-up because the channel
	// is no longer configured does not). Escalation is the delivery's as
	// Pending read it: when the alert has grown more severe since (Commit
	// made the delivery pending again, for a message of its own), nothing
	// is recorded, and the newer delivery stays pending.
	SetDelivery(ctx context.Context, alert int64, channel string, escalation int, status DeliveryStatus, errText string, attempted bool) error

	// LockDeliveries waits (until ctx is done) for, and takes, the
	// exclusive lock on instance's deliveries on channel, so that two runs
	// never send the same pending alert at once, while a channel whose
	// server hangs holds no other channel's deliveries. It is held until
	// unlock is called (once; more calls do nothing) or the process dies,
	// even by kill -9. SQLite: flock(2) on the file
	// <db>.deliver.<hash of instance and channel>.lock; PostgreSQL: a
	// session advisory lock, on a connection of its own. Each also takes
	// the instance's lock of a loganom before per-channel locks
	// (<db>.deliver.lock, or the instance's advisory lock) shared, so
	// that such a one, while a new one upgrades, waits for them and they
	// for it. Call unlock before Close.
	LockDeliveries(ctx context.Context, instance, channel string) (unlock func(), err error)
	// LockRun waits (until ctx is done) for, and takes, the lock that a
	// batch run holds from the reading of its accounts' history to the
	// record of its logins, so that the runs of the mail servers sharing
	// the state (or of several logs on one) take turns there: the second
	// judges its accounts with the first's logins, an attack spread over
	// the servers is seen whole, however their runs overlap. It is held
	// until unlock is called (once; more calls do nothing) or the process
	// dies. SQLite: flock(2) on the file <db>.run.lock; PostgreSQL: a
	// session advisory lock, on a connection of its own. Call unlock
	// before Close.
	LockRun(ctx context.Context) (unlock func(), err error)
	// LockLogs takes, without waiting, the lock on each of instance's
	// logs at paths that a run holds from reading its saved position to
	// its last Commit: a daemon that follows a log holds it for as long
	// as it runs. When another process holds one, it takes none and the
	// error is a *LogBusyError, which names that process as it named
	// itself (holder: at most 63 bytes are kept). A run that found a log
	// held and read it all the same failed at its Commit (ErrConflict),
	// after the work; and a daemon so overtaken recorded nothing more.
	// SQLite: flock(2) on the file <db>.log.<hash of instance and
	// path>.lock, which says the holder; PostgreSQL: a session advisory
	// lock, on a connection of its own named holder (application_name).
	// Call unlock (once; more calls do nothing) before Close.
	LockLogs(ctx context.Context, instance string, paths []string, holder string) (unlock func(), err error)

	// History returns what the account did from each address, the most
	// recently seen first. user is the canonical name (record.CanonicalUser).
	History(ctx context.Context, user string) ([]Address, error)
	// Recent returns the history of many accounts at once: for each user
	// of since, the rows last seen at since[user] or later (the zero
	// time: all of them), by user, the most recently seen first. It makes
	// one query whatever the number of users.
	Recent(ctx context.Context, since map[string]time.Time) ([]Address, error)
	// Site calls fn with each row of history of every account, in no
	// order, in one query: what the site's accounts did, for the places
	// common to them (detect.Census) when a run sees few of them (an
	// hourly run). The Address is reused: fn copies what it keeps; an
	// error from fn ends the read and is returned.
	Site(ctx context.Context, fn func(*Address) error) error
	// HistorySince calls fn with each row of history written (made, or
	// added to) at since or later, by any process, in no order, and
	// returns the store's clock as the query began: a daemon asks, with
	// that time less a margin, for the rows written since it last asked
	// (the other mail servers' logins, and its own). A write is dated as
	// its statement began, and seen once its transaction commits: ask
	// from earlier than the last answer, by the longest a commit takes.
	// PostgreSQL: the server's clock, whatever the mail servers' say;
	// SQLite: this machine's. The Address is reused: fn copies what it
	// keeps; an error from fn ends the read and is returned.
	HistorySince(ctx context.Context, since time.Time, fn func(*Address) error) (asked time.Time, err error)
	// SharingOf returns what the accounts' logins showed of several
	// people using them (Run.Sharing), by user; an account of which
	// nothing was shown is not in the map. One query.
	SharingOf(ctx context.Context, users []string) (map[string]Sharing, error)
	// Failures returns the runs of failed logins (Run.Failures) whose
	// last failure is at or after since, of every instance, ordered by
	// address and first failure. One query.
	Failures(ctx context.Context, since time.Time) ([]Failure, error)
	// Alerts returns the alerts opened or added to since since (zero: all),
	// newest first, with their evidence and deliveries.
	Alerts(ctx context.Context, since time.Time) ([]Alert, error)
	// Ack closes the account's open incident, as acknowledged by by. It
	// returns false when none was open.
	Ack(ctx context.Context, user, by string, at time.Time) (bool, error)

	// AddBlock blocks an account (replacing a block it has); RemoveBlock
	// lifts it (false when there was none) and closes its open incident,
	// by by, for reason (may be empty: kept in the audit trail); Blocks
	// lists the blocks in force at now.
	AddBlock(ctx context.Context, b Block) error
	// PutBlock is AddBlock that returns the block it replaced: the one
	// in force at b.Created (nil: none, or one that had ended by itself),
	// read in the transaction of the write, so that of changes to one
	// account made at once each returns the block it overwrote, the one
	// before it in BlockAudit.
	PutBlock(ctx context.Context, b Block) (replaced *Block, err error)
	// PutBlockIf is PutBlock made only when ok allows it, decided in the
	// write's transaction: ok is given the account's block in force at
	// b.Created (nil: none) and its latest change in the audit trail
	// (nil: none, or pruned), read once the account's row is taken, so
	// that no other change of the account commits between them and the
	// write. When ok returns false nothing is written and put is false.
	// current is the block in force that ok was given (when put, the
	// block replaced). ok may be called more than once (a transaction
	// tried again), and must not use the Store.
	PutBlockIf(ctx context.Context, b Block, ok func(current *Block, latest *BlockChange) bool) (current *Block, put bool, err error)
	RemoveBlock(ctx context.Context, user, by, reason string, at time.Time) (bool, error)
	Blocks(ctx context.Context, now time.Time) ([]Block, error)
	// BlockAudit returns the changes to the blocks made at since or
	// later (zero: all), in the order they took effect, the latest
	// first (their times are their callers', and may be out of that
	// order): each AddBlock and each RemoveBlock that removed one is
	// recorded, in its transaction.
	BlockAudit(ctx context.Context, since time.Time) ([]BlockChange, error)

	// Stats counts what the state holds.
	Stats(ctx context.Context) (Stats, error)
	// Prune deletes the history not seen since before, what the logins
	// showed of several people using an account (Sharing) last counted
	// before it, the closed
	// alerts last changed before it, and the audit trail's changes made
	// before it, but for the block of each account that was still in
	// force at before (see BlockAudit). It closes as quiet (ClosedQuiet,
	// at the store's now) the open alerts whose last anomalous login and
	// last change are before it, but for one with a delivery pending
	// that was tried since (kept open until sent or given up); they are
	// deleted by a later prune.
	// It records the store's now as the last prune (LastPrune).
	Prune(ctx context.Context, before time.Time) (Pruned, error)
	// PruneIfDue prunes as Prune does, in one transaction with the check,
	// when the last prune (by any process) was made every or longer
	// before now, or never, or is later than now (a clock stepped back);
	// never when every <= 0. It records now as the last prune, and
	// returns whether it pruned. Several processes that call it at once
	// prune once: the others wait for it (SQLite), or find it under way
	// and leave it (PostgreSQL), and prune nothing.
	PruneIfDue(ctx context.Context, now, before time.Time, every time.Duration) (Pruned, bool, error)
	// LastPrune returns when the state was last pruned; zero: never.
	LastPrune(ctx context.Context) (time.Time, error)

	// Describe names the database for messages, without a password.
	Describe() string
	Close() error
}

// ErrConflict: another run recorded a position for the same log since
// this run read it; this run's results were not recorded.
var ErrConflict = errors.New("another loganom run read the same log meanwhile; this run recorded nothing")

// TooNewError: the database was made by a newer loganom; it is refused,
// and left untouched.
type TooNewError struct {
	DB     string
	Have   int // the database's schema version
	Binary int // the newest this binary knows
}

func (e *TooNewError) Error() string {
	return fmt.Sprintf("%s: schema version %d is newer than this loganom's (%d); the database is left untouched: upgrade loganom", e.DB, e.Have, e.Binary)
}

// Position is how far a log was read, and which file that was.
type Position struct {
	Path     string // the log's name as given (absolute)
	Dev, Ino uint64 // the file's identity when it was read
	Offset   int64  // bytes read and consumed (whole lines), uncompressed
	Size     int64  // the file's size then
	// FP is the hex SHA-256 of the first FPLen bytes of the file
	// (uncompressed): it finds the file again after a rotation renamed or
	// compressed it.
	FP    string
	FPLen int64
	// Updated is when the position was saved: when its log was read
	// (input.Mark.Saved), or the run's time when that is not known.
	Updated time.Time
}

// Login is what a run saw an account do from one address: one row of
// history, added to what is recorded.
type Login struct {
	User  string // canonical
	IP    string
	Count int64
	First time.Time // log time of the first and last login
	Last  time.Time
	// The enrichment, as last seen: replaces what is recorded when
	// Last is later than the recorded last.
	Country, City string
	HasLoc        bool
	Lat, Lon      float64
	AccuracyKM    int
	ASN           uint32
	Org           string
	RDNS          string
	RDNSVerified  *bool
	// Methods: the SASL mechanisms of the logins, a bitmask
	// (detect.MethodBit), OR'd into what is recorded; 0 unknown.
	Methods uint8
}

// Anomaly is an account that a run found anomalous.
type Anomaly struct {
	User string    // canonical
	Last time.Time // its last login of the run (log time)
	// Rule says why, in words ("2 or more addresses: 6 addresses in 6 countries").
	Rule      string
	Addresses []Evidence
	// Payload is the account as the channels send it (report.Account as
	// JSON), kept to send again after a failure.
	Payload []byte
	// Severity is the verdict's (detect.Severity as a number; 0 with the
	// original rule): an open incident that an anomaly more severe than
	// its alerts so far joins is alerted again (AlertState.Escalated).
	Severity int
}

// Evidence is one address of an anomaly.
type Evidence struct {
	IP      string
	Count   int64
	First   time.Time
	Last    time.Time
	Country string
	ASN     uint32
	Org     string
}

// Run is what Commit records.
type Run struct {
	Instance string
	Now      time.Time
	Logins   []Login
	// Positions are the new positions; Expect the ones the run started
	// from, by path (a path absent: none was saved).
	Positions []Position
	Expect    map[string]Position
	Anomalies []Anomaly
	// Channels are the channels a new alert is to be delivered on: a
	// pending delivery is recorded for each.
	Channels []string
	// RealertAfter: an open incident without new anomalous logins for
	// this long (log time) is closed, and new anomalous logins open
	// another. Default 7 days.
	RealertAfter time.Duration
	// Sharing is what the run's logins showed of several people using
	// each account (SharingOf), merged into what the state holds: of
	// each kind, the more days, the later day, the first pair.
	Sharing []Sharing
	// Failures are the runs of failed logins the run read (all addresses:
	// any may log in in a later run), merged into the state's by
	// instance, address and first failure; the instance's own whose
	// last failure is before FailuresBefore (non-zero) are deleted then:
	// they are out of its later runs' window (another instance's log may
	// lag behind: its rows are left to its runs, and to Prune).
	Failures       []Failure
	FailuresBefore time.Time
}

// Failure is a run of failed logins from an address, each within minutes
// of the one before (detect.FailureRun), read from Instance's log.
type Failure struct {
	Instance    string
	IP          string
	First, Last time.Time
	Count       int
}

// Sharing is what an account's logins showed of several people using it
// (detect.Sharing): the days its usual places were in use at once, out of
// reach of each other (Far) or by road only (Near), the last day counted
// (Unix days), and the first such pair, in words.
type Sharing struct {
	User              string
	FarDays, NearDays int
	FarDay, NearDay   int64
	FarPair, NearPair string
}

// Outcome is what Commit decided, per anomalous account.
type Outcome struct {
	Alerts map[string]AlertState // by user
}

// AlertState is where an anomaly stands among the incidents.
type AlertState struct {
	Alert  int64     // the alert (incident) it belongs to
	New    bool      // this run opened it: its deliveries are pending
	Opened time.Time // when the alert was opened
	// NewAddresses are the addresses this run added to an incident
	// already open.
	NewAddresses int
	// Known: nothing in the run is later than the incident's evidence,
	// or than its acknowledgement (a log read again): no new incident.
	Known bool
	// Escalated: the anomaly is more severe than what the incident (open)
	// was alerted with: its deliveries are pending again, with the
	// incident's newest account, under a key of their own (Delivery.Escalation).
	Escalated bool
}

// DeliveryStatus is where one channel's delivery of an alert stands.
type DeliveryStatus string

const (
	DeliveryPending DeliveryStatus = "pending"
	DeliverySent    DeliveryStatus = "sent"
	DeliveryGivenUp DeliveryStatus = "given_up"
)

// Delivery is one channel's delivery of one alert.
type Delivery struct {
	Alert     int64
	User      string
	Channel   string
	Status    DeliveryStatus
	Attempts  int
	Error     string    // the last attempt's
	Created   time.Time // when the alert was opened, or alerted again (Escalation): give_up_after counts from then
	Updated   time.Time
	Payload   []byte // the alert's Anomaly.Payload
	AlertRule string
	// Escalation is 0 for the alert as it was opened, n when the nth
	// anomaly more severe than the alert's made it pending again: a
	// message of its own (a key of its own), not a resend.
	Escalation int
}

// Alert is one incident of one account.
type Alert struct {
	ID       int64
	User     string
	Instance string // the instance that opened it
	Opened   time.Time
	Updated  time.Time // when evidence was last added
	Last     time.Time // log time of its last anomalous login
	Rule     string
	// Severity is the highest its deliveries were made for
	// (detect.Severity as a number; 0 with the original rule).
	Severity int
	Closed   time.Time // zero while open
	// CloseReason: "acknowledged", "unblocked", "quiet" (realert_after).
	CloseReason string
	ClosedBy    string
	Evidence    []Evidence
	Deliveries  []Delivery
}

// Address is one row of an account's history: what Logins added up.
type Address = Login

// Block is a blocked account.
type Block struct {
	User    string
	Reason  string
	Source  string // "manual" or "automatic"
	By      string
	Created time.Time
	Expires time.Time // zero: until unblocked
}

// BlockChange is one change to the blocks: the audit trail.
type BlockChange struct {
	At      time.Time
	User    string
	Action  string // "block" or "unblock"
	By      string
	Reason  string    // why: a block's reason, or an unblock's
	Source  string    // a block's: "manual" or "automatic"
	Expires time.Time // a block's end; zero: until unblocked

	id int64 // its place in the trail (Same)
}

// Same tells whether c and d are the same change of the audit trail, as
// read by BlockAudit or given to PutBlockIf's ok (not two changes alike);
// two nils are the same.
func (c *BlockChange) Same(d *BlockChange) bool {
	if c == nil || d == nil {
		return c == nil && d == nil
	}
	return c.id == d.id && c.id != 0
}

// Stats counts what the state holds.
type Stats struct {
	DB         string
	Schema     int
	Accounts   int64
	Addresses  int64
	Logins     int64
	Alerts     int64
	OpenAlerts int64
	Pending    int64 // deliveries
	GivenUp    int64
	Blocks     int64
	Positions  int64
	Bytes      int64 // the database's size, when known
}

// Pruned counts what Prune deleted.
type Pruned struct {
	Addresses, Alerts, Audit int64
	// Failures counts the runs of failed logins deleted.
	Failures int64
	// Quiet counts the open alerts closed as quiet: their last anomalous
	// login, and last change, before the cutoff.
	Quiet int64
}

// Options configure Open.
type Options struct {
	// NoMigrate refuses a database whose schema is older than this
	// binary's instead of upgrading it (loganom db migrate upgrades).
	NoMigrate bool
	// Now is the clock, for tests; nil means time.Now.
	Now func() time.Time
}
