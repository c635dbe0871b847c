package propagation

import (
	"fmt"
	"strings"

	"github.com/strictacme/strictacme/internal/resolver"
)

// Facts are what a probe from this machine found: what "auto" decides
// from. Auto.Probe gathers them when the check runs; `check` gathers them
// with its own probes and gets the same decision from Decide.
type Facts struct {
	// Working are the configured resolvers that answered a question about
	// a name that exists; Total is how many were probed.
	Working []resolver.Resolver
	Total   int
	// Failed has "endpoint: reason" for each resolver that did not answer.
	Failed []string
	// Port53 is true when port 53 is allowed and every authoritative
	// server of the first record's zone answered on it.
	Port53 bool
}

// Decide returns the strategy s runs given facts, and why: for "auto"
// (alone or first in a Fallback) the strategy it picks, otherwise s
// itself with an empty reason. Issue and `check` both decide through it.
func Decide(s Strategy, f Facts) (Strategy, string, error) {
	switch v := s.(type) {
	case *Auto:
		return v.decide(f)
	case Fallback:
		if len(v.Strategies) > 0 {
			if a, ok := v.Strategies[0].(*Auto); ok {
				chosen, why, err := a.decide(f)
				if err != nil {
					return nil, why, err
				}
				return Fallback{Strategies: append([]Strategy{chosen}, v.Strategies[1:]...)}, why, nil
			}
		}
	}
	return s, "", nil
}

// decide picks, in order: authoritative when port 53 is allowed and the
// zone's servers answer on it; doh (or resolver, when a plain-DNS resolver answered) with the
// resolvers that answered, the quorum capped to their number, lag and
// default fallback as Build gives them; the provider read-back plus settle
// delay when every provider can read back; else the fixed wait.
func (a *Auto) decide(f Facts) (Strategy, string, error) {
	note := ""
	if len(f.Failed) > 0 {
		note = "; left out " + strings.Join(f.Failed, "; ")
	}
	c := a.Config
	if f.Port53 && a.AllowPort53 {
		rs, _ := configuredResolvers("auto", c, true)
		return &AuthoritativeCheck{Resolvers: rs, Port: a.Port, Options: c.ResolverOptions, Timeout: c.Timeout,
			PollInitial: c.PollInitial, PollMax: c.PollMax, Clock: c.Clock}, "port 53 to the authoritative servers is open" + note, nil
	}
	if len(f.Working) > 0 {
		name := "doh"
		for _, r := range f.Working {
			if !strings.HasPrefix(strings.ToLower(r.String()), "https://") {
				name = "resolver"
			}
		}
		c.Resolvers = f.Working
		c.Quorum = min(c.Quorum, len(f.Working))
		s, err := polling(name, c, a.DefaultFallback)
		return s, fmt.Sprintf("%d of %d resolvers answer%s", len(f.Working), f.Total, note), err
	}
	if c.ReadBack && c.Getter != nil && c.ZoneOf != nil {
		return readBackCheck(c, c.Lag), "no resolver answers; reading the records back through the provider" + note, nil
	}
	// A fixed wait shorter than the provider's serving lag cannot work.
	if c.Delay == 0 {
		c.Delay = DefaultWaitDelay
	}
	c.Delay = max(c.Delay, c.Lag)
	s, err := newWait(c)
	return s, "no resolver answers and the provider cannot read records; waiting a fixed delay" + note, err
}
