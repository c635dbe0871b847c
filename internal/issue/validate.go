package issue

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mholt/acmez/v3/acme"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/propagation"
)

// validate initiates every challenge together, then follows each
// authorization until it is final (RFC 8555 §7.5.1), all concurrently
// within the issuer's bound on requests in flight (Config.MaxInFlight).
func (is *Issuer) validate(ctx context.Context, recs []Record, res *Result) error {
	if len(recs) == 0 {
		return nil
	}
	t0 := is.cfg.Now()
	chals := make([]acme.Challenge, len(recs))
	errs := each(len(recs), func(i int) error {
		var err error
		chals[i], err = is.post(ctx, &recs[i])
		return err
	})
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	is.logf("initiated %d challenge(s); the CA is validating", len(recs))
	errs = each(len(recs), func(i int) error { return is.follow(ctx, &recs[i], chals[i]) })
	res.Stats.Steps["validation"] += int(is.cfg.Now().Sub(t0).Milliseconds())
	if err := errors.Join(errs...); err != nil {
		if exitcode.Interrupted(ctx) {
			return exitcode.Interrupt(ctx, ctx.Err())
		}
		code := exitcode.CA
		for _, e := range errs {
			if e != nil && exitcode.Of(e) != exitcode.CA {
				code = exitcode.Of(e)
			}
		}
		return exitcode.With(code, fmt.Errorf("validation failed: %s", strings.ReplaceAll(err.Error(), "\n", "; ")))
	}
	is.logf("all %d authorization(s) valid", len(recs))
	return nil
}

// post tells the CA that the challenge of r is ready to be validated
// (RFC 8555 §7.5.1); posting it again asks for another attempt (§8.2).
func (is *Issuer) post(ctx context.Context, r *Record) (acme.Challenge, error) {
	var chal acme.Challenge
	err := is.withCARetry(ctx, "challenge", func() error {
		var e error
		chal, e = is.client.InitiateChallenge(ctx, is.account, r.chal)
		return e
	})
	if err != nil {
		return chal, fmt.Errorf("initiating the %s challenge for %s: %w", r.Type, r.Identifier, err)
	}
	return chal, nil
}

// follow polls the authorization of r until it is final, starting from the
// challenge as the CA last showed it. A challenge that the CA keeps pending
// with an error (RFC 8555 §8.2: the CA allows another attempt) is reported
// as it arrives, the record is checked again with the propagation strategy,
// and the challenge is posted again after a backoff, at most
// Config.ChallengeAttempts times in all and within ctx. Failures name the
// CA's last error.
func (is *Issuer) follow(ctx context.Context, r *Record, chal acme.Challenge) error {
	attempt := 1
	var last *acme.Problem
	polls := newBackoff(firstPoll, is.cfg.PollInterval)
	retries := newBackoff(retryFirst, time.Minute)
	authzStatus := ""
	where := r.FQDN
	if r.Target != "" && r.Target != r.FQDN {
		where += " (delegated to " + r.Target + ")"
	}
	fail := func(format string, a ...any) error {
		return exitcode.With(exitcode.CA, fmt.Errorf("%s (%s at %s): %s", r.Identifier, r.Type, r.FQDN, fmt.Sprintf(format, a...)))
	}
	stopped := func(err error) error {
		code := exitcode.Timeout
		if errors.Is(err, context.Canceled) {
			code = exitcode.Canceled
		}
		if last != nil {
			return exitcode.With(code, fmt.Errorf("%s (%s at %s): not valid when the time ran out (--timeout) after %d attempt(s); the CA's last error: %s: %w",
				r.Identifier, r.Type, r.FQDN, attempt, problemLine(last), err))
		}
		return exitcode.With(code, fmt.Errorf("%s (%s at %s): the CA had not finished validating (status %s, no error reported) when the time ran out (--timeout): %w",
			r.Identifier, r.Type, r.FQDN, orStatus(authzStatus, chal.Status), err))
	}
	for {
		switch {
		case authzStatus == acme.StatusValid || chal.Status == acme.StatusValid:
			return nil
		case chal.Status == acme.StatusInvalid || (authzStatus != "" && authzStatus != acme.StatusPending):
			p := chal.Error
			if p == nil {
				p = last
			}
			return fail("%s", problemLine(p))
		}
		if chal.Error != nil && chal.Status == acme.StatusPending {
			// The last attempt failed and the CA waits for a new POST.
			last = chal.Error
			is.logf("%s: the CA's validation of TXT %s failed (attempt %d of %d): %s", r.Identifier, where, attempt, is.cfg.ChallengeAttempts, problemLine(last))
			if attempt >= is.cfg.ChallengeAttempts {
				return fail("the CA's validation failed %d times; its last error: %s", attempt, problemLine(last))
			}
			wait := retries.delay(time.Time{}, is.cfg.Now())
			if ra := is.tracker.retryAfter(r.chal.URL); !ra.IsZero() && ra.Sub(is.cfg.Now()) > wait {
				wait = ra.Sub(is.cfg.Now()) // §8.2: not before the CA's next attempt
			}
			if err := is.cfg.Sleep(ctx, wait); err != nil {
				return stopped(err)
			}
			is.recheck(ctx, r)
			next, err := is.post(ctx, r)
			if err != nil {
				if ctx.Err() != nil {
					return stopped(ctx.Err())
				}
				return err
			}
			attempt++
			chal, authzStatus = next, ""
			polls = newBackoff(firstPoll, is.cfg.PollInterval)
			continue
		}
		// Processing, or pending without news: poll. The CA's Retry-After
		// on the authorization caps the delay; it never lengthens it.
		wait := polls.delay(is.tracker.retryAfter(r.authz.Location), is.cfg.Now())
		if err := is.cfg.Sleep(ctx, wait); err != nil {
			return stopped(err)
		}
		var authz acme.Authorization
		err := is.withCARetry(ctx, "authorization", func() error {
			var e error
			authz, e = is.client.GetAuthorization(ctx, is.account, r.authz.Location)
			return e
		})
		if err != nil {
			if ctx.Err() != nil {
				return stopped(ctx.Err())
			}
			return fmt.Errorf("%s: polling the authorization: %w", r.Identifier, err)
		}
		authzStatus = authz.Status
		for _, c := range authz.Challenges {
			if c.URL == r.chal.URL {
				chal = c
			}
		}
	}
}

func orStatus(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// recheck looks at the record of r again with the propagation strategy,
// for at most recheckOwnRecord, and reports what it sees. The CA's view is
// what counts, so the challenge is posted again either way.
func (is *Issuer) recheck(ctx context.Context, r *Record) {
	if !r.recheck || is.cfg.Propagation == nil {
		is.logf("%s: asking the CA to validate again", r.Identifier)
		return
	}
	cctx, cancel := context.WithTimeout(ctx, recheckOwnRecord)
	defer cancel()
	err := is.cfg.Propagation.Wait(cctx, []propagation.Record{{FQDN: r.Target, Value: r.Value}}, r.written, nil)
	if err != nil {
		is.logf("%s: our own check (%s) does not see the value at %s: %v; asking the CA again anyway", r.Identifier, is.cfg.Propagation.Name(), r.Target, err)
		return
	}
	is.logf("%s: our own check (%s) sees the value at %s; asking the CA to validate again", r.Identifier, is.cfg.Propagation.Name(), r.Target)
}
