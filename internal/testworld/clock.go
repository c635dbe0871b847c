package testworld

import (
	"sync"
	"time"
)

// Clock is the time source of the world's caching resolver. It follows the
// real wall clock plus an offset that tests move forward with Advance, so a
// cached answer can be aged past its TTL without sleeping. A frozen Clock
// (Options.FreezeClock) does not follow real time at all: only Advance moves it.
//
// The zero value is not usable; the world creates one. Clock is safe for
// concurrent use.
type Clock struct {
	mu     sync.Mutex
	frozen bool
	base   time.Time // frozen: the current time
	offset time.Duration
}

func newClock(frozen bool) *Clock {
	return &Clock{frozen: frozen, base: time.Now()}
}

// Now returns the world's current time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.frozen {
		return c.base.Add(c.offset)
	}
	return time.Now().Add(c.offset)
}

// Advance moves the clock forward by d (negative d is ignored).
func (c *Clock) Advance(d time.Duration) {
	if d <= 0 {
		return
	}
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// After moves the clock forward by d and returns a channel that already
// holds the new time: code that waits on the world's clock (a propagation
// check's pauses, a provider's serving lag) runs at once, and the world
// ages exactly as long as it waited. With After, a Clock satisfies the
// clock interface of internal/propagation.
func (c *Clock) After(d time.Duration) <-chan time.Time {
	c.Advance(d)
	ch := make(chan time.Time, 1)
	ch <- c.Now()
	return ch
}
