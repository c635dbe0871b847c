package issue

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/mholt/acmez/v3/acme"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/retryafter"
)

// RateLimitedError is returned when the CA answered 429 (RFC 8555 §6.6) with
// a Retry-After too far away to wait for in this run. The order is stopped;
// the caller reports when to retry (case AC01).
type RateLimitedError struct {
	Op         string
	RetryAfter time.Time
	Problem    acme.Problem
}

// RateLimitedUntil is when the CA allows the next attempt (zero when it did
// not say).
func (e *RateLimitedError) RateLimitedUntil() time.Time { return e.RetryAfter }

func (e *RateLimitedError) Error() string {
	when := "later"
	if !e.RetryAfter.IsZero() {
		when = "after " + e.RetryAfter.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("CA rate limit on %s: %s; retry %s", e.Op, strings.TrimSpace(e.Problem.Detail), when)
}

// retryAfterTracker is the issuer's transport to the CA. acmez returns only
// decoded bodies and problem documents, so the headers the order flow needs
// are captured here:
//
//   - the Retry-After of the last 429 (RFC 8555 §6.6), for withCARetry;
//   - the Retry-After of the last response per request URL, for the polling
//     policy (§7.4, §7.5.1, §8.2);
//   - a 501 Not Implemented per URL: the CA lacks that function, so a
//     repeat of the request (acmez repeats every 5xx of a POST twice) is
//     answered here with the same response instead of being sent again.
type retryAfterTracker struct {
	next http.RoundTripper
	now  func() time.Time
	mu   sync.Mutex
	last map[string]time.Time // 429s: by URL, and "" for the latest
	ra   map[string]time.Time // every response with Retry-After, by URL
	n501 map[string]stored501
}

type stored501 struct {
	header http.Header
	body   []byte
}

func (t *retryAfterTracker) RoundTrip(req *http.Request) (*http.Response, error) {
	url := req.URL.String()
	t.mu.Lock()
	s, seen := t.n501[url]
	t.mu.Unlock()
	if seen {
		if req.Body != nil {
			req.Body.Close()
		}
		return &http.Response{
			Status: "501 Not Implemented", StatusCode: http.StatusNotImplemented,
			Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: s.header.Clone(), Body: io.NopCloser(bytes.NewReader(s.body)),
			ContentLength: int64(len(s.body)), Request: req,
		}, nil
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	at := ParseRetryAfter(resp.Header.Get("Retry-After"), t.now())
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ra == nil {
		t.last, t.ra, t.n501 = map[string]time.Time{}, map[string]time.Time{}, map[string]stored501{}
	}
	if at.IsZero() {
		delete(t.ra, url)
	} else {
		t.ra[url] = at
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests:
		t.last[url] = at
		t.last[""] = at
	case http.StatusNotImplemented:
		body, rerr := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		resp.Body.Close()
		if rerr != nil {
			return nil, rerr
		}
		h := resp.Header.Clone()
		h.Del("Replay-Nonce") // a nonce is good for one request only
		t.n501[url] = stored501{header: h, body: body}
		resp.Body = io.NopCloser(bytes.NewReader(body))
	}
	return resp, nil
}

func (t *retryAfterTracker) lastRetryAfter() time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.last[""]
}

// retryAfter returns the Retry-After time of the last response from url, or
// the zero time if it had none.
func (t *retryAfterTracker) retryAfter(url string) time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.ra[url]
}

// NotImplementedError says that the CA does not implement a function (HTTP
// 501, or the problem type notImplemented). It is final: asking again
// cannot help.
type NotImplementedError struct {
	Op      string
	Problem acme.Problem
}

func (e *NotImplementedError) Error() string {
	s := fmt.Sprintf("the CA does not implement %s (HTTP 501)", e.Op)
	if d := strings.TrimSpace(e.Problem.Detail); d != "" {
		s += ": " + d
	}
	return s
}

// notImplemented turns a 501 answer into a NotImplementedError.
func notImplemented(op string, err error) error {
	var p acme.Problem
	if errors.As(err, &p) && (p.Status == http.StatusNotImplemented || p.Type == "urn:ietf:params:acme:error:notImplemented") {
		return &NotImplementedError{Op: op, Problem: p}
	}
	return err
}

// ParseRetryAfter parses an HTTP Retry-After value, delay-seconds or
// HTTP-date (RFC 9110 §10.2.3), relative to now. It returns the zero time
// when the header is absent or malformed.
func ParseRetryAfter(v string, now time.Time) time.Time { return retryafter.Parse(v, now) }

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
	var ni *NotImplementedError
	var p acme.Problem
	switch {
	case errors.Is(err, context.Canceled):
		return exitcode.With(exitcode.Canceled, err)
	case errors.Is(err, context.DeadlineExceeded):
		return exitcode.With(exitcode.Timeout, err)
	case exitcode.Unreached(err):
		return exitcode.With(exitcode.Unreachable, err)
	case errors.As(err, &rl), errors.As(err, &ni), errors.As(err, &p):
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
