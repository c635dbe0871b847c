package issue

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/mholt/acmez/v3/acme"

	"github.com/strictacme/strictacme/internal/exitcode"
)

// withCARetry runs one ACME operation. A 429 (RFC 8555 §6.6) is retried in
// line, at most 3 times, only when its Retry-After is near (≤
// MaxInlineRetryAfter; without the header, a short backoff): rate limits on
// nonces and authorizations are often brief (case AC02). A far Retry-After
// stops the order with a RateLimitedError telling when to retry, never a busy
// loop (case AC01). badNonce is retried by acmez with the nonce from the
// error response (case AC03), and here maxNonceRounds more times when
// acmez's ten tries were all refused.
//
// A 5xx on an idempotent step (idempotentOps: fetching an authorization or
// the certificate, initiating a challenge) is retried up to max5xxRetries
// times more, with backoff5xx doubling, after acmez's own three quick tries:
// a CA's brief outage should not cost the whole order.
func (is *Issuer) withCARetry(ctx context.Context, op string, f func() error) error {
	return is.accountGone(is.retryCA(ctx, op, f))
}

func (is *Issuer) retryCA(ctx context.Context, op string, f func() error) error {
	backoff := time.Second
	backoff5 := backoff5xx
	serverErrors, nonceRounds := 0, 0
	for attempt := 0; ; attempt++ {
		if err := is.inFlight.acquire(ctx); err != nil {
			return err
		}
		err := caFailure(ctx, f())
		is.inFlight.release()
		var p acme.Problem
		if err != nil && errors.As(err, &p) && p.Type == acme.ProblemTypeBadNonce && nonceRounds < maxNonceRounds {
			// acmez gave up after ten fresh nonces in a row were refused,
			// which a CA that refuses nonces at random does now and then
			// across the hundreds of requests of a large order. A refused
			// nonce means the request was not processed (RFC 8555 §6.5), so
			// sending it again is safe for every operation.
			nonceRounds++
			attempt--
			continue
		}
		if err != nil && idempotentOps[op] && serverError(err) && serverErrors < max5xxRetries {
			serverErrors++
			is.logf("CA server error on %s; retrying in %s (%d/%d)", op, backoff5, serverErrors, max5xxRetries)
			if err := is.cfg.Sleep(ctx, backoff5); err != nil {
				return err
			}
			backoff5 *= 2
			continue
		}
		if err == nil || !errors.As(err, &p) || (p.Status != http.StatusTooManyRequests && p.Type != acme.ProblemTypeRateLimited) {
			return notImplemented(op, err)
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

// Bounds of the extra 5xx retries of withCARetry.
const (
	max5xxRetries = 2
	backoff5xx    = 2 * time.Second
)

// maxNonceRounds is how many more times withCARetry sends a request that
// acmez gave up on after its own ten badNonce retries.
const maxNonceRounds = 3

// idempotentOps are the withCARetry operations that are safe to repeat after
// a server error (RFC 8555 §7.5.1 allows re-posting to a challenge; the
// others are POST-as-GET reads).
var idempotentOps = map[string]bool{"authorization": true, "certificate": true, "challenge": true}

// serverError reports whether err is a 5xx answer of the CA.
func serverError(err error) bool {
	var p acme.Problem
	if errors.As(err, &p) {
		return p.Status >= 500 || p.Type == acme.ProblemTypeServerInternal
	}
	return false
}

// caFailure gives err, from a request to the CA, the CA exit code when
// nothing else explains it: a CA that stops answering mid-order (connection
// refused or reset, an answer that is not ACME) fails like a CA that
// refuses, not like a bug. The run's own cancellation or deadline, and
// errors that carry a code already, are left as they are.
func caFailure(ctx context.Context, err error) error {
	if err == nil || ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var ec *exitcode.Error
	if errors.As(err, &ec) {
		return err
	}
	var p acme.Problem
	if errors.As(err, &p) {
		return err // classify gives problems their code
	}
	if exitcode.Unreached(err) {
		return exitcode.With(exitcode.Unreachable, fmt.Errorf("cannot reach the CA: %w", err))
	}
	return exitcode.With(exitcode.CA, fmt.Errorf("the CA did not answer: %w", err))
}

// accountGone adds the way out to a CA's answer that it no longer knows or
// accepts the stored account (deleted or deactivated at the CA, or a CA
// whose database was reset): nothing strictacme retries can fix that, a new
// account can.
func (is *Issuer) accountGone(err error) error {
	var p acme.Problem
	if err == nil || !errors.As(err, &p) {
		return err
	}
	gone := p.Type == acme.ProblemTypeAccountDoesNotExist ||
		p.Type == acme.ProblemTypeUnauthorized && strings.Contains(strings.ToLower(p.Detail), "deactivated")
	if !gone || is.account.Location == "" {
		return err
	}
	dir := is.cfg.Store.AccountDir(is.cfg.Directory, is.accountName)
	return exitcode.With(exitcode.CA, fmt.Errorf("%w; the CA no longer accepts the account %s stored in %s: move that folder aside and run again to register a new account (with --accept-tos, and the EAB flags if the CA needs them)", err, is.account.Location, dir))
}

// replacesRefused reports whether a new-order error is the CA refusing the
// order's "replaces" field (RFC 9773 §5): alreadyReplaced, or unauthorized
// or malformed with a detail about the replaced certificate.
func replacesRefused(err error) bool {
	var p acme.Problem
	if !errors.As(err, &p) {
		return false
	}
	if strings.HasSuffix(p.Type, ":alreadyReplaced") {
		return true
	}
	return (p.Type == acme.ProblemTypeUnauthorized || p.Type == acme.ProblemTypeMalformed) &&
		strings.Contains(strings.ToLower(p.Detail), "replac")
}
