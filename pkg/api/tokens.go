package api

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"
	"time"
)

// MinTokenLen is the length a token must have at least: 16 characters
// (openssl rand -hex 32 makes 64).
const MinTokenLen = 16

// ConfigError is a setting of the API that cannot be used: Key names it
// (listen, token_file, cert, key), Value is its value, Hint (may be empty)
// says what to do.
type ConfigError struct {
	Key, Value string
	Err        error
	Hint       string
}

func (e *ConfigError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("[API] %s: %v", e.Key, e.Err)
	}
	return fmt.Sprintf("[API] %s %s: %v", e.Key, e.Value, e.Err)
}
func (e *ConfigError) Unwrap() error { return e.Err }

// token is one line of the token file: its name, its right, and the
// SHA-256 of the secret (every comparison is of 32 bytes, whatever the
// lengths).
type token struct {
	name  string
	right Right
	sum   [sha256.Size]byte
}

// Right is what a token may do: each route needs one (see routes), and a
// token has one, given by the third field of its line.
type Right uint8

// The rights, each including the ones before it.
const (
	// RightRead: the GET routes only (the blocks, an account, the
	// alerts, the document): for a SIEM, a dashboard.
	RightRead Right = iota + 1
	// RightBlock: every route, PUT and DELETE /v1/blocks/{user} too;
	// a token without a third field has it.
	RightBlock
)

func (r Right) String() string {
	switch r {
	case RightRead:
		return "read"
	case RightBlock:
		return "block"
	}
	return fmt.Sprintf("Right(%d)", uint8(r))
}

// parseRight reads the third field of a token's line: read or block,
// in lower case, as written.
func parseRight(s string) (Right, bool) {
	switch s {
	case "read":
		return RightRead, true
	case "block":
		return RightBlock, true
	}
	return 0, false
}

// rightsHint is the hint of an error in the third field.
const rightsHint = "the third field of a line is the token's right: read (the GET routes only) or block (every route: block and unblock too); without it, block"

// readTokens reads a token file: one token a line, "NAME TOKEN [RIGHT]"
// (NAME: 1 to 64 of A-Z a-z 0-9 . _ @ -; RIGHT: read or block, block
// when left out), or a bare "TOKEN", named "default", of the right
// block; blank lines and lines starting with # are skipped. A word in
// the place of RIGHT that is not one refuses the whole file (as any
// other error in it: a typo must not give a token more, or less, than
// meant). A token is at least
// MinTokenLen characters of A-Z a-z 0-9 - . _ ~ + / (RFC 6750's
// b64token, trailing = allowed). Names and tokens are unique. The file
// must be a regular file that neither its group nor others may read or
// write (mode 0600 or stricter), owned by the user the process runs as
// (or root), and hold at least one token.
//
// Nothing of a token is ever put in an error. It returns the file's
// identity too, to tell a change.

// fileID tells whether the token file changed since it was read.
type fileID struct {
	mtime time.Time
	size  int64
	mode  fs.FileMode
	ino   uint64
	uid   uint32 // a chown changes no other field
}

func fileIDOf(fi fs.FileInfo) fileID {
	uid, _ := owner(fi)
	return fileID{mtime: fi.ModTime(), size: fi.Size(), mode: fi.Mode(), ino: inode(fi), uid: uid}
}

func readTokens(path string) ([]token, fileID, error) {
	fail := func(err error, hint string) ([]token, fileID, error) {
		return nil, fileID{}, &ConfigError{Key: "token_file", Value: path, Err: err, Hint: hint}
	}
	if path == "" {
		return fail(errors.New("not set: every request needs a token"), "write one with: (umask 077; printf 'admin %s\\n' \"$(openssl rand -hex 32)\" > /etc/loganom/api-tokens), and set [API] token_file = /etc/loganom/api-tokens")
	}
	f, err := os.Open(path)
	if err != nil {
		return fail(err, "")
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fail(err, "")
	}
	if !fi.Mode().IsRegular() {
		return fail(errors.New("not a regular file"), "")
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fail(fmt.Errorf("mode %04o: group or others may read or change it", perm), "chmod 600 "+path)
	}
	if uid, ok := owner(fi); ok && uid != 0 && int(uid) != os.Geteuid() {
		// its owner may write it: add a token of their own
		return fail(fmt.Errorf("owned by uid %d, neither the user loganom runs as (uid %d) nor root", uid, os.Geteuid()), fmt.Sprintf("chown %d %s", os.Geteuid(), path))
	}
	id := fileIDOf(fi)
	if fi.Size() > 1<<20 {
		return fail(errors.New("larger than 1 MiB"), "")
	}
	var toks []token
	names := map[string]int{}
	sums := map[[sha256.Size]byte]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 4096), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		fields := strings.Fields(string(line))
		var name, secret string
		right := RightBlock
		switch len(fields) {
		case 1:
			name, secret = "default", fields[0]
		case 2:
			name, secret = fields[0], fields[1]
			if _, ok := parseRight(secret); ok {
				// "TOKEN read": the name would be the token, not to
				// be shown
				return fail(fmt.Errorf("line %d: a bare TOKEN has no right: want NAME TOKEN %s", n, secret), rightsHint)
			}
		case 3:
			name, secret = fields[0], fields[1]
			r, ok := parseRight(fields[2])
			if !ok {
				if !validName(name) {
					return fail(fmt.Errorf("line %d: the name %q: want 1 to 64 of A-Z a-z 0-9 . _ @ -", n, name), "")
				}
				if _, swapped := parseRight(secret); swapped || len(fields[2]) >= MinTokenLen {
					// the token in the third place: not shown
					return fail(fmt.Errorf("line %d (%s): the third field is not a right, and may be the token (not shown): want NAME TOKEN RIGHT, in that order", n, name), rightsHint)
				}
				return fail(fmt.Errorf("line %d (%s): unknown right %q: want read or block", n, name, fields[2]), rightsHint)
			}
			right = r
		default:
			return fail(fmt.Errorf("line %d: want NAME TOKEN, NAME TOKEN RIGHT, or a bare TOKEN", n), "")
		}
		if !validName(name) {
			return fail(fmt.Errorf("line %d: the name %q: want 1 to 64 of A-Z a-z 0-9 . _ @ -", n, name), "")
		}
		if len(secret) < MinTokenLen {
			return fail(fmt.Errorf("line %d (%s): the token is shorter than %d characters", n, name, MinTokenLen), "make one with: openssl rand -hex 32")
		}
		if !validToken(secret) {
			return fail(fmt.Errorf("line %d (%s): the token holds a character other than A-Z a-z 0-9 - . _ ~ + / (and = at its end)", n, name), "make one with: openssl rand -hex 32")
		}
		if first, ok := names[name]; ok {
			return fail(fmt.Errorf("line %d: the name %s is on line %d too", n, name, first), "")
		}
		sum := sha256.Sum256([]byte(secret))
		if first, ok := sums[sum]; ok {
			return fail(fmt.Errorf("line %d (%s): the same token as line %d", n, name, first), "give each client a token of its own")
		}
		names[name], sums[sum] = n, n
		toks = append(toks, token{name: name, right: right, sum: sum})
	}
	if err := sc.Err(); err != nil {
		return fail(err, "")
	}
	if len(toks) == 0 {
		return fail(errors.New("holds no token"), "one a line: NAME TOKEN (make a token with: openssl rand -hex 32)")
	}
	return toks, id, nil
}

func validName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '@' || c == '-') {
			return false
		}
	}
	return true
}

// validToken: RFC 6750's b64token, 1*( ALPHA / DIGIT / "-" / "." / "_" /
// "~" / "+" / "/" ) *"=".
func validToken(s string) bool {
	body := strings.TrimRight(s, "=")
	if body == "" {
		return false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~+/", c) >= 0) {
			return false
		}
	}
	return true
}

// match returns the token that secret is, comparing it with every token
// in constant time: the time taken does not depend on which token
// matched, nor on how much of one did, nor on the secret's length (it is
// hashed first).
func match(toks []token, secret string) (token, bool) {
	sum := sha256.Sum256([]byte(secret))
	found, idx := 0, 0
	for i := range toks {
		eq := subtle.ConstantTimeCompare(sum[:], toks[i].sum[:])
		idx = subtle.ConstantTimeSelect(eq, i, idx)
		found |= eq
	}
	if found != 1 {
		return token{}, false
	}
	return toks[idx], true
}

// tokenSet is the token file, read again when it changes (a token added
// or revoked takes effect at the next request, without a restart). A file
// that can no longer be used (made readable by others, emptied, broken)
// refuses every request until it is fixed: it fails closed.
type tokenSet struct {
	path string
	mu   sync.Mutex
	id   fileID
	toks []token
	err  error
}

func newTokenSet(path string) (*tokenSet, error) {
	toks, id, err := readTokens(path)
	if err != nil {
		return nil, err
	}
	return &tokenSet{path: path, id: id, toks: toks}, nil
}

// current returns the tokens, reading the file again when it changed;
// changed tells that it was read again (or failed to be).
func (t *tokenSet) current() (toks []token, changed bool, err error) {
	fi, serr := os.Stat(t.path)
	t.mu.Lock()
	defer t.mu.Unlock()
	if serr != nil {
		e := &ConfigError{Key: "token_file", Value: t.path, Err: serr}
		changed = t.err == nil || t.err.Error() != e.Error()
		t.err, t.id = e, fileID{}
		return nil, changed, t.err
	}
	id := fileIDOf(fi)
	if id == t.id {
		return t.toks, false, t.err
	}
	// the identity stat saw, even when the read fails: a broken file is
	// read again when it changes, not at each request
	toks, _, err = readTokens(t.path)
	t.id = id
	t.toks, t.err = toks, err
	return toks, true, err
}
