package propagation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/internal/resolver"
)

func init() {
	strategies["authoritative"] = newAuthoritative
	strategies["auto"] = newAuto
	planned = slices.DeleteFunc(planned, func(n string) bool { return n == "authoritative" || n == "auto" })
}

// DefaultDNSPort is the port authoritative servers are asked on.
const DefaultDNSPort = resolver.DNSPort

// Port53Fix is what to do when the authoritative servers do not answer on
// port 53 from here; the authoritative strategy and `strictacme check` both
// say it.
const Port53Fix = "allow outbound DNS (port 53) to the authoritative servers, or use --propagation doh"

// AuthoritativeCheck asks every authoritative server of each record's zone
// directly, over plain DNS (RFC 1035, UDP with TCP fallback), until all of
// them serve every value: what the CA's own resolvers will see once their
// caches are cold. It needs outbound port 53, so it is only for networks
// that allow it; it is never chosen silently (case PR01, PR05).
//
// The zone's NS set and the servers' addresses are looked up through the
// configured recursive Resolvers only (DoH by default), never by walking
// the DNS from the root: the zone is the closest enclosing name with an NS
// RRset (RFC 1034 §4.2.1), asked from the record's name upwards. Each
// zone's servers are then polled with the same code as Poll with a quorum
// of all, so a server that fails its TLS-less transport is reported by
// address and its NS name.
//
// Authoritative servers do not cache, so a negative answer only means "not
// yet" (RFC 2308 does not apply to them). A server that does not answer
// (port 53 dropped) is given up after DefaultMaxUnreachable tries like any
// endpoint; since every server must serve the records, the check then ends
// with Port53Fix instead of polling to the deadline.
type AuthoritativeCheck struct {
	// Resolvers find NS sets and addresses; at least one.
	Resolvers []resolver.Resolver
	// Port the servers are asked on; "" means DefaultDNSPort. Tests use
	// the test world's port.
	Port string
	// Options configure the plain-DNS exchanges with the servers
	// (per-request Timeout, IPv4Only: AAAA addresses are then skipped).
	Options resolver.Options
	// Timeout, PollInitial, PollMax and Clock work as in Poll.
	Timeout              time.Duration
	PollInitial, PollMax time.Duration
	Clock                Clock
}

// Name returns "authoritative".
func (*AuthoritativeCheck) Name() string { return "authoritative" }

func newAuthoritative(c Config) (Strategy, error) {
	rs, err := configuredResolvers("authoritative", c, true)
	if err != nil {
		return nil, err
	}
	return &AuthoritativeCheck{Resolvers: rs, Options: c.ResolverOptions, Timeout: c.Timeout,
		PollInitial: c.PollInitial, PollMax: c.PollMax, Clock: c.Clock}, nil
}

// configuredResolvers returns c.Resolvers or builds them from the specs
// (resolver.Defaults when dohDefault and none are given).
func configuredResolvers(name string, c Config, dohDefault bool) ([]resolver.Resolver, error) {
	if len(c.Resolvers) > 0 {
		return c.Resolvers, nil
	}
	specs := c.ResolverSpecs
	if len(specs) == 0 {
		if !dohDefault {
			return nil, fmt.Errorf("propagation %s: no resolvers configured", name)
		}
		specs = resolver.Defaults
	}
	var rs []resolver.Resolver
	for _, s := range specs {
		r, err := resolver.New(s, c.ResolverOptions)
		if err != nil {
			return nil, fmt.Errorf("propagation %s: %w", name, err)
		}
		rs = append(rs, r)
	}
	return rs, nil
}

// Wait implements Strategy: zones are found first (no query for a record's
// own name is sent before written, as every strategy promises), then each
// zone's servers are polled until all of them serve all its records.
func (a *AuthoritativeCheck) Wait(ctx context.Context, recs []Record, written time.Time, obs Observer) error {
	if written.IsZero() {
		return errNoWrite
	}
	if len(a.Resolvers) == 0 {
		return errors.New("propagation authoritative: no resolvers to find the name servers with")
	}
	byZone := map[string][]Record{}
	zones := map[string]*resolver.Zone{}
	var order []string
	for _, r := range recs {
		parent := r.FQDN
		if off, end := dns.NextLabel(dns.Fqdn(r.FQDN), 0); !end {
			parent = dns.Fqdn(r.FQDN)[off:]
		}
		z, err := resolver.FindZone(ctx, a.Resolvers, parent, a.Port, a.Options.IPv4Only)
		if err != nil {
			return fmt.Errorf("propagation authoritative: %s: %w", r.FQDN, err)
		}
		if _, ok := zones[z.Apex]; !ok {
			zones[z.Apex] = z
			order = append(order, z.Apex)
		}
		byZone[z.Apex] = append(byZone[z.Apex], r)
	}
	for _, apex := range order {
		z := zones[apex]
		var rs []resolver.Resolver
		var names []string
		for addr, ns := range z.Servers {
			r, err := resolver.New("udp://"+addr, a.Options)
			if err != nil {
				return fmt.Errorf("propagation authoritative: %w", err)
			}
			rs = append(rs, r)
			names = append(names, strings.TrimSuffix(ns, ".")+" "+addr)
		}
		slices.Sort(names)
		obs.say("propagation authoritative: zone %s, asking every name server directly on port %s: %s", apex, portOr(a.Port), strings.Join(names, ", "))
		// Every server must serve the records: a quorum of all.
		p := &Poll{StrategyName: "authoritative", Resolvers: rs, Quorum: len(rs), Timeout: a.Timeout,
			PollInitial: a.PollInitial, PollMax: a.PollMax, Clock: a.Clock, fix: Port53Fix}
		if err := p.Wait(ctx, byZone[apex], written, obs); err != nil {
			return err
		}
	}
	return nil
}

func portOr(p string) string {
	if p == "" {
		return DefaultDNSPort
	}
	return p
}
