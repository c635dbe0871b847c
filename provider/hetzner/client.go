package hetzner

import (
	"bytes"
	"context"
	"encoding/json"
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

// DefaultEndpoint is the base URL of Hetzner's DNS Console API
// (https://dns.hetzner.com/api-docs).
const DefaultEndpoint = "https://dns.hetzner.com/api/v1/"

// DefaultCloudEndpoint is the base URL of the Hetzner Cloud API
// (https://docs.hetzner.cloud/), where DNS zones live since their move to
// the Hetzner Console.
const DefaultCloudEndpoint = "https://api.hetzner.cloud/v1/"

// maxPages bounds a paginated listing (100 items a page).
const maxPages = 500

type client struct {
	base     *url.URL
	token    string
	cloud    bool // Cloud API: Bearer token, error codes, actions
	hc       *http.Client
	sleep    func(context.Context, time.Duration) error
	now      func() time.Time
	maxWait  time.Duration
	attempts int
}

// endpointURL checks an API base URL; "" is the default of the API
// chosen (cloud: the Cloud API).
func endpointURL(raw string, cloud bool) (*url.URL, error) {
	def, tokenVar := DefaultEndpoint, EnvAPIKey
	if cloud {
		def, tokenVar = DefaultCloudEndpoint, EnvAPIToken
	}
	if raw == "" {
		raw = def
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("hetzner: endpoint %q is not an https:// URL; set %s to the API URL (default %s)", raw, EnvEndpoint, def)
	}
	if u.Scheme == "http" && !loopback(u.Hostname()) {
		return nil, fmt.Errorf("hetzner: endpoint %s is plain http; use https (plain http only reaches loopback test servers)", u.Redacted())
	}
	if u.User != nil {
		return nil, fmt.Errorf("hetzner: endpoint carries credentials in the URL; give the token in %s instead", tokenVar)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	return u, nil
}

func loopback(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

type request struct {
	op     string
	method string
	path   string
	query  url.Values
	body   any
}

// do sends r and decodes a 2xx answer's JSON into out. A 429 is retried
// after its Retry-After while that is within maxWait, a 5xx after a short
// pause, up to attempts tries in all.
func (c *client) do(ctx context.Context, r request, out any) error {
	u := *c.base
	u.Path += r.path
	u.RawQuery = r.query.Encode()
	var body []byte
	if r.body != nil {
		var err error
		if body, err = json.Marshal(r.body); err != nil {
			return fmt.Errorf("hetzner: %s: %w", r.op, err)
		}
	}
	for try := 1; ; try++ {
		req, err := http.NewRequestWithContext(ctx, r.method, u.String(), bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("hetzner: %s: %w", r.op, err)
		}
		if c.cloud {
			req.Header.Set("Authorization", "Bearer "+c.token)
		} else {
			req.Header.Set("Auth-API-Token", c.token)
		}
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", version.UserAgent())
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := c.hc.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("hetzner: %s: %w", r.op, ctx.Err())
			}
			return fmt.Errorf("hetzner: %s: %v", r.op, strings.ReplaceAll(err.Error(), c.token, "[token]"))
		}
		b, _ := io.ReadAll(io.LimitReader(res.Body, 16<<20))
		res.Body.Close()
		if res.StatusCode/100 == 2 {
			if out != nil && len(bytes.TrimSpace(b)) > 0 {
				if err := json.Unmarshal(b, out); err != nil {
					return fmt.Errorf("hetzner: %s: the answer is not the JSON Hetzner documents: %v", r.op, err)
				}
			}
			return nil
		}
		ae := newAPIError(r.op, res.StatusCode, b, c.cloud)
		var wait time.Duration
		switch {
		case res.StatusCode == http.StatusTooManyRequests:
			now := c.now()
			ae.RetryAt = retryafter.Parse(res.Header.Get("Retry-After"), now)
			if ae.RetryAt.IsZero() {
				ae.RetryAt = rateLimitReset(res.Header.Get("RateLimit-Reset"), now)
			}
			if ae.RetryAt.IsZero() {
				ae.RetryAt = now.Add(time.Second)
			}
			wait = ae.RetryAt.Sub(now)
			if wait > c.maxWait {
				return ae
			}
		case res.StatusCode >= 500, ae.Code == "locked", ae.Code == "conflict":
			// The Cloud API answers locked while another action runs on
			// the zone, and conflict when it changed during the request;
			// both ask for a retry.
			wait = time.Duration(try) * 2 * time.Second
		default:
			return ae
		}
		if try >= c.attempts {
			return ae
		}
		if err := c.sleep(ctx, max(wait, 0)); err != nil {
			return fmt.Errorf("hetzner: %s: waiting out %v: %w", r.op, ae, err)
		}
	}
}

// pagination is the "meta.pagination" object of Hetzner's list answers.
type pagination struct {
	Page     int `json:"page"`
	LastPage int `json:"last_page"`
	NextPage int `json:"next_page"`
}

// pages asks for page 1, 2, … (per_page=100) until meta.pagination says
// it was the last; get decodes one answer and returns its pagination.
func (c *client) pages(ctx context.Context, r request, get func(body json.RawMessage) (pagination, error)) error {
	if r.query == nil {
		r.query = url.Values{}
	}
	r.query.Set("per_page", "100")
	for page := 1; ; page++ {
		if page > maxPages {
			return fmt.Errorf("hetzner: %s: more than %d pages; the API keeps announcing a next page", r.op, maxPages)
		}
		r.query.Set("page", fmt.Sprint(page))
		var raw json.RawMessage
		if err := c.do(ctx, r, &raw); err != nil {
			return err
		}
		p, err := get(raw)
		if err != nil {
			return fmt.Errorf("hetzner: %s: %v", r.op, err)
		}
		if p.NextPage <= page || page >= p.LastPage {
			return nil
		}
	}
}

// rateLimitReset reads the Cloud API's RateLimit-Reset header, a UNIX
// time in seconds (https://docs.hetzner.cloud/#rate-limiting); zero when
// absent, unreadable or already past.
func rateLimitReset(v string, now time.Time) time.Time {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}
	}
	t := time.Unix(n, 0)
	if !t.After(now) {
		return time.Time{}
	}
	return t
}

func sleepReal(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
