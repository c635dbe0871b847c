package issue

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mholt/acmez/v3/acme"

	"github.com/strictacme/strictacme/internal/exitcode"
)

// RateLimitedError is returned when the CA answered 429 (RFC 8555 §6.6) with
// a Retry-After too far away to wait for in this run. The order is stopped;
// the caller reports when to retry (case AC01).
type RateLimitedError struct {
	Op         string
	RetryAfter time.Time
	Problem    acme.Problem
}

func (e *RateLimitedError) Error() string {
	when := "later"
	if !e.RetryAfter.IsZero() {
		when = "after " + e.RetryAfter.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("CA rate limit on %s: %s; retry %s", e.Op, strings.TrimSpace(e.Problem.Detail), when)
}

// retryAfterTracker remembers the Retry-After of the last 429 response per
// request URL. acmez returns only the problem document, so the header is
// captured at the transport.
type retryAfterTracker struct {
	next http.RoundTripper
	now  func() time.Time
	mu   sync.Mutex
	last map[string]time.Time
}

func (t *retryAfterTracker) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err == nil && resp.StatusCode == http.StatusTooManyRequests {
		at := ParseRetryAfter(resp.Header.Get("Retry-After"), t.now())
		t.mu.Lock()
		if t.last == nil {
			t.last = map[string]time.Time{}
		}
		t.last[req.URL.String()] = at
		t.last[""] = at
		t.mu.Unlock()
	}
	return resp, err
}

func (t *retryAfterTracker) lastRetryAfter() time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.last[""]
}

// ParseRetryAfter parses an HTTP Retry-After value, delay-seconds or
// HTTP-date (RFC 9110 §10.2.3), relative to now. It returns the zero time
// when the header is absent or malformed.
func ParseRetryAfter(v string, now time.Time) time.Time {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil && secs >= 0 {
		return now.Add(time.Duration(secs) * time.Second)
	}
	if t, err := http.ParseTime(v); err == nil {
		return t
	}
	return time.Time{}
}

// classify wraps err with the exit code its kind deserves.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var ec *exitcode.Error
	if errors.As(err, &ec) {
		return err
	}
	var rl *RateLimitedError
	var p acme.Problem
	switch {
	case errors.Is(err, context.Canceled):
		return exitcode.With(exitcode.Canceled, err)
	case errors.Is(err, context.DeadlineExceeded):
		return exitcode.With(exitcode.Timeout, err)
	case errors.As(err, &rl), errors.As(err, &p):
		return exitcode.With(exitcode.CA, err)
	}
	return err
}

// problemLine renders a problem document as one line, with subproblems.
func problemLine(p *acme.Problem) string {
	if p == nil {
		return "no error detail from the CA"
	}
	s := strings.TrimPrefix(p.Type, "urn:ietf:params:acme:error:")
	if p.Detail != "" {
		s += ": " + p.Detail
	}
	for _, sp := range p.Subproblems {
		s += fmt.Sprintf("; %s: %s", sp.Identifier.Value, sp.Detail)
	}
	return strings.ReplaceAll(s, "\n", " ")
}
