package issue

import (
	"context"
	"sync"
	"time"
)

// The polling policy. It waits only where the CA asks and otherwise asks
// soon, then less and less often (docs/polling.md gives the reasons and the
// measurements):
//
//   - An authorization is first polled firstPoll after the challenge
//     response, then after doubling delays up to Config.PollInterval. A
//     Retry-After on a pending authorization caps the next delay: the CA
//     expects news by then (RFC 8555 §7.5.1, §8.2); it never delays the
//     first poll.
//   - An order that is processing is polled after its Retry-After when the
//     CA sends one (§7.4: "after the time given in the Retry-After header"),
//     else on the same doubling delays.
//   - A response whose status is already final (a challenge POST answered
//     valid, a finalize answered valid) is not polled at all.
//   - A challenge the CA keeps pending with an error (§8.2) is posted again
//     after retryFirst, doubling, never before the CA's Retry-After.
const (
	firstPoll        = 5 * time.Millisecond
	defaultPollCap   = 2 * time.Second
	retryFirst       = time.Second
	defaultAttempts  = 5
	defaultInFlight  = 8
	recheckOwnRecord = 10 * time.Second
)

// backoff yields the delays of one polling sequence: first, then doubling up
// to max.
type backoff struct {
	next, max time.Duration
}

func newBackoff(first, max time.Duration) *backoff {
	if first > max {
		first = max
	}
	return &backoff{next: first, max: max}
}

// delay returns the next delay, capped by the CA's Retry-After time (zero:
// none) for upper-bound uses.
func (b *backoff) delay(capAt time.Time, now time.Time) time.Duration {
	d := b.next
	b.next *= 2
	if b.next > b.max {
		b.next = b.max
	}
	if !capAt.IsZero() {
		if ra := capAt.Sub(now); ra < d {
			d = max(ra, 0)
		}
	}
	return d
}

// limiter bounds the requests in flight to the CA. The zero value does not
// limit.
type limiter chan struct{}

func (l limiter) acquire(ctx context.Context) error {
	if l == nil {
		return nil
	}
	select {
	case l <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l limiter) release() {
	if l != nil {
		<-l
	}
}

// each runs f for 0..n-1, each in its own goroutine (the requests they send
// are bounded by the issuer's limiter, not the goroutines), and returns the
// errors by index.
func each(n int, f func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs[i] = f(i)
		}(i)
	}
	wg.Wait()
	return errs
}
