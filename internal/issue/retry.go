package issue

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/mholt/acmez/v3/acme"
)

// withCARetry runs one ACME operation. A 429 (RFC 8555 §6.6) is retried in
// line, at most 3 times, only when its Retry-After is near (≤
// MaxInlineRetryAfter; without the header, a short backoff): rate limits on
// nonces and authorizations are often brief (case AC02). A far Retry-After
// stops the order with a RateLimitedError telling when to retry, never a busy
// loop (case AC01). badNonce is retried by acmez with the nonce from the
// error response (case AC03).
func (is *Issuer) withCARetry(ctx context.Context, op string, f func() error) error {
	backoff := time.Second
	for attempt := 0; ; attempt++ {
		err := f()
		var p acme.Problem
		if err == nil || !errors.As(err, &p) || (p.Status != http.StatusTooManyRequests && p.Type != acme.ProblemTypeRateLimited) {
			return err
		}
		now := is.cfg.Now()
		at := is.tracker.lastRetryAfter()
		wait := at.Sub(now)
		if at.IsZero() {
			wait = backoff
			backoff *= 2
		}
		if attempt >= 3 || wait > is.cfg.MaxInlineRetryAfter {
			return &RateLimitedError{Op: op, RetryAfter: at, Problem: p}
		}
		is.logf("CA rate limit on %s; retrying in %s", op, wait.Round(time.Second))
		if err := is.cfg.Sleep(ctx, wait); err != nil {
			return err
		}
	}
}
