package propagation

import (
	"context"
	"time"
)

// Clock tells the time and waits. Strategies take every "now" and every
// pause from it, so tests inject a fake clock and never sleep. Real is used
// when a Clock field is nil. Implementations must be safe for concurrent use.
type Clock interface {
	Now() time.Time
	// After returns a channel that receives once d has passed.
	After(d time.Duration) <-chan time.Time
}

// Real is the wall clock.
var Real Clock = realClock{}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

func clockOr(c Clock) Clock {
	if c == nil {
		return Real
	}
	return c
}

// sleep waits d on c or until ctx ends, returning ctx.Err() in that case.
func sleep(ctx context.Context, c Clock, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	select {
	case <-c.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// backoff yields poll intervals: initial, doubling, capped at max.
type backoff struct {
	next, max time.Duration
}

func newBackoff(initial, max time.Duration) *backoff {
	if initial <= 0 {
		initial = DefaultPollInitial
	}
	if max <= 0 {
		max = DefaultPollMax
	}
	if max < initial {
		max = initial
	}
	return &backoff{next: initial, max: max}
}

func (b *backoff) Next() time.Duration {
	d := b.next
	b.next = min(b.next*2, b.max)
	return d
}

// fmtDur prints a duration the way an operator reads it: whole seconds
// above ten seconds, milliseconds below.
func fmtDur(d time.Duration) string {
	if d >= 10*time.Second {
		return d.Round(time.Second).String()
	}
	return d.Round(time.Millisecond).String()
}
