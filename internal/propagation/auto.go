package propagation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/internal/resolver"
)

// Fallback runs its strategies in order: when one fails for any reason
// other than the context ending (an unreachable resolver set, negative
// answers cached longer than the time left, a timeout of its own), the next
// one runs with the same written time. A Lagged check whose provider
// read-back failed is not followed by the next one: nothing can see
// records the provider does not hold. It is how "wait out the negative
// cache, or else confirm through the provider" is configured (case PR10,
// PR11).
type Fallback struct {
	Strategies []Strategy
}

// Name returns the names joined by ",", e.g. "doh,provider".
func (f Fallback) Name() string {
	names := make([]string, len(f.Strategies))
	for i, s := range f.Strategies {
		names[i] = s.Name()
	}
	return strings.Join(names, ",")
}

// Wait implements Strategy.
func (f Fallback) Wait(ctx context.Context, recs []Record, written time.Time, obs Observer) error {
	var errs []error
	for i, s := range f.Strategies {
		err := s.Wait(ctx, recs, written, obs)
		if err == nil {
			return nil
		}
		errs = append(errs, err)
		var ce *CNAMEError
		var re *ReplacedError
		if ctx.Err() != nil || isFinal(err) || errors.As(err, &ce) || errors.As(err, &re) || i == len(f.Strategies)-1 {
			// A CNAME at the name, or a value the provider replaced, is a
			// fact about DNS: another strategy would only hide it or see
			// the same.
			break
		}
		obs.say("propagation %s failed: %v; falling back to %s", s.Name(), err, f.Strategies[i+1].Name())
	}
	return errors.Join(errs...)
}

// Finding is one probe result of Auto.Probe.
type Finding struct {
	// What was probed, e.g. "doh https://dns.quad9.net/dns-query".
	What string
	OK   bool
	// Detail is the reason for a failure, or what worked.
	Detail string
}

// Auto probes what works from this machine when Wait is called, picks the
// strongest strategy that can work and says which and why:
//
//  1. authoritative, when AllowPort53 is set and the first record's zone
//     servers answer on port 53 (no caches between us and the truth);
//  2. doh/resolver polling with the configured resolvers that answered the
//     probe (an unreachable, 403-ing or TLS-intercepted one is left out),
//     quorum capped at the number that answered;
//  3. provider, when a record getter is configured;
//  4. wait (fixed delay, no DNS at all).
//
// Nothing is sent to port 53 unless AllowPort53 is set (design principle
// 1). Probes ask the root NS RRset, never a challenge name (RFC 2308).
type Auto struct {
	Config Config
	// AllowPort53 lets Auto probe and use the authoritative strategy.
	AllowPort53 bool
	// Port replaces DefaultDNSPort for authoritative servers (tests).
	Port string
	// DefaultFallback adds the provider read-back as fallback to a
	// polling choice when the providers can read back (see Build).
	DefaultFallback bool
}

func newAuto(c Config) (Strategy, error) {
	if _, err := configuredResolvers("auto", c, true); err != nil {
		return nil, err
	}
	return &Auto{Config: c}, nil
}

// Name returns "auto".
func (*Auto) Name() string { return "auto" }

// Probe reports, for each configured resolver, whether it answers, and,
// when AllowPort53 is set and recs is not empty, whether the first record's
// authoritative servers answer on port 53.
func (a *Auto) Probe(ctx context.Context, recs []Record) (findings []Finding, working []resolver.Resolver, zone *resolver.Zone) {
	rs, err := configuredResolvers("auto", a.Config, true)
	if err != nil {
		return []Finding{{What: "resolvers", Detail: err.Error()}}, nil, nil
	}
	type res struct {
		f  Finding
		ok bool
	}
	out := make([]res, len(rs))
	done := make(chan int, len(rs))
	for i, r := range rs {
		go func() {
			_, err := resolver.Query(ctx, r, ".", dns.TypeNS)
			out[i] = res{f: Finding{What: "resolver " + r.String(), OK: err == nil, Detail: "answers"}, ok: err == nil}
			if err != nil {
				out[i].f.Detail = reasonOf(err)
			}
			done <- i
		}()
	}
	for range rs {
		<-done
	}
	for i, o := range out {
		findings = append(findings, o.f)
		if o.ok {
			working = append(working, rs[i])
		}
	}
	if !a.AllowPort53 {
		findings = append(findings, Finding{What: "port 53", Detail: "not probed: port 53 is not allowed (allow it to use the authoritative strategy)"})
		return findings, working, nil
	}
	if len(recs) == 0 || len(working) == 0 {
		return findings, working, nil
	}
	z, err := resolver.FindZone(ctx, working, parentName(recs[0].FQDN), a.Port, a.Config.ResolverOptions.IPv4Only)
	if err != nil {
		return append(findings, Finding{What: "port 53", Detail: err.Error()}), working, nil
	}
	for addr, ns := range z.Servers {
		r, err := resolver.New("udp://"+addr, a.Config.ResolverOptions)
		if err == nil {
			_, err = resolver.Query(ctx, r, z.Apex, dns.TypeSOA)
		}
		if err != nil {
			return append(findings, Finding{What: "port 53", Detail: fmt.Sprintf("%s (%s): %s", strings.TrimSuffix(ns, "."), addr, reasonOf(err))}), working, nil
		}
	}
	return append(findings, Finding{What: "port 53", OK: true, Detail: fmt.Sprintf("every name server of %s answers", z.Apex)}), working, z
}

func reasonOf(err error) string {
	var re *resolver.Error
	if errors.As(err, &re) {
		return re.Reason
	}
	return err.Error()
}

func parentName(fqdn string) string {
	f := dns.Fqdn(fqdn)
	if off, end := dns.NextLabel(f, 0); !end {
		return f[off:]
	}
	return f
}

// Choose probes and returns the strategy Wait would use, with one line
// saying why. The decision itself is Decide's, shared with `check`.
func (a *Auto) Choose(ctx context.Context, recs []Record) (Strategy, string, error) {
	findings, working, zone := a.Probe(ctx, recs)
	f := Facts{Working: working, Port53: zone != nil}
	for _, fd := range findings {
		if !strings.HasPrefix(fd.What, "resolver ") {
			continue
		}
		f.Total++
		if !fd.OK {
			f.Failed = append(f.Failed, strings.TrimPrefix(fd.What, "resolver ")+": "+fd.Detail)
		}
	}
	return a.decide(f)
}

// Wait implements Strategy: Choose, print the choice, then wait with it.
func (a *Auto) Wait(ctx context.Context, recs []Record, written time.Time, obs Observer) error {
	if written.IsZero() {
		return errNoWrite
	}
	s, why, err := a.Choose(ctx, recs)
	if err != nil {
		return fmt.Errorf("propagation auto: %w", err)
	}
	obs.say("propagation auto: using %s (%s)", Describe(s), why)
	return s.Wait(ctx, recs, written, obs)
}
