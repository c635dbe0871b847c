package propagation

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/strictacme/strictacme/internal/providers"
)

// Choice is what the operator chose for one certificate's check.
type Choice struct {
	// Strategy is --propagation; "" means "doh".
	Strategy string
	// Fallback is --propagation-fallback; "" means the default: the
	// provider read-back plus the settle delay once more for the polling
	// strategies (doh, resolver and what auto picks) wherever the
	// providers can read records back, none otherwise.
	Fallback string
	// DelaySet says Config.Delay was given (--propagation-wait); otherwise
	// the "provider" strategy settles for the declared serving lag.
	DelaySet bool
	// AllowPort53 lets "auto" probe and choose the authoritative servers
	// on port 53 (--allow-port53, allow_port53).
	AllowPort53 bool
}

// WithProviders returns c with what set's providers declare: the longest
// serving lag (Lag), whether every one can read records back (ReadBack),
// and the read-back through the provider of each zone (Getter, ZoneOf). A
// nil or empty set leaves c as it is.
func (c Config) WithProviders(set *providers.Set) Config {
	if set == nil || len(set.Entries()) == 0 {
		return c
	}
	capab := set.Capability()
	c.Lag, c.ReadBack = capab.Lag, capab.CanRead
	c.Getter, c.ZoneOf, _ = set.ReadBack()
	return c
}

// Build returns the strategy one certificate's check runs: the one place
// that decides, for issue, run, renew and check alike. It sends nothing.
//
// The polling strategies respect the providers' serving lag (Config.Lag):
// when one is declared they confirm the write through the provider's
// read-back where they can, wait out the lag from the last write and only
// then ask caching resolvers (Lagged). Negative answers cached longer than
// the time left give up at once (Poll.FailFast), and the check switches
// to the provider read-back plus the settle delay once more when the
// providers can read back and no other fallback is chosen. Describe says all of it in one
// line. The error names the bad setting and the fix.
func Build(ch Choice, cfg Config) (Strategy, error) {
	name := strings.ToLower(strings.TrimSpace(ch.Strategy))
	if name == "" {
		name = "doh"
	}
	fb := strings.ToLower(strings.TrimSpace(ch.Fallback))
	if fb == name {
		return nil, fmt.Errorf("propagation fallback %q is the strategy itself; choose another one or leave the fallback unset", ch.Fallback)
	}
	s, err := build(name, ch, cfg, fb == "")
	if err != nil || fb == "" {
		return s, err
	}
	s2, err := build(fb, ch, cfg, false)
	if err != nil {
		return nil, fmt.Errorf("fallback: %w", err)
	}
	return Fallback{Strategies: []Strategy{s, s2}}, nil
}

func build(name string, ch Choice, c Config, defaultFallback bool) (Strategy, error) {
	c.FailFast = true
	if !ch.DelaySet && name == "provider" {
		c.Delay = c.Lag
	}
	switch name {
	case "doh", "resolver":
		return polling(name, c, defaultFallback)
	case "auto":
		if _, err := configuredResolvers("auto", c, true); err != nil {
			return nil, err
		}
		return &Auto{Config: c, DefaultFallback: defaultFallback, AllowPort53: ch.AllowPort53}, nil
	case "relay":
		if c.Relay == nil {
			return nil, errors.New("propagation relay: no challenge server configured")
		}
		r := *c.Relay
		if r.Timeout == 0 {
			r.Timeout = c.Timeout
		}
		return &r, nil
	}
	return ByName(name, c)
}

// polling builds the doh or resolver check with the providers' lag and,
// when defaultFallback is set and the providers can read back, the
// provider read-back as fallback.
func polling(name string, c Config, defaultFallback bool) (Strategy, error) {
	p, err := newPoll(name, c)
	if err != nil {
		return nil, err
	}
	readBack := c.ReadBack && c.Getter != nil && c.ZoneOf != nil
	var s Strategy = p
	if c.Lag > 0 {
		l := &Lagged{Lag: c.Lag, Then: p, Clock: c.Clock}
		if readBack {
			l.Confirm = readBackCheck(c, 0)
		}
		s = l
	}
	if defaultFallback && readBack {
		fb := readBackCheck(c, c.Lag)
		fb.SettleAfterConfirm = true
		s = Fallback{Strategies: []Strategy{s, fb}}
	}
	return s, nil
}

// readBackCheck is the provider read-back with the given settle delay.
func readBackCheck(c Config, settle time.Duration) *ProviderCheck {
	return &ProviderCheck{Getter: c.Getter, ZoneOf: c.ZoneOf, Settle: settle, Timeout: c.Timeout,
		PollInitial: c.PollInitial, PollMax: c.PollMax, Clock: c.Clock}
}
