package state

import "strings"

// The schema, the same in SQLite and PostgreSQL but for the words that
// dialect() replaces. Every time is a BIGINT of unix nanoseconds (UTC),
// in both: the same values, to the nanosecond, whichever the backend; a
// time that may be unset (closed, expires) is NULL then.
//
// migrations[i] upgrades a database from schema version i to i+1; the
// version is the one row of loganom_schema (a database without that table
// is version 0). A migration is never changed once released: a change is
// a new one.
var migrations = []string{
	// 0 -> 1
	`
CREATE TABLE loganom_schema (version INTEGER NOT NULL);
INSERT INTO loganom_schema (version) VALUES (0);

CREATE TABLE positions (
	instance    TEXT NOT NULL,
	path        TEXT NOT NULL,
	dev         BIGINT NOT NULL,  -- uint64 stored bit for bit
	ino         BIGINT NOT NULL,
	read_offset BIGINT NOT NULL,
	size        BIGINT NOT NULL,
	fp          TEXT NOT NULL,
	fp_len      BIGINT NOT NULL,
	updated     BIGINT NOT NULL,
	PRIMARY KEY (instance, path)
);

CREATE TABLE history (
	account       TEXT NOT NULL,
	ip            TEXT NOT NULL,
	logins        BIGINT NOT NULL,
	first_seen    BIGINT NOT NULL,
	last_seen     BIGINT NOT NULL,
	country       TEXT NOT NULL,
	city          TEXT NOT NULL,
	has_loc       BOOLEAN NOT NULL,
	lat           DOUBLE PRECISION NOT NULL,
	lon           DOUBLE PRECISION NOT NULL,
	accuracy_km   BIGINT NOT NULL,
	asn           BIGINT NOT NULL,
	org           TEXT NOT NULL,
	rdns          TEXT NOT NULL,
	rdns_verified BOOLEAN,        -- NULL: not checked
	PRIMARY KEY (account, ip)
);
CREATE INDEX history_last_seen ON history (last_seen);

CREATE TABLE alerts (
	id           {{ID}},
	account      TEXT NOT NULL,
	instance     TEXT NOT NULL,
	opened       BIGINT NOT NULL,
	updated      BIGINT NOT NULL,
	last_seen    BIGINT NOT NULL,
	rule         TEXT NOT NULL,
	payload      {{BLOB}} NOT NULL,
	closed       BIGINT,          -- NULL while open
	close_reason TEXT NOT NULL,
	closed_by    TEXT NOT NULL
);
-- One open incident per account.
CREATE UNIQUE INDEX alerts_open ON alerts (account) WHERE closed IS NULL;
CREATE INDEX alerts_account ON alerts (account, closed);
CREATE INDEX alerts_updated ON alerts (updated);

CREATE TABLE evidence (
	alert_id   BIGINT NOT NULL,
	ip         TEXT NOT NULL,
	logins     BIGINT NOT NULL,
	first_seen BIGINT NOT NULL,
	last_seen  BIGINT NOT NULL,
	country    TEXT NOT NULL,
	asn        BIGINT NOT NULL,
	org        TEXT NOT NULL,
	PRIMARY KEY (alert_id, ip)
);

CREATE TABLE deliveries (
	alert_id BIGINT NOT NULL,
	channel  TEXT NOT NULL,
	status   TEXT NOT NULL,
	attempts BIGINT NOT NULL,
	err_text TEXT NOT NULL,
	updated  BIGINT NOT NULL,
	PRIMARY KEY (alert_id, channel)
);
CREATE INDEX deliveries_status ON deliveries (status);

CREATE TABLE blocks (
	account    TEXT NOT NULL PRIMARY KEY,
	reason     TEXT NOT NULL,
	source     TEXT NOT NULL,
	created_by TEXT NOT NULL,
	created    BIGINT NOT NULL,
	expires    BIGINT            -- NULL: until unblocked
);
`,
	// 1 -> 2: the audit trail of the blocks.
	`
CREATE TABLE block_audit (
	id      {{ID}},
	at      BIGINT NOT NULL,
	account TEXT NOT NULL,
	action  TEXT NOT NULL,  -- block, unblock
	actor   TEXT NOT NULL,  -- who
	reason  TEXT NOT NULL,
	source  TEXT NOT NULL,  -- manual, automatic (a block)
	expires BIGINT          -- a block's end; NULL: until unblocked, or an unblock
);
CREATE INDEX block_audit_at ON block_audit (at);
`,
	// 2 -> 3: when the state was last pruned, by any process (a daemon, a
	// batch run, loganom db prune): one row; 0 = never. The batch runs
	// prune when it is older than [STATE] prune_every.
	`
CREATE TABLE last_prune (
	one BIGINT NOT NULL PRIMARY KEY CHECK (one = 1),
	at  BIGINT NOT NULL
);
INSERT INTO last_prune (one, at) VALUES (1, 0);
`,
	// 3 -> 4: the SASL mechanisms of a row's logins, a bitmask
	// (detect.MethodBit; merged by OR); 0 = unknown (rows from before).
	`
ALTER TABLE history ADD COLUMN methods BIGINT NOT NULL DEFAULT 0;
`,
	// 4 -> 5: the highest severity an alert was delivered with
	// (detect.Severity; 0: none, the original rule), so that a verdict
	// grown more severe is alerted again; taken from the rule's words for
	// the alerts there are. A delivery's escalation: 0 for the alert as
	// opened, n for the nth time it grew more severe (part of its key);
	// since when it is pending again then (0: since the alert was
	// opened), from when [NOTIFY] give_up_after counts.
	`
ALTER TABLE alerts ADD COLUMN severity BIGINT NOT NULL DEFAULT 0;
UPDATE alerts SET severity = CASE
	WHEN rule LIKE 'severity high:%' THEN 3
	WHEN rule LIKE 'severity medium:%' THEN 2
	WHEN rule LIKE 'severity low:%' THEN 1
	ELSE 0 END;
ALTER TABLE deliveries ADD COLUMN escalation BIGINT NOT NULL DEFAULT 0;
ALTER TABLE deliveries ADD COLUMN since BIGINT NOT NULL DEFAULT 0;
`,
	// 5 -> 6: what an account's logins showed of several people using
	// it (detect.Sharing: the days with its usual places in use at once,
	// which the history's rows, an address's first and last logins, do
	// not keep), per account; updated: the last day counted (log time).
	`
CREATE TABLE sharing (
	account   TEXT NOT NULL PRIMARY KEY,
	far_days  BIGINT NOT NULL,
	far_day   BIGINT NOT NULL,
	far_pair  TEXT NOT NULL,
	near_days BIGINT NOT NULL,
	near_day  BIGINT NOT NULL,
	near_pair TEXT NOT NULL,
	updated   BIGINT NOT NULL
);
`,
	// 6 -> 7: when a row of history was last written (the clock, not the
	// log's time), by any process: a daemon reads the rows written since
	// it last looked (HistorySince), to learn what the other mail
	// servers sharing the state saw of the accounts it holds in memory.
	// PostgreSQL: the server's clock, as each statement started (the
	// column's default, which the writes leave to it), so that the mail
	// servers' clocks need not agree; SQLite: the writer's (one
	// machine). 0: written before.
	// And the audit trail by account: the latest change of one account
	// (PutBlockIf) read without a scan of the whole trail.
	`
ALTER TABLE history ADD COLUMN recorded BIGINT NOT NULL DEFAULT 0;
{{RECORDED_DEFAULT}}
CREATE INDEX history_recorded ON history (recorded);
CREATE INDEX block_audit_account ON block_audit (account, id);
`,
	// 7 -> 8: an incident's evidence keeps, by address, the last count
	// merged into it as its sender counted it (sent_first: that count's
	// first login; sent_logins: the count): a sender counting on from the
	// same first login (a daemon's memory of the address, a batch run's
	// rows) adds what it counted since, where the larger count kept a
	// login of an address used again (mergeEvidence). 0: none yet.
	`
ALTER TABLE evidence ADD COLUMN sent_first BIGINT NOT NULL DEFAULT 0;
ALTER TABLE evidence ADD COLUMN sent_logins BIGINT NOT NULL DEFAULT 0;
`,
	// 8 -> 9: the failed logins by address, as runs (detect.FailureRun:
	// failures each within minutes of the one before), by the instance
	// whose log they were read from: a batch run pairs them with a login
	// from the address that a later run reads (failures, then success).
	// Kept for the window: each Commit that writes some drops those
	// older (Run.FailuresBefore), and Prune what it prunes.
	`
CREATE TABLE failures (
	instance   TEXT NOT NULL,
	ip         TEXT NOT NULL,
	first_seen BIGINT NOT NULL,
	last_seen  BIGINT NOT NULL,
	failures   BIGINT NOT NULL,
	PRIMARY KEY (instance, ip, first_seen)
);
CREATE INDEX failures_last_seen ON failures (last_seen);
`,
}

// pgNow is the PostgreSQL server's clock as the statement started, in
// unix nanoseconds (the history's recorded).
const pgNow = `(EXTRACT(EPOCH FROM statement_timestamp()) * 1000000000)::BIGINT`

// SchemaVersion is the newest schema this binary knows.
func SchemaVersion() int { return len(migrations) }

// ddl returns migration text in the dialect's words.
func ddl(text string, pg bool) string {
	if pg {
		return strings.NewReplacer("{{ID}}", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", "{{BLOB}}", "BYTEA",
			"{{RECORDED_DEFAULT}}", "ALTER TABLE history ALTER COLUMN recorded SET DEFAULT "+pgNow+";").Replace(text)
	}
	return strings.NewReplacer("{{ID}}", "INTEGER PRIMARY KEY AUTOINCREMENT", "{{BLOB}}", "BLOB", "{{RECORDED_DEFAULT}}", "").Replace(text)
}
