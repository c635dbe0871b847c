package propagation

import (
	"fmt"
	"net/url"
	"strings"
)

// Describer is implemented by strategies that can say in one line
// everything they decided: which check, which resolvers and quorum, the
// lag waited out, the fallback.
type Describer interface {
	Describe() string
}

// Describe returns s's one-line decision, or its name when s does not
// describe itself. Callers print it once, before the first question.
func Describe(s Strategy) string {
	if d, ok := s.(Describer); ok {
		return d.Describe()
	}
	return s.Name()
}

// Describe implements Describer, e.g. "doh at 9.9.9.9, 1.1.1.1 (quorum: a
// majority of those that answer)" or "... (quorum 2 of 2)".
func (p *Poll) Describe() string {
	labels := make([]string, len(p.Resolvers))
	for i, r := range p.Resolvers {
		labels[i] = label(r)
	}
	q := "quorum: a majority of those that answer"
	if p.Quorum > 0 {
		q = fmt.Sprintf("quorum %d of %d", p.Quorum, len(p.Resolvers))
	}
	return fmt.Sprintf("%s at %s (%s)", p.Name(), strings.Join(labels, ", "), q)
}

// Describe implements Describer.
func (l *Lagged) Describe() string {
	first := ""
	if l.Confirm != nil {
		first = "confirm the write through the provider's read-back, "
	}
	return fmt.Sprintf("%swait out the provider's %s serving lag from the last write, then %s", first, fmtDur(l.Lag), Describe(l.Then))
}

// Describe implements Describer.
func (pc *ProviderCheck) Describe() string {
	if pc.Settle <= 0 {
		return "provider read-back"
	}
	if pc.SettleAfterConfirm {
		return fmt.Sprintf("provider read-back, then settle %s more", fmtDur(pc.Settle))
	}
	return fmt.Sprintf("provider read-back, then settle until %s after the last write", fmtDur(pc.Settle))
}

// Describe implements Describer: the strategies in order, each after
// "fallback".
func (f Fallback) Describe() string {
	parts := make([]string, len(f.Strategies))
	for i, s := range f.Strategies {
		parts[i] = Describe(s)
	}
	return strings.Join(parts, "; fallback: ")
}

// Describe implements Describer.
func (f FixedDelay) Describe() string {
	return fmt.Sprintf("wait %s after the last write (no DNS)", fmtDur(f.Delay))
}

// Describe implements Describer.
func (None) Describe() string { return "none (no check)" }

// Describe implements Describer.
func (a *Auto) Describe() string {
	s := "auto: probe the resolvers, then pick authoritative, doh/resolver, provider read-back or wait"
	if a.Config.Lag > 0 {
		s += fmt.Sprintf(" (asking no resolver before the provider's %s serving lag has passed)", fmtDur(a.Config.Lag))
	}
	return s
}

// Describe implements Describer.
func (r *Relay) Describe() string {
	host := r.URL
	if u, err := url.Parse(r.URL); err == nil && u.Host != "" {
		host = u.Host
	}
	return "relay: the authoritative servers asked through the challenge server " + host
}

// Describe implements Describer.
func (*AuthoritativeCheck) Describe() string {
	return "authoritative: every name server of each zone asked on port 53 (no caches)"
}
