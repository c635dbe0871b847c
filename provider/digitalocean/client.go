package digitalocean

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

// APIError is a refusal by the DigitalOcean API: the HTTP status and the
// answer's id and message. Error explains the id and says what to change;
// it never holds the token. Use errors.As to read the fields.
type APIError struct {
	// Op is what was asked: "list domains", "create TXT at _acme-challenge in example.com".
	Op        string
	Status    int
	ID        string
	Message   string
	RequestID string
	// RetryAfter is when a 429 said the next call may go (Retry-After, or
	// ratelimit-reset when the hourly quota is used up); zero without.
	RetryAfter time.Time
}

// RateLimited reports whether the API refused the call for the rate
// limit (HTTP 429, too_many_requests).
func (e *APIError) RateLimited() bool {
	return e.Status == http.StatusTooManyRequests || e.ID == "too_many_requests"
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("digitalocean: %s: HTTP %d", e.Op, e.Status)
	if e.ID != "" || e.Message != "" {
		s += fmt.Sprintf(" (%s: %s)", e.ID, strings.TrimSuffix(e.Message, "."))
	}
	switch {
	case e.RateLimited():
		s += ": the API's rate limit (250 requests a minute, 5000 an hour per account) is used up"
		if !e.RetryAfter.IsZero() {
			s += "; calls are accepted again at " + e.RetryAfter.UTC().Format(time.RFC3339)
		}
		s += "; look for other jobs using the same account"
	case e.Status == http.StatusUnauthorized:
		s += ": the token is not valid (revoked, expired or mistyped); create a personal access token and set DO_AUTH_TOKEN"
	case e.Status == http.StatusForbidden:
		s += ": the token lacks a scope: give it domain:read, domain:create and domain:delete (or full write access)"
	case e.Status == http.StatusNotFound && strings.HasPrefix(e.Op, "list records"):
		s += ": the domain is not in this account (or was removed); add it under Networking → Domains"
	case e.Status == http.StatusUnprocessableEntity && strings.Contains(strings.ToLower(e.Message), "ttl"):
		s += ": set DO_TTL to 30 or more"
	case e.Status == http.StatusUnprocessableEntity && strings.Contains(e.Message, "CNAME"):
		s += ": the name is a CNAME, which can have no TXT beside it (RFC 1034 §3.6.2); remove the CNAME or delegate the challenge name"
	case e.Status >= 500:
		s += ": DigitalOcean's API failed; try again later (https://status.digitalocean.com)"
	}
	return s
}

func (p *Provider) base() string {
	if p.BaseURL != "" {
		return strings.TrimSuffix(p.BaseURL, "/")
	}
	return DefaultBaseURL
}

func (p *Provider) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Provider) sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	if p.Sleep != nil {
		return p.Sleep(ctx, d)
	}
	return apiclient.Sleep(ctx, d)
}

func (p *Provider) maxRateWait() time.Duration {
	if p.MaxRateWait != 0 {
		return p.MaxRateWait
	}
	return DefaultMaxRateWait
}

// call sends one request and decodes a JSON answer into the returned
// bytes. Before it, a quota the last answer showed used up
// (ratelimit-remaining 0) is waited out until its ratelimit-reset. A 429
// is waited out (Retry-After, else ratelimit-reset; at most MaxRateWait,
// twice at most) and sent again: the API refused it without doing it. A
// GET or DELETE that meets a 5xx or a transport error is tried twice more
// after 1 s and 2 s; a POST is not (it may have created the record).
func (p *Provider) call(ctx context.Context, op, method, path string, query url.Values, body any) ([]byte, error) {
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
		if err := p.waitQuota(ctx, op); err != nil {
			return nil, err
		}
		b, err := p.once(ctx, op, method, u, payload)
		var ae *APIError
		switch {
		case err == nil:
			return b, nil
		case errors.As(err, &ae) && ae.RateLimited():
			limited++
			wait := time.Minute
			if !ae.RetryAfter.IsZero() {
				wait = max(ae.RetryAfter.Sub(p.now()), time.Second)
			}
			if limited > 2 || wait > p.maxRateWait() {
				return nil, err
			}
			if p.Logger != nil {
				p.Logger.Info("digitalocean: rate limited, waiting as asked", "op", op, "wait", wait.String())
			}
			if err := p.sleep(ctx, wait); err != nil {
				return nil, err
			}
		case method != http.MethodPost && retryable(ctx, err):
			failed++
			if failed > 2 {
				return nil, err
			}
			if p.Logger != nil {
				p.Logger.Info("digitalocean: retrying", "op", op, "error", err.Error())
			}
			if err := p.sleep(ctx, time.Duration(failed)*time.Second); err != nil {
				return nil, err
			}
		default:
			return nil, err
		}
	}
}

// waitQuota waits until ratelimit-reset when the last answer said no
// request was left, so that no call is sent only to be refused.
func (p *Provider) waitQuota(ctx context.Context, op string) error {
	p.mu.Lock()
	empty, reset := p.remaining == 0 && !p.reset.IsZero(), p.reset
	p.mu.Unlock()
	if !empty {
		return nil
	}
	wait := reset.Sub(p.now())
	if wait <= 0 {
		return nil
	}
	if wait > p.maxRateWait() {
		return &APIError{Op: op, Status: http.StatusTooManyRequests, ID: "too_many_requests", Message: "no request left in this hour's quota (ratelimit-remaining 0)", RetryAfter: reset}
	}
	if p.Logger != nil {
		p.Logger.Info("digitalocean: hourly quota used up, waiting for ratelimit-reset", "op", op, "wait", wait.String())
	}
	return p.sleep(ctx, wait)
}

func (p *Provider) once(ctx context.Context, op, method, u string, payload []byte) ([]byte, error) {
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("digitalocean: %s: %v; check DO_API_URL", op, err)
	}
	if p.Token == "" {
		return nil, errors.New("digitalocean: no token; set DO_AUTH_TOKEN (or DO_AUTH_TOKEN_FILE)")
	}
	req.Header.Set("Authorization", "Bearer "+p.Token)
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
		return nil, &transportError{fmt.Errorf("digitalocean: %s: %w", op, err)}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return nil, &transportError{fmt.Errorf("digitalocean: %s: reading the answer: %w", op, err)}
	}
	p.noteQuota(res.Header)
	if res.StatusCode >= 200 && res.StatusCode < 300 {
		return b, nil
	}
	ae := &APIError{Op: op, Status: res.StatusCode}
	var e struct {
		ID        string `json:"id"`
		Message   string `json:"message"`
		RequestID string `json:"request_id"`
	}
	if json.Unmarshal(b, &e) == nil {
		ae.ID, ae.Message, ae.RequestID = e.ID, e.Message, e.RequestID
	}
	if res.StatusCode == http.StatusTooManyRequests {
		now := p.now()
		ae.RetryAfter = retryafter.Parse(res.Header.Get("Retry-After"), now)
		if ae.RetryAfter.IsZero() && res.Header.Get("Ratelimit-Remaining") == "0" {
			ae.RetryAfter = resetTime(res.Header)
		}
	}
	return nil, ae
}

// noteQuota keeps the rate-limit headers of an answer.
func (p *Provider) noteQuota(h http.Header) {
	n, err := strconv.Atoi(h.Get("Ratelimit-Remaining"))
	if err != nil {
		return
	}
	p.mu.Lock()
	p.remaining, p.reset = n, resetTime(h)
	p.mu.Unlock()
}

// resetTime reads ratelimit-reset, Unix seconds.
func resetTime(h http.Header) time.Time {
	return apiclient.Unix(h.Get("Ratelimit-Reset"))
}

// list gets every page of a list into out (a pointer to a slice), asking
// per_page 200 (the API's most) and following links.pages.next.
func (p *Provider) list(ctx context.Context, op, path string, query url.Values, key string, out any) error {
	var all []json.RawMessage
	for page := 1; ; page++ {
		q := url.Values{}
		for k, v := range query {
			q[k] = v
		}
		q.Set("page", strconv.Itoa(page))
		q.Set("per_page", strconv.Itoa(perPage))
		b, err := p.call(ctx, op, http.MethodGet, path, q, nil)
		if err != nil {
			return err
		}
		var env map[string]json.RawMessage
		if err := json.Unmarshal(b, &env); err != nil {
			return fmt.Errorf("digitalocean: %s: the answer is not the API's JSON (%v); check DO_API_URL", op, err)
		}
		var items []json.RawMessage
		if err := json.Unmarshal(env[key], &items); err != nil {
			return fmt.Errorf("digitalocean: %s: the answer has no %s list; check DO_API_URL", op, key)
		}
		all = append(all, items...)
		var links struct {
			Pages struct {
				Next string `json:"next"`
			} `json:"pages"`
		}
		_ = json.Unmarshal(env["links"], &links)
		if links.Pages.Next == "" || len(items) == 0 {
			break
		}
		if page >= maxPages {
			return fmt.Errorf("digitalocean: %s: more than %d pages; the API keeps answering more", op, maxPages)
		}
	}
	joined, _ := json.Marshal(all)
	return json.Unmarshal(joined, out)
}

const maxPages = 10000

var defaultClient = &http.Client{Timeout: 30 * time.Second}

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
