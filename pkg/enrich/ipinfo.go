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
)

// IPinfo asks ipinfo.io, the original tool's provider, over HTTPS, with the
// token in a header (never in a URL, never in a message). Rate limits (429)
// and server errors (5xx) are retried with backoff; when the quota is
// spent or the token refused, it stops asking for the rest of the run and
// says so in each record's enrich_errors.
type IPinfo struct {
	Token   string
	BaseURL string       // default https://ipinfo.io
	Client  *http.Client // default: 10 s timeout
	Retries int          // default 3
	Backoff time.Duration

	stopped atomic.Pointer[string] // why it stopped asking
	calls   atomic.Int64
}

// Calls is the number of requests sent.
func (p *IPinfo) Calls() int64 { return p.calls.Load() }

type ipinfoAnswer struct {
	Bogon   bool   `json:"bogon"`
	Country string `json:"country"`
	City    string `json:"city"`
	Loc     string `json:"loc"`
	Org     string `json:"org"` // "AS15169 Google LLC"
}

// Lookup returns what ipinfo.io says of ip. A bogon (private, reserved)
// address is no answer and no error.
func (p *IPinfo) Lookup(ctx context.Context, ip netip.Addr) (Geo, error) {
	if why := p.stopped.Load(); why != nil {
		return Geo{}, errors.New(*why)
	}
	base := p.BaseURL
	if base == "" {
		base = "https://ipinfo.io"
	}
	u, err := url.Parse(base)
	if err != nil || u.Scheme != "https" {
		return Geo{}, fmt.Errorf("ipinfo: %q is not an https URL", base)
	}
	client := p.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	retries, backoff := p.Retries, p.Backoff
	if retries <= 0 {
		retries = 3
	}
	if backoff <= 0 {
		backoff = time.Second
	}
	var last error
	for attempt := 0; attempt <= retries; attempt++ {
		if attempt > 0 {
			select {
			case <-time.After(backoff << (attempt - 1)):
			case <-ctx.Done():
				return Geo{}, ctx.Err()
			}
		}
		g, retry, err := p.once(ctx, client, strings.TrimSuffix(base, "/")+"/"+ip.String()+"/json")
		if err == nil || !retry {
			return g, err
		}
		last = err
		if ra, ok := err.(retryAfter); ok && ra.d > backoff {
			backoff = min(ra.d, time.Minute)
		}
	}
	var ra retryAfter
	if errors.As(last, &ra) {
		p.stop("ipinfo: quota exceeded (HTTP 429); not asked again in this run")
		return Geo{}, errors.New(*p.stopped.Load())
	}
	return Geo{}, last
}

func (p *IPinfo) stop(why string) { p.stopped.CompareAndSwap(nil, &why) }

type retryAfter struct{ d time.Duration }

func (e retryAfter) Error() string { return "ipinfo: rate limited (HTTP 429)" }

// once sends one request; retry says whether another might do better.
func (p *IPinfo) once(ctx context.Context, client *http.Client, u string) (Geo, bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return Geo{}, false, err
	}
	req.Header.Set("Accept", "application/json")
	if p.Token != "" {
		req.Header.Set("Authorization", "Bearer "+p.Token)
	}
	p.calls.Add(1)
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL holds no secret, but say it shorter
		}
		return Geo{}, true, fmt.Errorf("ipinfo: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return Geo{}, true, fmt.Errorf("ipinfo: %w", err)
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		d, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		return Geo{}, true, retryAfter{time.Duration(d) * time.Second}
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		p.stop(fmt.Sprintf("ipinfo: token refused (HTTP %d); not asked again in this run", resp.StatusCode))
		return Geo{}, false, errors.New(*p.stopped.Load())
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
	g := Geo{Country: strings.ToUpper(a.Country), City: a.City}
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
	return g, false, nil
}
