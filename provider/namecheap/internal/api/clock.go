package api

import (
	"context"
	"time"

	"golang.org/x/time/rate"
)

// Clock is the time source for the rate limiter and for backoff. Tests
// inject a fake one so that nothing sleeps for real.
type Clock interface {
	Now() time.Time
	// Sleep waits for d or until ctx is done, returning ctx.Err() then.
	Sleep(ctx context.Context, d time.Duration) error
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// Sleep waits for d or until ctx is done.
func (SystemClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Budget is Namecheap's documented per-user limit of 20 calls a minute
// (https://www.namecheap.com/support/knowledgebase/article.aspx/9739/63/api--faq).
// NewLimiter turns it into a token bucket that can never put
// more than 20 calls into any 60-second window: a burst of 5 plus one token
// every 4 s (5 + 60/4 = 20).
const (
	Budget       = 20
	budgetBurst  = 5
	budgetPeriod = time.Minute / (Budget - budgetBurst)
)

// NewLimiter returns the default limiter for one API account. Share one
// limiter between every client of the same account in a process.
func NewLimiter() *rate.Limiter {
	return rate.NewLimiter(rate.Every(budgetPeriod), budgetBurst)
}

// waitLimiter takes one token from lim, sleeping on clock (not on the wall
// clock) so that a fake clock makes the wait instant.
func waitLimiter(ctx context.Context, lim *rate.Limiter, clock Clock) error {
	if lim == nil {
		return ctx.Err()
	}
	now := clock.Now()
	r := lim.ReserveN(now, 1)
	if !r.OK() {
		return ctx.Err()
	}
	if d := r.DelayFrom(now); d > 0 {
		if err := clock.Sleep(ctx, d); err != nil {
			r.CancelAt(clock.Now())
			return err
		}
	}
	return nil
}
