package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/loganom/loganom/pkg/detect"
	"github.com/loganom/loganom/pkg/report"
	"github.com/loganom/loganom/pkg/retry"
)

// postJSON posts a JSON body; 429 and 5xx are transient, other non-2xx
// permanent. An error says the status code only: never the response body
// (a 404 page may echo the key) nor the URL, which may hold a key in its
// path or query.
func postJSON(ctx context.Context, client *http.Client, u string, body any, key string) error {
	data, err := json.Marshal(body)
	if err != nil {
		return Permanent{err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(data))
	if err != nil {
		return Permanent{errors.New("bad URL")}
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	c := http.Client{}
	if client != nil {
		c = *client
	}
	if c.CheckRedirect == nil {
		c.CheckRedirect = keepPost
	}
	resp, err := c.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		var rg *redirectedError
		if errors.As(err, &rg) {
			return Permanent{rg}
		}
		return scrub(err, req.URL)
	}
	// drain a little, so that the connection may serve again; never shown
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		err := fmt.Errorf("HTTP %d", resp.StatusCode)
		if d, ok := retryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			// the next try no sooner than the server asked (Teams and
			// Mattermost say how long they throttle a hook)
			return retry.After(d, err)
		}
		return err
	}
	return Permanent{fmt.Errorf("HTTP %d", resp.StatusCode)}
}

// maxRetryAfter is the longest wait a server's Retry-After gets (the
// throttling of Teams and Mattermost asks seconds): a run from cron does
// not wait an hour for one channel, nor does the daemon's round of
// deliveries, which the other channels' next round waits for, and its
// last round when it stops, which systemd gives 60 s (TimeoutStopSec)
// before it kills it: 3 waits of 10 s at most. Past it, the next try may
// fail as well, and the alert stays due for the next round (with a state,
// the next run).
const maxRetryAfter = 10 * time.Second

// retryAfter reads a Retry-After header (RFC 9110): seconds, or an HTTP
// date, as a wait from now, at most maxRetryAfter; ok is false when
// there is none or it does not parse.
func retryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseUint(v, 10, 64); err == nil {
		if n > uint64(maxRetryAfter/time.Second) {
			return maxRetryAfter, true
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return min(max(t.Sub(now), 0), maxRetryAfter), true
}

// keepPost follows a redirect that keeps the POST and its body (307,
// 308), and refuses one that would make it a GET without the body (301,
// 302, 303): the page at the other end would answer 200, and the alert
// would count as sent, never posted.
func keepPost(req *http.Request, via []*http.Request) error {
	if req.Method != http.MethodPost {
		code := 0
		if req.Response != nil {
			code = req.Response.StatusCode
		}
		return &redirectedError{code}
	}
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	return nil
}

// redirectedError is a redirect that keepPost did not follow. It names
// neither URL: either may hold a key.
type redirectedError struct{ code int }

func (e *redirectedError) Error() string {
	return fmt.Sprintf("HTTP %d: the server redirects the post elsewhere, where it would arrive as a GET without the alert; set the URL to where it redirects (https:// for http://?)", e.code)
}

// scrub takes the URL's path and query out of an error's text, should a
// lower layer have put them there.
func scrub(err error, u *url.URL) error {
	msg := err.Error()
	for _, secret := range []string{u.String(), u.EscapedPath(), u.Path, u.RawQuery} {
		if len(secret) > 1 {
			msg = strings.ReplaceAll(msg, secret, "…")
		}
	}
	if msg == err.Error() {
		return err
	}
	return errors.New(msg)
}

// Mattermost posts to an incoming webhook, {url}/hooks/{api_key} as the
// original did: a Markdown table per account, MaxRows rows at most.
type Mattermost struct {
	URL, APIKey                string
	Channel, Username, IconURL string
	Client                     *http.Client
}

// Name is "mattermost".
func (mm *Mattermost) Name() string { return "mattermost" }

func (mm *Mattermost) payload(m *Message) map[string]string {
	p := map[string]string{"text": Markdown(m)}
	for k, v := range map[string]string{"channel": mm.Channel, "username": mm.Username, "icon_url": mm.IconURL} {
		if v != "" {
			p[k] = v
		}
	}
	return p
}

// Preview shows the payload (not the key).
func (mm *Mattermost) Preview(m *Message) (string, error) {
	b, err := json.MarshalIndent(mm.payload(m), "", "  ")
	return fmt.Sprintf("Mattermost %s/hooks/…:\n%s", strings.TrimSuffix(mm.URL, "/"), b), err
}

// Send posts the report.
func (mm *Mattermost) Send(ctx context.Context, m *Message) error {
	return postJSON(ctx, mm.Client, strings.TrimSuffix(mm.URL, "/")+"/hooks/"+url.PathEscape(mm.APIKey), mm.payload(m), m.Key)
}

// Teams posts to a Teams workflow webhook, as an Adaptive Card (the
// format Teams webhooks take today), with the original's title and button.
type Teams struct {
	URL, Title, ButtonCaption, ButtonURL string
	Client                               *http.Client
}

// Name is "teams".
func (t *Teams) Name() string { return "teams" }

func (t *Teams) payload(m *Message) map[string]any {
	title := t.Title
	if title == "" {
		title = Subject(m)
	}
	body := []any{map[string]any{"type": "TextBlock", "text": mdEscape(title), "weight": "Bolder", "size": "Medium", "wrap": true}}
	for _, g := range gaps(m.Gaps) {
		body = append(body, map[string]any{"type": "TextBlock", "text": "**INCOMPLETE:** " + mdEscape(g.head), "color": "Attention", "wrap": true})
		if len(g.details) > 0 {
			// a list, as the reasons are
			d := chatDetails(g.details)
			items := make([]string, len(d))
			for i, s := range d {
				items[i] = "- " + mdEscape(s)
			}
			body = append(body, map[string]any{"type": "TextBlock", "text": strings.Join(items, "\r"), "wrap": true, "spacing": "Small"})
		}
	}
	for _, a := range m.Accounts {
		body = append(body, map[string]any{"type": "TextBlock", "text": mdEscape(a.User), "weight": "Bolder", "wrap": true, "separator": true},
			map[string]any{"type": "TextBlock", "text": mdEscape(summary(a)), "wrap": true})
		if a.Severity != "" {
			body = append(body, map[string]any{"type": "TextBlock", "text": because("**"+mdEscape(a.Severity)+"**", len(a.Reasons)),
				"color": severityColor(a.Severity), "wrap": true})
			if len(a.Reasons) > 0 {
				// a Markdown list, its items apart with \r as Teams
				// wants them; each item's text escaped, so that it can
				// neither end its item nor start another
				items := make([]string, len(a.Reasons))
				for i, r := range a.Reasons {
					items[i] = "- " + mdEscape(report.ReasonText(r))
				}
				body = append(body, map[string]any{"type": "TextBlock", "text": strings.Join(items, "\r"), "wrap": true, "spacing": "Small"})
			}
		}
		if a.Blocked != nil {
			body = append(body, map[string]any{"type": "TextBlock", "text": "**" + mdEscape(blockedLine(a.Blocked)) + "**", "color": "Attention", "wrap": true})
		}
		var facts []any
		for i, ip := range a.IPs {
			if i == MaxRows {
				facts = append(facts, map[string]any{"title": "…", "value": fmt.Sprintf("and %d more addresses", len(a.IPs)-MaxRows)})
				break
			}
			v := strings.TrimSpace(strings.Join([]string{ip.Country, ip.City, rdns(ip), asOrg(ip)}, " "))
			facts = append(facts, map[string]any{"title": mdEscape(ip.IP), "value": mdEscape(v) + fmt.Sprintf(" (%d)", ip.Count)})
		}
		body = append(body, map[string]any{"type": "FactSet", "facts": facts})
	}
	if len(m.Accounts) > 0 {
		body = append(body, map[string]any{"type": "TextBlock", "text": "**What to do:** " + mdEscape(report.WhatToDo), "wrap": true, "separator": true})
	}
	card := map[string]any{"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard", "version": "1.4", "body": body}
	if t.ButtonURL != "" {
		caption := t.ButtonCaption
		if caption == "" {
			caption = "Open"
		}
		card["actions"] = []any{map[string]any{"type": "Action.OpenUrl", "title": caption, "url": t.ButtonURL}}
	}
	return map[string]any{"type": "message", "attachments": []any{map[string]any{
		"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": nil, "content": card}}}
}

// severityColor is the colour of a severity's line in the card: red for
// high, amber for medium.
func severityColor(sev string) string {
	switch s, _ := detect.ParseSeverity(sev); s {
	case detect.High:
		return "Attention"
	case detect.Medium:
		return "Warning"
	}
	return "Default"
}

// Preview shows the payload.
func (t *Teams) Preview(m *Message) (string, error) {
	b, err := json.MarshalIndent(t.payload(m), "", "  ")
	return "Teams webhook:\n" + string(b), err
}

// Send posts the card.
func (t *Teams) Send(ctx context.Context, m *Message) error {
	return postJSON(ctx, t.Client, t.URL, t.payload(m), m.Key)
}

// Webhook posts generic JSON: "text" (plain, as Slack takes it: &, <
// and > as &amp;, &lt; and &gt;), the
// accounts as loganom-report --format json writes them (with each one's
// severity and reasons), and "severity", the highest of them (absent with
// the original rule). When the report could not see everything, it says
// so as the JSON report's first line does: "incomplete": true, "unread"
// (the inputs not read in full) and, when some failed,
// "geo_lookups_failed" ({"logins": N, "addresses": M}).
type Webhook struct {
	URL    string
	Client *http.Client
}

// Name is "webhook".
func (w *Webhook) Name() string { return "webhook" }

func (w *Webhook) payload(m *Message) map[string]any {
	p := map[string]any{"text": slackText(Plain(m)), "host": m.Host, "accounts": m.Accounts}
	if h := Highest(m); h > detect.None {
		p["severity"] = h // the highest of the accounts'; none with the original rule
	}
	if m.Key != "" {
		p["key"] = m.Key
	}
	if !m.Gaps.None() {
		// as the first line of loganom-report --format json
		unread := m.Gaps.Unread
		if unread == nil {
			unread = []report.Unread{}
		}
		p["incomplete"], p["unread"] = true, unread
		if m.Gaps.Geo.Logins > 0 {
			p["geo_lookups_failed"] = m.Gaps.Geo
		}
		if len(m.Gaps.Empty) > 0 {
			p["empty"] = m.Gaps.Empty
		}
		if m.Gaps.NoGeo.Logins > 0 {
			p["geo_not_configured"] = m.Gaps.NoGeo
		}
	}
	return p
}

// slackText is plain text as Slack takes it: its control characters &,
// < and > written &amp;, &lt; and &gt;, so that a name from the network
// ("<!channel>", a PTR name "<https://evil.example|reset>.example") can
// neither notify a channel nor make a link (Slack: "Escaping text").
var slackText = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace

// Preview shows the payload, on a terminal: with the C1, bidi and
// zero-width characters of the accounts' names escaped (report.InertJSON;
// the post itself carries them as they are).
func (w *Webhook) Preview(m *Message) (string, error) {
	b, err := json.MarshalIndent(w.payload(m), "", "  ")
	return "webhook:\n" + string(report.InertJSON(b)), err
}

// Send posts it.
func (w *Webhook) Send(ctx context.Context, m *Message) error {
	return postJSON(ctx, w.Client, w.URL, w.payload(m), m.Key)
}
