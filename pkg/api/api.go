// Package api is loganom's HTTP API: JSON over HTTP(S) to block and
// unblock accounts, list the blocks, and read an account's history and
// the alerts, from the state (pkg/state). Its OpenAPI 3 description is
// served at /v1/openapi.json.
//
// Every request needs "Authorization: Bearer TOKEN", a token of the token
// file (see readTokens), compared in constant time; its name is who made
// each change, in the state's audit trail ("api:NAME"). A token has a
// right (Right): read, the GET routes only, or block, every route; a
// request its token has not the right for is refused (403), with its
// name logged (a line a minute at most per token, with the count of
// refusals since: refusalLog). It listens on
// loopback unless TLS is configured, and refuses another address without
// TLS. Request bodies are limited in size, unknown JSON fields refused.
package api

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/loganom/loganom/pkg/api/wire"
	"github.com/loganom/loganom/pkg/record"
	"github.com/loganom/loganom/pkg/report"
	"github.com/loganom/loganom/pkg/state"
)

// Defaults.
const (
	DefaultListen  = "127.0.0.1:8731"
	DefaultMaxBody = 64 << 10
	// MaxUser and MaxReason bound an account's name and a reason, in
	// bytes.
	MaxUser   = 512
	MaxReason = 1024
	// MaxFor is the longest block with an end (longer: until unblocked).
	MaxFor = 10 * 365 * 24 * time.Hour
	// DefaultLimit and MaxLimit: the alerts GET /v1/alerts returns.
	DefaultLimit = 100
	MaxLimit     = 10000
	// storeTimeout bounds each request's work on the state.
	storeTimeout = 15 * time.Second
)

// Store is what the API needs of the state; a state.Store is one.
type Store interface {
	Blocks(ctx context.Context, now time.Time) ([]state.Block, error)
	// PutBlock writes b and returns the block it replaced, read in the
	// write's transaction (state.Store.PutBlock).
	PutBlock(ctx context.Context, b state.Block) (replaced *state.Block, err error)
	RemoveBlock(ctx context.Context, user, by, reason string, at time.Time) (bool, error)
	History(ctx context.Context, user string) ([]state.Address, error)
	Alerts(ctx context.Context, since time.Time) ([]state.Alert, error)
}

// Config configures a Server.
type Config struct {
	Store Store // required
	// Listen is HOST:PORT or unix:/PATH (DefaultListen when empty).
	// Without TLS it must be a loopback address or a unix socket.
	Listen string
	// TokenFile holds the tokens (required): see readTokens. It is read
	// again when it changes.
	TokenFile string
	// CertFile and KeyFile, both or neither: serve HTTPS.
	CertFile, KeyFile string
	// CaseSensitiveUsers takes names as written ([REPORT]
	// case_sensitive_users), else in lower case (record.CanonicalUser).
	CaseSensitiveUsers bool
	MaxBody            int64            // DefaultMaxBody
	Logger             *slog.Logger     // nil: discard
	Now                func() time.Time // nil: time.Now

	// refusalTicks, for tests: when Serve writes the refusals' counts
	// due (nil: every refusalTick).
	refusalTicks <-chan time.Time
}

// Server is the API. Its methods are safe for concurrent use.
type Server struct {
	cfg    Config
	log    *slog.Logger
	now    func() time.Time
	tokens *tokenSet
	mux    *http.ServeMux
	srv    *http.Server
	// badLog limits the log of the requests with a wrong token (401) to
	// a line a BadTokenEvery (a client trying tokens does not flood the
	// log), the others counted, as refused does
	badLog refusalLog
	// refused limits the log of the 403s, per token
	refused refusalLog
}

// route is one route of the API: the mux has these and no other, and the
// OpenAPI document describes exactly these (a test checks), and the
// right each needs (a 403 where it is more than read).
type route struct {
	method, path string
	need         Right
	h            func(s *Server, w http.ResponseWriter, r *http.Request, who string)
}

var routes = []route{
	{"GET", "/v1/blocks", RightRead, (*Server).listBlocks},
	{"PUT", "/v1/blocks/{user}", RightBlock, (*Server).block},
	{"DELETE", "/v1/blocks/{user}", RightBlock, (*Server).unblock},
	{"GET", "/v1/accounts/{user}", RightRead, (*Server).account},
	{"GET", "/v1/alerts", RightRead, (*Server).alerts},
	{"GET", "/v1/openapi.json", RightRead, (*Server).openapi},
}

//go:embed openapi.json
var openapiDoc []byte

// OpenAPI returns the API's OpenAPI 3 document.
func OpenAPI() []byte { return openapiDoc }

// New checks cfg (the token file, the TLS pair, the address) and returns
// the server, not yet listening.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("api: no store")
	}
	if cfg.Listen == "" {
		cfg.Listen = DefaultListen
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	s := &Server{cfg: cfg, log: cfg.Logger, now: cfg.Now, badLog: refusalLog{every: BadTokenEvery}}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if err := s.checkListen(); err != nil {
		return nil, err
	}
	toks, err := newTokenSet(cfg.TokenFile)
	if err != nil {
		return nil, err
	}
	s.tokens = toks
	s.mux = http.NewServeMux()
	for _, rt := range routes {
		s.mux.HandleFunc(rt.method+" "+rt.path, func(w http.ResponseWriter, r *http.Request) {
			tok := tokenFrom(r.Context())
			if tok.right < rt.need {
				s.forbidden(w, r, tok, rt)
				return
			}
			rt.h(s, w, r, tok.name)
		})
	}
	if err := s.setupServer(); err != nil {
		return nil, err
	}
	return s, nil
}

type tokenKey struct{}

// tokenFrom is the request's token (its name and right; no secret).
func tokenFrom(ctx context.Context) token { t, _ := ctx.Value(tokenKey{}).(token); return t }

// Handler returns the API's handler: authentication, then the routes.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	tok, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBody)
	r = r.WithContext(context.WithValue(r.Context(), tokenKey{}, token{name: tok.name, right: tok.right}))
	if p := r.URL.Path; p != cleanPath(p) {
		// the mux would redirect (with an HTML body): refused instead,
		// a client of this API sends canonical paths
		writeError(w, http.StatusBadRequest, "the path is not canonical: "+cleanPath(p))
		return
	}
	if _, pattern := s.mux.Handler(r); pattern == "" {
		// the mux's own 404, 405 (with Allow), or redirect: its status
		// and headers, a JSON body
		cw := &captureWriter{h: w.Header()}
		s.mux.ServeHTTP(cw, r)
		msg := http.StatusText(cw.code)
		switch cw.code {
		case http.StatusNotFound:
			msg = "no such route: see /v1/openapi.json"
		case http.StatusMethodNotAllowed:
			msg = r.Method + " is not allowed here; allowed: " + w.Header().Get("Allow")
		}
		if cw.code >= 300 && cw.code < 400 {
			msg = "see " + w.Header().Get("Location")
		}
		writeError(w, cw.code, msg)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// cleanPath is the path as the mux wants it (net/http's cleanPath):
// rooted, without . and .. elements or repeated slashes, a trailing slash
// kept.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	np := path.Clean(p)
	if p[len(p)-1] == '/' && np != "/" {
		np += "/"
	}
	return np
}

// captureWriter keeps the status and headers the mux writes for a request
// it has no route for, and drops its text body.
type captureWriter struct {
	h    http.Header
	code int
}

func (c *captureWriter) Header() http.Header { return c.h }
func (c *captureWriter) WriteHeader(code int) {
	if c.code == 0 {
		c.code = code
	}
}
func (c *captureWriter) Write(p []byte) (int, error) {
	if c.code == 0 {
		c.code = http.StatusOK
	}
	return len(p), nil
}

// authenticate checks the bearer token; without a valid one it answers
// 401 (503 while the token file cannot be used) and returns false.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (token, bool) {
	toks, changed, err := s.tokens.current()
	if err != nil {
		if changed {
			var tfe *ConfigError
			hint := ""
			if errors.As(err, &tfe) {
				hint = tfe.Hint
			}
			s.log.Error("api: the token file cannot be used: every request is refused until it is fixed", "err", err, "hint", hint)
		}
		writeError(w, http.StatusServiceUnavailable, "the server's token file cannot be used: see its log")
		return token{}, false
	}
	if changed {
		s.log.Info("api: read the token file again", "file", s.cfg.TokenFile, "tokens", len(toks))
	}
	auth := r.Header.Get("Authorization")
	scheme, secret, _ := strings.Cut(auth, " ")
	secret = strings.TrimSpace(secret)
	if auth == "" || !strings.EqualFold(scheme, "Bearer") || secret == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="loganom"`)
		writeError(w, http.StatusUnauthorized, "this needs Authorization: Bearer TOKEN, a token of the server's [API] token_file")
		return token{}, false
	}
	tok, ok := match(toks, secret)
	if !ok {
		if log, n, since := s.badLog.refuse("", 0, 0, r.Method, r.URL.Path, r.RemoteAddr, s.now()); log {
			args := []any{"remote", r.RemoteAddr, "method", r.Method, "path", r.URL.Path}
			if n > 0 {
				args = append(args, "more_unlogged", n, "since", since)
			}
			s.log.Warn("api: a request with a wrong token refused", args...)
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="loganom", error="invalid_token"`)
		writeError(w, http.StatusUnauthorized, "the token is not one of the server's [API] token_file")
		return token{}, false
	}
	return tok, true
}

// forbidden refuses a request that tok has not the right for: 403, with
// RFC 6750's challenge (error="insufficient_scope", scope: the right
// wanted), and a line in the log with the token's name, a minute apart
// at most per token, with the number refused since the last line (see
// refusalLog). Nothing was read of the request's body, nothing is
// changed.
func (s *Server) forbidden(w http.ResponseWriter, r *http.Request, tok token, rt route) {
	if log, n, since := s.refused.refuse(tok.name, tok.right, rt.need, r.Method, r.URL.Path, r.RemoteAddr, s.now()); log {
		args := []any{"token", tok.name, "right", tok.right.String(), "needs", rt.need.String(), "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr}
		if n > 0 {
			args = append(args, "more_refused", n, "since", since)
		}
		s.log.Warn("api: a request refused: its token has not the right", args...)
	}
	w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="loganom", error="insufficient_scope", scope="%s"`, rt.need))
	writeError(w, http.StatusForbidden, fmt.Sprintf("the token %s has the right %s: %s %s needs the right %s", tok.name, tok.right, rt.method, rt.path, rt.need))
}

// Who is how a token's name is written as the author of a change in the
// audit trail: "api:NAME", apart from the names of local users (loganom
// block) and of automatic blocks.
func Who(name string) string { return "api:" + name }

// writeJSON writes v with status. Text is written as it is (no HTML
// escapes: the API is JSON only, served as application/json with
// nosniff), JSON's escapes make any control character inert.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
	// the C1, bidi and zero-width characters too, which the encoder
	// leaves raw, as \u escapes: inert on the terminal of a curl
	w.Write(report.InertJSON(b.Bytes()))
}

type errorJSON struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorJSON{Error: msg})
}

// storeError answers a failure of the state: 503, with the detail in the
// log only.
func (s *Server) storeError(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("api: the state failed", "method", r.Method, "path", r.URL.Path, "err", err)
	writeError(w, http.StatusServiceUnavailable, "the state cannot be used now; try again later")
}

// CheckUser checks an account's name (canonical or not) as the block
// commands and the API take it: not empty, at most MaxUser bytes of valid
// UTF-8 without NUL (which neither backend can keep).
func CheckUser(u string) error {
	switch {
	case u == "":
		return errors.New("the account's name is empty")
	case len(u) > MaxUser:
		return fmt.Errorf("the account's name is longer than %d bytes", MaxUser)
	case !utf8.ValidString(u):
		return errors.New("the account's name is not valid UTF-8")
	case strings.IndexByte(u, 0) >= 0:
		return errors.New("the account's name holds a NUL")
	}
	return nil
}

// CheckReason checks a reason: at most MaxReason bytes of valid UTF-8
// without NUL.
func CheckReason(r string) error {
	switch {
	case len(r) > MaxReason:
		return fmt.Errorf("the reason is longer than %d bytes", MaxReason)
	case !utf8.ValidString(r):
		return errors.New("the reason is not valid UTF-8")
	case strings.IndexByte(r, 0) >= 0:
		return errors.New("the reason holds a NUL")
	}
	return nil
}

// ParseFor reads a block's length: a Go duration ("36h", "90m"), days
// ("7d", "1.5d") or seconds ("3600"); above zero and at most MaxFor.
// Unlike loganom block --for and the config's times, which refuse a bare
// number as having no unit, it takes one as seconds, as the README
// documents the API's "for" (its clients send them).
func ParseFor(s string) (time.Duration, error) {
	bad := fmt.Errorf("%q: want a time above zero, like 24h, 90m or 7d", s)
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		return scale(s, n, float64(time.Second), bad)
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		if f, err := strconv.ParseFloat(n, 64); err == nil {
			return scale(s, f, 24*float64(time.Hour), bad)
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, bad
	}
	if d > MaxFor {
		return 0, tooLong(s)
	}
	return d, nil
}

func scale(s string, n, unit float64, bad error) (time.Duration, error) {
	if n != n || n <= 0 { // NaN too
		return 0, bad
	}
	if n*unit > float64(MaxFor) {
		return 0, tooLong(s)
	}
	d := time.Duration(n * unit)
	if d <= 0 { // less than a nanosecond: no time at all
		return 0, bad
	}
	return d, nil
}

func tooLong(s string) error {
	return fmt.Errorf("%q: longer than %d days (leave it out: until unblocked)", s, MaxFor/(24*time.Hour))
}

// user reads and checks the {user} of the path, and makes it canonical.
func (s *Server) user(w http.ResponseWriter, r *http.Request) (string, bool) {
	u := r.PathValue("user")
	if err := CheckUser(u); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return "", false
	}
	u = record.CanonicalUser(u, s.cfg.CaseSensitiveUsers)
	if u == "" {
		writeError(w, http.StatusBadRequest, "the account's name is empty")
		return "", false
	}
	return u, true
}

// decode reads the body, a JSON object, into v: an empty body is {}.
// Unknown fields, trailing data, a body over the limit are refused, with
// the answer written.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is larger than %d bytes", tooBig.Limit))
			return false
		}
		writeError(w, http.StatusBadRequest, "reading the body: "+err.Error())
		return false
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return true
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "the body is not the JSON object wanted: "+jsonError(err))
		return false
	}
	if _, err := dec.Token(); err != io.EOF {
		writeError(w, http.StatusBadRequest, "the body holds more than one JSON value")
		return false
	}
	return true
}

// jsonError words a decoding error without echoing the body.
func jsonError(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("a syntax error at byte %d", syn.Offset)
	case errors.As(err, &typ):
		if typ.Field != "" {
			return fmt.Sprintf("%q wants a %s", typ.Field, typ.Type)
		}
		return "want an object"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "it ends too soon"
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return "unknown field " + f
	}
	return err.Error()
}

// query checks that the query holds only the allowed keys, once each.
func query(w http.ResponseWriter, r *http.Request, allowed ...string) (url.Values, bool) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		writeError(w, http.StatusBadRequest, "the query: "+err.Error())
		return nil, false
	}
	for k, v := range q {
		ok := false
		for _, a := range allowed {
			ok = ok || k == a
		}
		if !ok {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("unknown query parameter %q", k))
			return nil, false
		}
		if len(v) > 1 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("the query parameter %q is given %d times", k, len(v)))
			return nil, false
		}
	}
	return q, true
}

func (s *Server) ctx(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), storeTimeout)
}

// The JSON forms of the answers (package wire: shared with the commands).
type (
	BlockJSON    = wire.BlockJSON
	AddressJSON  = wire.AddressJSON
	AlertJSON    = wire.AlertJSON
	EvidenceJSON = wire.EvidenceJSON
	DeliveryJSON = wire.DeliveryJSON
)

// NewBlockJSON, NewAddressJSON and NewAlertJSON give the JSON forms.
var (
	NewBlockJSON   = wire.NewBlockJSON
	NewAddressJSON = wire.NewAddressJSON
	NewAlertJSON   = wire.NewAlertJSON
)

func (s *Server) listBlocks(w http.ResponseWriter, r *http.Request, _ string) {
	if _, ok := query(w, r); !ok {
		return
	}
	ctx, cancel := s.ctx(r)
	defer cancel()
	bl, err := s.cfg.Store.Blocks(ctx, s.now())
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	out := struct {
		Blocks []*BlockJSON `json:"blocks"`
	}{Blocks: []*BlockJSON{}}
	for _, b := range bl {
		out.Blocks = append(out.Blocks, NewBlockJSON(b))
	}
	writeJSON(w, http.StatusOK, out)
}

type blockRequest struct {
	Reason string `json:"reason"`
	For    string `json:"for"`
}

type blockResponse struct {
	Block    *BlockJSON `json:"block"`
	Replaced *BlockJSON `json:"replaced,omitempty"`
}

func (s *Server) block(w http.ResponseWriter, r *http.Request, who string) {
	if _, ok := query(w, r); !ok {
		return
	}
	u, ok := s.user(w, r)
	if !ok {
		return
	}
	var req blockRequest
	if !decode(w, r, &req) {
		return
	}
	if err := CheckReason(req.Reason); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	now := s.now()
	b := state.Block{User: u, Reason: req.Reason, Source: "manual", By: Who(who), Created: now}
	if req.For != "" {
		d, err := ParseFor(req.For)
		if err != nil {
			writeError(w, http.StatusBadRequest, `"for": `+err.Error())
			return
		}
		b.Expires = now.Add(d)
	}
	ctx, cancel := s.ctx(r)
	defer cancel()
	// the block replaced is the one this write overwrote, read in its
	// transaction: not one read before, which a PUT, a DELETE or an
	// automatic block at the same time may have changed since
	old, err := s.cfg.Store.PutBlock(ctx, b)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	s.log.Info("api: blocked", "user", u, "by", b.By, "for", req.For, "reason", req.Reason, "remote", r.RemoteAddr)
	resp := blockResponse{Block: NewBlockJSON(b)}
	status := http.StatusCreated
	if old != nil {
		resp.Replaced, status = NewBlockJSON(*old), http.StatusOK
	}
	writeJSON(w, status, resp)
}

type unblockRequest struct {
	Reason string `json:"reason"`
}

// ChangeJSON is one change to the blocks (as loganom blocks --audit
// --format json writes it).
type ChangeJSON struct {
	At     time.Time `json:"at"`
	Action string    `json:"action"`
	User   string    `json:"user"`
	By     string    `json:"by"`
	Reason string    `json:"reason,omitempty"`
}

func (s *Server) unblock(w http.ResponseWriter, r *http.Request, who string) {
	q, ok := query(w, r, "reason")
	if !ok {
		return
	}
	u, ok := s.user(w, r)
	if !ok {
		return
	}
	var req unblockRequest
	if !decode(w, r, &req) {
		return
	}
	if qr, ok := q["reason"]; ok {
		if req.Reason != "" {
			writeError(w, http.StatusBadRequest, "a reason in the query and in the body: give one")
			return
		}
		req.Reason = qr[0]
	}
	if err := CheckReason(req.Reason); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	ctx, cancel := s.ctx(r)
	defer cancel()
	now := s.now()
	removed, err := s.cfg.Store.RemoveBlock(ctx, u, Who(who), req.Reason, now)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	if !removed {
		writeError(w, http.StatusNotFound, u+" is not blocked")
		return
	}
	s.log.Info("api: unblocked", "user", u, "by", Who(who), "reason", req.Reason, "remote", r.RemoteAddr)
	writeJSON(w, http.StatusOK, ChangeJSON{At: now, Action: "unblock", User: u, By: Who(who), Reason: req.Reason})
}

type accountResponse struct {
	User      string        `json:"user"`
	Blocked   *BlockJSON    `json:"blocked"`
	Addresses []AddressJSON `json:"addresses"`
}

func (s *Server) account(w http.ResponseWriter, r *http.Request, _ string) {
	if _, ok := query(w, r); !ok {
		return
	}
	u, ok := s.user(w, r)
	if !ok {
		return
	}
	ctx, cancel := s.ctx(r)
	defer cancel()
	addrs, err := s.cfg.Store.History(ctx, u)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	bl, err := s.cfg.Store.Blocks(ctx, s.now())
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	out := accountResponse{User: u, Addresses: []AddressJSON{}}
	for _, b := range bl {
		if b.User == u {
			out.Blocked = NewBlockJSON(b)
		}
	}
	for _, a := range addrs {
		out.Addresses = append(out.Addresses, NewAddressJSON(a))
	}
	writeJSON(w, http.StatusOK, out)
}

type alertsResponse struct {
	Alerts    []AlertJSON `json:"alerts"`
	Truncated bool        `json:"truncated"`
}

func (s *Server) alerts(w http.ResponseWriter, r *http.Request, _ string) {
	q, ok := query(w, r, "since", "limit", "user", "open")
	if !ok {
		return
	}
	now := s.now()
	var since time.Time
	if v := q.Get("since"); v != "" {
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			since = t
		} else if d, err := ParseFor(v); err == nil {
			since = now.Add(-d)
		} else {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("since %q: want an age like 7d or 12h, or a time like 2026-11-28T14:00:00Z", v))
			return
		}
	}
	limit := DefaultLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxLimit {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("limit %q: want a number from 1 to %d", v, MaxLimit))
			return
		}
		limit = n
	}
	var user string
	if v, ok := q["user"]; ok {
		if err := CheckUser(v[0]); err != nil {
			writeError(w, http.StatusBadRequest, "user: "+err.Error())
			return
		}
		user = record.CanonicalUser(v[0], s.cfg.CaseSensitiveUsers)
	}
	var open *bool
	if v := q.Get("open"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("open %q: want true or false", v))
			return
		}
		open = &b
	}
	ctx, cancel := s.ctx(r)
	defer cancel()
	alerts, err := s.cfg.Store.Alerts(ctx, since)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	out := alertsResponse{Alerts: []AlertJSON{}}
	for _, a := range alerts {
		if user != "" && a.User != user || open != nil && a.Closed.IsZero() != *open {
			continue
		}
		if len(out.Alerts) == limit {
			out.Truncated = true
			break
		}
		out.Alerts = append(out.Alerts, NewAlertJSON(a))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) openapi(w http.ResponseWriter, r *http.Request, _ string) {
	if _, ok := query(w, r); !ok {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(openapiDoc)
}
