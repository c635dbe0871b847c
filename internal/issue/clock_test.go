package issue

import (
	"context"
	"sync"
	"time"
)

// testClock is the issuer's clock in tests: Sleep returns at once (after
// yielding a millisecond, so the in-process CA gets to work) and moves Now
// forward by the duration asked for. Every sleep is recorded. It is safe
// for concurrent use: the order flow polls authorizations concurrently.
type testClock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
	// onSleep, if set, runs after each sleep with the new time.
	onSleep func(now time.Time)
}

func newTestClock() *testClock { return &testClock{now: time.Now()} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.slept = append(c.slept, d)
	c.now = c.now.Add(max(d, 0))
	now, hook := c.now, c.onSleep
	c.mu.Unlock()
	if hook != nil {
		hook(now)
	}
	time.Sleep(time.Millisecond)
	return ctx.Err()
}

// sleeps returns the recorded sleeps of at least min, in order: the long
// waits (Retry-After, retry backoff) apart from the polling policy's short
// ones.
func (c *testClock) sleeps(min time.Duration) []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []time.Duration
	for _, d := range c.slept {
		if d >= min {
			out = append(out, d)
		}
	}
	return out
}

// withClock makes the issuer use c.
func withClock(c *testClock) fixtureOpt {
	return func(_ *fixture, cfg *Config) { cfg.Now, cfg.Sleep = c.Now, c.Sleep }
}
