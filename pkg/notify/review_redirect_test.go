package notify

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// TestHTTPRedirectNotTurnedToGet: a webhook URL that the server redirects
// (http:// to https://, a moved path) with 301, 302 or 303 made Go's
// client send a GET there, without the body; the page there answered 200
// (a Mattermost server serves its web app to any GET) and the alert
// counted as sent, never posted. It must be an error that says so, and
// permanent (another try goes the same way). A 307 or 308, which keeps
// the POST and its body, is followed.
func TestHTTPRedirectNotTurnedToGet(t *testing.T) {
	var mu sync.Mutex
	var got []string // method and body at the redirect's end
	end := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, r.Method+" "+string(b[:min(len(b), 9)]))
		mu.Unlock()
	}))
	defer end.Close()
	for _, c := range []struct {
		code int
		sent bool
	}{{301, false}, {302, false}, {303, false}, {307, true}, {308, true}} {
		mu.Lock()
		got = nil
		mu.Unlock()
		start := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			http.Redirect(w, r, end.URL+"/hooks/secret-key", c.code)
		}))
		for _, ch := range []Channel{&Mattermost{URL: start.URL, APIKey: "k"}, &Webhook{URL: start.URL + "/x?token=secret"}, &Teams{URL: start.URL}} {
			res := SendAll(context.Background(), []Channel{ch}, message(), fast)[0]
			mu.Lock()
			g := strings.Join(got, ", ")
			got = nil
			mu.Unlock()
			var p Permanent
			if c.sent {
				if res.Err != nil || !strings.HasPrefix(g, "POST {") {
					t.Errorf("%d, %s: %v; the end got %q; want the POST followed", c.code, ch.Name(), res.Err, g)
				}
				continue
			}
			if res.Err == nil || !errors.As(res.Err, &p) || res.Attempts != 1 || g != "" || strings.Contains(res.Error(), "secret") {
				t.Errorf("%d, %s: %v (%d tries); the end got %q; want a permanent error, no GET, no secret", c.code, ch.Name(), res.Err, res.Attempts, g)
			}
		}
		start.Close()
	}
}
