package propagation

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// errNoWrite is returned when written is zero: every strategy measures from
// the write, and a zero time means the caller has not written yet.
var errNoWrite = errors.New("propagation: written time is zero; call Wait only after the provider write succeeded")

// None skips the check: Wait returns at once. It is for callers that know
// the records are visible (or choose to let the CA retry); "don't check" is
// kept apart from "wait long enough" on purpose (case PR03).
type None struct{}

// Name returns "none".
func (None) Name() string { return "none" }

// Wait reports that no check is done and returns nil.
func (None) Wait(_ context.Context, recs []Record, _ time.Time, obs Observer) error {
	obs.say("propagation: none: not checking %d record(s)", len(recs))
	return nil
}

// FixedDelay waits until Delay has passed since written, sending no DNS
// packet at all (case PR02: only a stale caching resolver is reachable).
// The delay is measured from the last successful write, not from the call
// (case PR12): with a 2m delay and a write 90s ago, Wait sleeps 30s.
type FixedDelay struct {
	Delay time.Duration
	Clock Clock // nil means Real
}

// Name returns "wait".
func (FixedDelay) Name() string { return "wait" }

// Wait sleeps until written+Delay on the Clock, or returns ctx.Err() wrapped
// with how much was left when ctx ends first.
func (f FixedDelay) Wait(ctx context.Context, recs []Record, written time.Time, obs Observer) error {
	if written.IsZero() {
		return errNoWrite
	}
	return waitUntil(ctx, clockOr(f.Clock), written, f.Delay, fmt.Sprintf("wait: %d record(s)", len(recs)), obs)
}

// waitUntil sleeps until written+delay. what prefixes the observer line.
func waitUntil(ctx context.Context, c Clock, written time.Time, delay time.Duration, what string, obs Observer) error {
	left := written.Add(delay).Sub(c.Now())
	if left <= 0 {
		obs.say("%s: %s since the last write already passed", what, fmtDur(delay))
		return nil
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < left {
		return fmt.Errorf("%s: need %s more (%s after the last write) but the deadline is in %s",
			what, fmtDur(left), fmtDur(delay), fmtDur(time.Until(dl)))
	}
	obs.say("%s: waiting %s more (%s after the last write, no DNS queries)", what, fmtDur(left), fmtDur(delay))
	if err := sleep(ctx, c, left); err != nil {
		return fmt.Errorf("%s: stopped %s before the end of the wait: %w", what, fmtDur(written.Add(delay).Sub(c.Now())), err)
	}
	obs.say("%s: waited until %s after the last write; the records were not looked up", what, fmtDur(delay))
	return nil
}

// say sends one formatted line to the observer when there is one.
func (o Observer) say(format string, args ...any) {
	if o != nil {
		o(fmt.Sprintf(format, args...))
	}
}
