package enrich

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/loganom/loganom/pkg/retry"
)

// IPinfo asks ipinfo.io, the original tool's provider, over HTTPS, with the
// token in a header (never in a URL, never in a message). Rate limits (429),
// server errors (5xx) and timeouts are retried with backoff; a refused
// connection or a bad certificate is not. When the quota is spent or the
// token refused, or after GiveUpAfter requests in a row failed with no
// answer in between, it stops asking for the rest of the run and says so
// in each record's enrich_errors.
type IPinfo struct {
	Token   string
	BaseURL string        // default https://ipinfo.io; see CheckIPinfoURL
	Client  *http.Client  // default: 10 s timeout
	Retries int           // tries after the first; default 3
	Backoff time.Duration // the first wait, doubled each time (with jitter); default 1 s

	sleep func(context.Context, time.Duration) error // tests: replaces the waiting

	stopped atomic.Pointer[error] // why it stopped asking
	calls   atomic.Int64
	brk     breaker
}

// DefaultIPinfoURL is where ipinfo.io is asked.
const DefaultIPinfoURL = "https://ipinfo.io"

// CheckIPinfoURL says whether s can be an IPinfo.BaseURL: an https URL with
// a host, and no user, query or fragment (the path /IP/json is added to
// it). Anything else would send the token in clear or fail for every
// address. The error shows only the scheme, host and path of s, which hold
// no secret.
func CheckIPinfoURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("not a URL; want https://HOST[:PORT][/PATH]")
	}
	shown := strconv.QuoteToASCII(u.Scheme + "://" + u.Host + u.Path)
	switch {
	case u.Scheme != "https":
		return fmt.Errorf("%s is not an https URL (the token would travel in clear)", shown)
	case u.Host == "":
		return fmt.Errorf("%s names no host", shown)
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return fmt.Errorf("%s: want https://HOST[:PORT][/PATH], without user, query or fragment (the token goes in [GENERAL] ipinfo_token)", shown)
	}
	return nil
}

// Calls is the number of requests sent.
func (p *IPinfo) Calls() int64 { return p.calls.Load() }

// GaveUp says why ipinfo.io is no longer asked because it stopped
// answering (see GiveUpAfter), or nil.
func (p *IPinfo) GaveUp() *GaveUpError { return p.brk.gaveUp.Load() }

type ipinfoAnswer struct {
	Bogon   bool   `json:"bogon"`
	Country string `json:"country"`
	City    string `json:"city"`
	Loc     string `json:"loc"`
	Org     string `json:"org"` // "AS15169 Google LLC"
}

// Lookup returns what ipinfo.io says of ip. A bogon (private, reserved)
// address is no answer and no error. An error with a Geo that is not zero
// means part of the answer was left out (a country that is not a country
// code); the rest is good.
func (p *IPinfo) Lookup(ctx context.Context, ip netip.Addr) (Geo, error) {
	if why := p.stopped.Load(); why != nil {
		return Geo{}, *why
	}
	base := p.BaseURL
	if base == "" {
		base = DefaultIPinfoURL
	}
	if err := CheckIPinfoURL(base); err != nil {
		return Geo{}, p.stop(fmt.Errorf("ipinfo: %w; not asked in this run", err))
	}
	server := "ipinfo.io"
	if u, _ := url.Parse(base); u.Host != "ipinfo.io" {
		server = "ipinfo.io at " + u.Host
	}
	client := p.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	u := strings.TrimSuffix(base, "/") + "/" + ip.String() + "/json"
	var g Geo
	err := p.policy().Do(ctx, func(ctx context.Context, _ int) error {
		if gu := p.brk.gaveUp.Load(); gu != nil {
			return retry.Permanent(fmt.Errorf("ipinfo: %w", gu))
		}
		var again bool
		var err error
		g, again, err = p.once(ctx, client, server, u)
		var ra retryAfter
		switch {
		case err == nil || !again:
			return retry.Permanent(err)
		case errors.As(err, &ra):
			return retry.After(ra.d, err)
		}
		return err
	})
	var ra retryAfter
	if errors.As(err, &ra) { // rate limited on every try
		return Geo{}, p.stop(errors.New("ipinfo: quota exceeded (HTTP 429); not asked again in this run"))
	}
	return g, err
}

// policy is how Lookup tries: 1+Retries times (default 1+3), waiting
// Backoff (default 1 s) doubled each time with equal jitter, or what a
// 429's Retry-After asks, a minute at most; the waiting ends when the
// context does or when ipinfo.io is given up on (see GiveUpAfter).
func (p *IPinfo) policy() retry.Policy {
	pol := retry.Policy{Attempts: p.Retries + 1, Backoff: p.Backoff, Max: time.Minute, Jitter: 0.5, Sleep: p.sleep}
	if p.Retries <= 0 {
		pol.Attempts = 1 + 3
	}
	if pol.Backoff <= 0 {
		pol.Backoff = time.Second
	}
	if pol.Sleep == nil {
		pol.Sleep = func(ctx context.Context, d time.Duration) error {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-t.C:
				return nil
			case <-p.brk.done():
				return fmt.Errorf("ipinfo: %w", p.brk.gaveUp.Load())
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	return pol
}

// stop makes every later Lookup fail with why (the first reason given) and
// returns that reason.
func (p *IPinfo) stop(why error) error {
	p.stopped.CompareAndSwap(nil, &why)
	return *p.stopped.Load()
}

type retryAfter struct{ d time.Duration }

func (e retryAfter) Error() string { return "ipinfo: rate limited (HTTP 429)" }

// once sends one request; retry says whether another might do better.
func (p *IPinfo) once(ctx context.Context, client *http.Client, server, u string) (Geo, bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return Geo{}, false, err
	}
	req.Header.Set("Accept", "application/json")
	if p.Token != "" {
		req.Header.Set("Authorization", "Bearer "+p.Token)
	}
	p.calls.Add(1)
	sent := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL holds no secret, but say it shorter
		}
		if ctx.Err() == nil {
			p.brk.failed(sent, server, "requests", err)
		}
		// A timeout may pass; a refused connection, an unknown host or a
		// certificate that is not trusted will not.
		return Geo{}, isTimeout(err), fmt.Errorf("ipinfo: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		p.brk.failed(sent, server, "requests", err)
		return Geo{}, true, fmt.Errorf("ipinfo: %w", err)
	}
	if resp.StatusCode >= 500 {
		p.brk.failed(sent, server, "requests", fmt.Errorf("HTTP %d", resp.StatusCode))
	} else {
		p.brk.ok()
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		d, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		return Geo{}, true, retryAfter{time.Duration(d) * time.Second}
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return Geo{}, false, p.stop(fmt.Errorf("ipinfo: token refused (HTTP %d); not asked again in this run", resp.StatusCode))
	case resp.StatusCode >= 500:
		return Geo{}, true, fmt.Errorf("ipinfo: HTTP %d", resp.StatusCode)
	case resp.StatusCode != http.StatusOK:
		return Geo{}, false, fmt.Errorf("ipinfo: HTTP %d", resp.StatusCode)
	}
	var a ipinfoAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		return Geo{}, false, fmt.Errorf("ipinfo: bad answer: %w", err)
	}
	if a.Bogon {
		return Geo{}, false, nil
	}
	g := Geo{City: a.City}
	var bad error
	if c := strings.ToUpper(strings.TrimSpace(a.Country)); isCountryCode(c) {
		g.Country = c
	} else if a.Country != "" {
		bad = badField{fmt.Sprintf("ipinfo: country %s is not a two-letter code; left out", quoteShort(a.Country)), "country is not a two-letter code"}
	}
	if lat, lon, ok := strings.Cut(a.Loc, ","); ok {
		la, err1 := strconv.ParseFloat(lat, 64)
		lo, err2 := strconv.ParseFloat(lon, 64)
		if err1 == nil && err2 == nil {
			g.HasLoc, g.Lat, g.Lon = true, la, lo
		}
	}
	if as, org, ok := strings.Cut(a.Org, " "); ok {
		if n, ok := asNumber(as); ok {
			g.ASN, g.Org = n, org
		}
	}
	return g, false, bad
}

// badField is an answer's field that was left out.
type badField struct{ msg, kind string }

func (e badField) Error() string { return e.msg }
func (e badField) Kind() string  { return e.kind }

// isCountryCode says whether s is two letters A-Z, as an ISO 3166-1
// alpha-2 code is.
func isCountryCode(s string) bool {
	return len(s) == 2 && 'A' <= s[0] && s[0] <= 'Z' && 'A' <= s[1] && s[1] <= 'Z'
}

// quoteShort quotes untrusted text for a message, escaped (control,
// format and bidi characters included) and cut to a few characters.
func quoteShort(s string) string {
	const max = 16
	if len(s) > max {
		return strconv.QuoteToASCII(s[:max]) + "…"
	}
	return strconv.QuoteToASCII(s)
}
