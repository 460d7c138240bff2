package report

import (
	"net/url"
	"strings"
	"time"
)

// BlockMark says that the account was blocked when it was reported
// ([BLOCK] auto, or a block in force when the alert was sent), until when
// and by whom, and how the block is lifted.
type BlockMark struct {
	Until time.Time `json:"until,omitzero"` // zero: until unblocked
	By    string    `json:"by"`
	// New: this alert made the block (an automatic block); false: the
	// account was already blocked.
	New bool `json:"new,omitempty"`
	// Lift is how the block is lifted, a command and the API's request:
	// "loganom unblock bob@example.test, or DELETE /v1/blocks/bob@example.test".
	Lift string `json:"lift"`
}

// NewBlockMark is the mark of a block of user until until (zero: until
// unblocked) by by.
func NewBlockMark(user string, until time.Time, by string, made bool) *BlockMark {
	return &BlockMark{Until: until, By: by, New: made, Lift: Lift(user)}
}

// Lift says how an account's block is lifted: the command, with the name
// quoted for a POSIX shell where it needs to be (a name from the network
// must not run anything when the line is pasted), and the API's request,
// with the name escaped as a URL path segment.
func Lift(user string) string {
	cmd := "loganom unblock "
	if strings.HasPrefix(user, "-") {
		cmd += "-- " // a name, not a flag
	}
	return cmd + ShellQuote(user) + ", or DELETE /v1/blocks/" + url.PathEscape(user)
}

// ShellQuote quotes s for a POSIX shell when it holds anything but
// letters, digits and @%+=:,./_-: in single quotes, a single quote written
// as '\”.
func ShellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./_-") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// String is the mark in words: "blocked until 2026-11-29 10:32:00 UTC by
// loganom auto-block; to lift it: loganom unblock bob@example.test, or
// DELETE /v1/blocks/bob@example.test". The caller escapes it for its
// format (the name in it comes from the network).
func (m *BlockMark) String() string {
	s := "blocked"
	if !m.New {
		s = "already blocked"
	}
	if m.Until.IsZero() {
		s += " until unblocked"
	} else {
		s += " until " + m.Until.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	if m.By != "" {
		s += " by " + m.By
	}
	return s + "; to lift it: " + m.Lift
}
