package cloudflare

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

	"github.com/strictacme/strictacme/internal/apiclient"
	"github.com/strictacme/strictacme/internal/retryafter"
	"github.com/strictacme/strictacme/internal/version"
)

// envelope is the API v4 answer around every result.
type envelope struct {
	Success    bool            `json:"success"`
	Errors     []ErrorItem     `json:"errors"`
	Result     json.RawMessage `json:"result"`
	ResultInfo *struct {
		Page       int `json:"page"`
		TotalPages int `json:"total_pages"`
	} `json:"result_info"`
}

// credentials says which credentials a call uses: the zone token reads
// zones, the DNS token everything else (lego's split of
// CLOUDFLARE_ZONE_API_TOKEN and CLOUDFLARE_DNS_API_TOKEN).
type credentials int

const (
	forDNS credentials = iota
	forZones
)

func (p *Provider) authorize(req *http.Request, c credentials) error {
	tok := p.APIToken
	if c == forZones && p.ZoneToken != "" {
		tok = p.ZoneToken
	}
	switch {
	case tok != "":
		req.Header.Set("Authorization", "Bearer "+tok)
	case p.APIKey != "" && p.Email != "":
		req.Header.Set("X-Auth-Email", p.Email)
		req.Header.Set("X-Auth-Key", p.APIKey)
	default:
		return errors.New("cloudflare: no credentials; set CLOUDFLARE_DNS_API_TOKEN (or CLOUDFLARE_EMAIL and CLOUDFLARE_API_KEY)")
	}
	return nil
}

func (p *Provider) base() string {
	if p.BaseURL != "" {
		return strings.TrimSuffix(p.BaseURL, "/")
	}
	return DefaultBaseURL
}

func (p *Provider) sleep(ctx context.Context, d time.Duration) error {
	if p.Sleep != nil {
		return p.Sleep(ctx, d)
	}
	return apiclient.Sleep(ctx, d)
}

// call sends one request and decodes the envelope. A 429 is waited out
// (its retry-after, at most MaxRateWait, twice at most) and sent again:
// the API refuses a rate-limited call before doing anything, so a batch is
// never applied twice. A GET that meets a 5xx or a transport error is
// tried twice more after 1 s and 2 s; a batch is not (whether it was
// applied is unknown; the caller reads the zone again instead).
func (p *Provider) call(ctx context.Context, op, method, path string, query url.Values, body any, c credentials) (*envelope, error) {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return nil, err
		}
	}
	u := p.base() + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	limited, failed := 0, 0
	for {
		env, err := p.once(ctx, op, method, u, payload, c)
		var ae *APIError
		var wait time.Duration
		switch {
		case err == nil:
			return env, nil
		case errors.As(err, &ae) && ae.RateLimited():
			wait = ae.RetryAfter
			if wait <= 0 {
				wait = time.Minute
			}
			limited++
			if limited > 2 || wait > p.maxRateWait() {
				return nil, err
			}
			if p.Logger != nil {
				p.Logger.Info("cloudflare: rate limited, waiting as asked", "op", op, "retry_after", wait.String())
			}
		case method == http.MethodGet && retryable(ctx, err):
			failed++
			if failed > 2 {
				return nil, err
			}
			if p.Logger != nil {
				p.Logger.Info("cloudflare: retrying", "op", op, "error", err.Error())
			}
			if err := p.sleep(ctx, time.Duration(failed)*time.Second); err != nil {
				return nil, err
			}
			continue
		default:
			return nil, err
		}
		if err := p.sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

func (p *Provider) maxRateWait() time.Duration {
	if p.MaxRateWait != 0 {
		return p.MaxRateWait
	}
	return DefaultMaxRateWait
}

func (p *Provider) once(ctx context.Context, op, method, u string, payload []byte, c credentials) (*envelope, error) {
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("cloudflare: %s: %v; check CLOUDFLARE_BASE_URL", op, err)
	}
	if err := p.authorize(req, c); err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", version.UserAgent())
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	client := p.HTTPClient
	if client == nil {
		client = defaultClient
	}
	res, err := client.Do(req)
	if err != nil {
		// *url.Error holds the URL only, never a header.
		return nil, &transportError{fmt.Errorf("cloudflare: %s: %w", op, err)}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return nil, &transportError{fmt.Errorf("cloudflare: %s: reading the answer: %w", op, err)}
	}
	var env envelope
	jerr := json.Unmarshal(b, &env)
	if res.StatusCode == http.StatusOK && jerr == nil && env.Success {
		return &env, nil
	}
	ae := &APIError{Op: op, Status: res.StatusCode, Errors: env.Errors}
	if res.StatusCode == http.StatusTooManyRequests {
		now := time.Now()
		if until := retryafter.Parse(res.Header.Get("Retry-After"), now); !until.IsZero() {
			ae.RetryAfter = max(until.Sub(now), time.Second)
		}
	}
	if jerr != nil && res.StatusCode == http.StatusOK {
		return nil, fmt.Errorf("cloudflare: %s: the answer is not the API's JSON (%v); check CLOUDFLARE_BASE_URL", op, jerr)
	}
	return nil, ae
}

// list gets every page of a paginated list into out (a pointer to a
// slice), following result_info until total_pages.
func list[T any](ctx context.Context, p *Provider, op, path string, query url.Values, perPage int, c credentials) ([]T, error) {
	var all []T
	for page := 1; ; page++ {
		q := url.Values{}
		for k, v := range query {
			q[k] = v
		}
		q.Set("page", strconv.Itoa(page))
		q.Set("per_page", strconv.Itoa(perPage))
		env, err := p.call(ctx, op, http.MethodGet, path, q, nil, c)
		if err != nil {
			return nil, err
		}
		var items []T
		if err := json.Unmarshal(env.Result, &items); err != nil {
			return nil, fmt.Errorf("cloudflare: %s: unexpected result: %v", op, err)
		}
		all = append(all, items...)
		if env.ResultInfo == nil || page >= env.ResultInfo.TotalPages || len(items) == 0 {
			return all, nil
		}
		if page >= maxPages {
			return nil, fmt.Errorf("cloudflare: %s: more than %d pages; the API keeps answering more", op, maxPages)
		}
	}
}

// maxPages bounds a list against an API that never ends it.
const maxPages = 10000

var defaultClient = &http.Client{Timeout: 60 * time.Second}

// transportError is a request that got no complete answer (connection
// refused or reset, timeout): worth another try where that is safe.
type transportError struct{ err error }

func (e *transportError) Error() string { return e.err.Error() }
func (e *transportError) Unwrap() error { return e.err }

// retryable reports whether err may pass on another try: a 5xx or no
// complete answer, and the caller's context still live.
func retryable(ctx context.Context, err error) bool {
	var ae *APIError
	var te *transportError
	return ctx.Err() == nil && (errors.As(err, &ae) && ae.Status >= 500 || errors.As(err, &te))
}
