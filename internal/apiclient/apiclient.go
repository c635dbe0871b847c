// Package apiclient sends one JSON request to a DNS provider's HTTP API
// and retries it the way the API asks: a throttled answer (429) is sent
// again once its Retry-After (or the API's RateLimit-Reset) has passed,
// while that wait is within a bound; a server failure (5xx) or another
// refusal the provider calls transient is sent again after 2 s, 4 s, …;
// after a number of tries the last refusal is the answer. The provider
// keeps its own words: it signs the request and turns a refusal into its
// own error type.
package apiclient

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/strictacme/strictacme/internal/retryafter"
	"github.com/strictacme/strictacme/internal/version"
)

// Client sends requests for one provider. Every field but Sleep and Now
// must be set.
type Client struct {
	// Name starts every message ("desec"); Secret (the token) is cut
	// from transport errors, which may quote a URL or header.
	Name   string
	Secret string
	HTTP   *http.Client
	// Sign adds the credentials to a request.
	Sign func(*http.Request)
	// Refuse turns a non-2xx answer into the provider's error. retryAt is
	// when a 429 may be sent again (zero for any other status); transient
	// says whether a non-429 refusal is worth another try (a 5xx always is).
	Refuse func(op string, status int, body []byte, retryAt time.Time) (err error, transient bool)
	// ResetHeader names a header holding the UNIX second at which a used-up
	// rate limit is renewed, read when a 429 carries no Retry-After
	// ("RateLimit-Reset"); "" reads none.
	ResetHeader string
	// MaxWait bounds the wait for a 429: a longer one ends the call.
	MaxWait time.Duration
	// Attempts is how many times a request is sent at most.
	Attempts int
	// MaxBody bounds how much of an answer is read, in bytes.
	MaxBody int64
	// Sleep waits d or until ctx ends (nil: the real clock); Now is the
	// clock a Retry-After is read against (nil: time.Now).
	Sleep func(context.Context, time.Duration) error
	Now   func() time.Time
}

// Request is one call: Op names it in messages ("listing domains"); Body
// is JSON, nil for none.
type Request struct {
	Op     string
	Method string
	URL    string
	Body   []byte
}

// Do sends r until it gets a 2xx answer and returns that answer's body
// and headers, or returns the last refusal (from Refuse), a transport
// error with Name, Op and no secret, or the context's error.
func (c *Client) Do(ctx context.Context, r Request) ([]byte, http.Header, error) {
	for try := 1; ; try++ {
		req, err := http.NewRequestWithContext(ctx, r.Method, r.URL, bytes.NewReader(r.Body))
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %s: %w", c.Name, r.Op, err)
		}
		c.Sign(req)
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", version.UserAgent())
		if r.Body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := c.HTTP.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, nil, fmt.Errorf("%s: %s: %w", c.Name, r.Op, ctx.Err())
			}
			msg := err.Error()
			if c.Secret != "" {
				msg = strings.ReplaceAll(msg, c.Secret, "[token]")
			}
			return nil, nil, fmt.Errorf("%s: %s: %v", c.Name, r.Op, msg)
		}
		b, _ := io.ReadAll(io.LimitReader(res.Body, c.MaxBody))
		res.Body.Close()
		if res.StatusCode/100 == 2 {
			return b, res.Header, nil
		}
		var wait time.Duration
		var retryAt time.Time
		if res.StatusCode == http.StatusTooManyRequests {
			now := c.now()
			retryAt = retryafter.Parse(res.Header.Get("Retry-After"), now)
			if retryAt.IsZero() && c.ResetHeader != "" {
				if t := Unix(res.Header.Get(c.ResetHeader)); t.After(now) {
					retryAt = t
				}
			}
			if retryAt.IsZero() {
				retryAt = now.Add(time.Second)
			}
			wait = retryAt.Sub(now)
		}
		refusal, transient := c.Refuse(r.Op, res.StatusCode, b, retryAt)
		switch {
		case res.StatusCode == http.StatusTooManyRequests:
			if wait > c.MaxWait {
				return nil, nil, refusal
			}
		case res.StatusCode >= 500 || transient:
			wait = time.Duration(try) * 2 * time.Second
		default:
			return nil, nil, refusal
		}
		if try >= c.Attempts {
			return nil, nil, refusal
		}
		if err := c.sleep(ctx, max(wait, 0)); err != nil {
			return nil, nil, fmt.Errorf("%s: %s: waiting out %v: %w", c.Name, r.Op, refusal, err)
		}
	}
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if c.Sleep != nil {
		return c.Sleep(ctx, d)
	}
	return Sleep(ctx, d)
}

// Sleep waits d on the real clock, or until ctx ends (then it returns
// ctx's error).
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Unix reads a header value holding a UNIX time in whole seconds, as the
// RateLimit-Reset of DigitalOcean and the Hetzner Cloud API do; zero when
// absent, unreadable or not positive.
func Unix(v string) time.Time {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}
	}
	return time.Unix(n, 0)
}

// IsLoopbackHost reports whether h (a URL's Hostname) is localhost or a
// loopback address: the only hosts an API base URL may reach by plain
// http (test servers).
func IsLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// ParseBaseURL parses an API's URL: https with a host, or plain http to a
// loopback host only (IsLoopbackHost: test servers). It refuses what the
// API path could not be appended to or what would leak: credentials in
// the URL (a provider takes its secrets as secret settings, never echoed),
// a query or fragment (a token there would be printed, and the path would
// land after it), a port outside 1–65535, and space around the URL.
// example is the URL the error offers (the API's default). The error says
// what to give, not the setting, and never quotes the URL.
func ParseBaseURL(v, example string) (*url.URL, error) {
	u, err := ParseServerURL(v, example)
	if err != nil {
		return nil, err
	}
	if u.Scheme == "http" && !IsLoopbackHost(u.Hostname()) {
		return nil, fmt.Errorf("plain http; use https (plain http only reaches loopback test servers), e.g. %s", example)
	}
	return u, nil
}

// ParseServerURL is ParseBaseURL for a server the operator runs on their
// own network that may offer only plain http (PowerDNS's webserver has no
// TLS of its own): plain http to any host is accepted; every other rule
// is ParseBaseURL's.
func ParseServerURL(v, example string) (*url.URL, error) {
	if v != strings.TrimSpace(v) {
		return nil, fmt.Errorf("space before or after the URL; give the URL alone, e.g. %s", example)
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || u.Scheme != "https" && u.Scheme != "http" {
		return nil, fmt.Errorf("want the API's URL, e.g. %s", example)
	}
	if u.User != nil {
		return nil, fmt.Errorf("credentials in the URL; give them as the provider's secret settings, and the URL without them, e.g. %s", example)
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.ContainsAny(v, "?#") {
		return nil, fmt.Errorf("no query or fragment; give credentials as the provider's secret settings, and the URL without them, e.g. %s", example)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("port %s: want a port from 1 to 65535, e.g. %s", p, example)
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return nil, fmt.Errorf("empty port: leave out the colon or give a port from 1 to 65535, e.g. %s", example)
	}
	return u, nil
}
