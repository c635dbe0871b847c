package propagation

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Lagged keeps every question about a challenge name away from caching
// resolvers until the provider's authoritative servers can answer it
// (design principle 3). A provider whose name servers serve a change some
// time after its API accepted it (Namecheap: a minute or more) declares
// that serving lag; a resolver asked before the end of it gets NXDOMAIN
// from the authoritative servers and keeps it for the zone's negative TTL
// (RFC 2308 §5; 3601 s at Namecheap), so no later poll can succeed.
//
// Wait first confirms the write through the provider's own read-back when
// Confirm is set (no DNS at all), then waits until Lag has passed since
// written (not since the call), and only then runs Then.
type Lagged struct {
	// Confirm reads the records back through the provider (a ProviderCheck
	// without settle delay); nil when the provider cannot read back.
	Confirm Strategy
	// Lag is the providers' declared serving lag, measured from written.
	Lag time.Duration
	// Then asks the caching resolvers (a Poll); required.
	Then Strategy
	// Clock is used for the wait; nil means Real.
	Clock Clock
}

// Name returns the name of Then: the lag is part of how it is run.
func (l *Lagged) Name() string { return l.Then.Name() }

// Wait implements Strategy. A failed confirmation ends the check without
// any fallback: the provider does not hold the records, so no other check
// can see them.
func (l *Lagged) Wait(ctx context.Context, recs []Record, written time.Time, obs Observer) error {
	if written.IsZero() {
		return errNoWrite
	}
	if l.Confirm != nil {
		if err := l.Confirm.Wait(ctx, recs, written, obs); err != nil {
			return final{fmt.Errorf("confirming the write through the provider: %w", err)}
		}
	}
	what := fmt.Sprintf("propagation %s: the provider's name servers serve a change up to %s after the write", l.Then.Name(), fmtDur(l.Lag))
	if err := waitUntil(ctx, clockOr(l.Clock), written, l.Lag, what, obs); err != nil {
		return err
	}
	return l.Then.Wait(ctx, recs, written, obs)
}

// final marks an error after which Fallback does not try the next strategy.
type final struct{ error }

func (f final) Unwrap() error { return f.error }

func isFinal(err error) bool {
	var f final
	return errors.As(err, &f)
}
