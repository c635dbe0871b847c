package delegation

import (
	"context"
	"fmt"
	"strings"

	"github.com/libdns/libdns"
	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/internal/resolver"
)

// Where a CNAME is read from, and why no resolver is asked about a name a
// record will be written at.
//
// RFC 2308 §5 caches a negative answer by what it denies: NODATA for
// (name, type), NXDOMAIN for the name, every type (RFC 8020 even for the
// names below it). A CNAME question before the write is therefore safe
// only where its answer cannot be an NXDOMAIN for a name a TXT question
// will later be asked about through the same resolver:
//
//   - a name with a CNAME is answered with that CNAME (a recursive resolver
//     does not chase the chain for qtype CNAME, RFC 1034 §3.6.2), a positive
//     answer that hides nothing;
//   - a name no configured provider serves is never written at, so its
//     negative answer cannot hide one of our records;
//   - a name we will write at may well not exist yet: asking about it
//     would cache NXDOMAIN for its TXT too, for up to the zone's negative
//     TTL (an hour at some providers).
//
// So a name a configured provider serves is read from the provider's own
// records (libdns.RecordGetter) with no DNS question at all; a provider
// that cannot read records is asked nothing and the name is written as it
// is, unless Follow is set, which opts into a CNAME question there. A name
// no provider serves is asked through the resolvers. A chain is never
// followed past the name the record will be written at.

// hopAt returns the CNAME target at cur and where it was read. found is
// false when cur has no CNAME (or could not be asked: via says so).
func (d *Delegator) hopAt(ctx context.Context, cur string, probe func() string) (target string, found bool, via string, neg *negative, err error) {
	if d.Providers != nil && d.Providers.Serves(cur) {
		route, rerr := d.Providers.Route(ctx, cur)
		if rerr == nil {
			if g, ok := route.Entry.Provider.(libdns.RecordGetter); ok {
				t, found, err := d.providerCNAME(ctx, g, route.Zone, cur)
				return t, found, "provider " + route.Entry.Name, nil, err
			}
		}
		if !d.Follow || len(d.Resolvers) == 0 {
			if rerr != nil {
				// Routing the record reports this with its own fix.
				return "", false, "", nil, nil
			}
			return "", false, "not looked up (provider " + route.Entry.Name + " cannot read records; a DNS question before the write could cache NXDOMAIN)", nil, nil
		}
	}
	if len(d.Resolvers) == 0 {
		return "", false, "not looked up (no resolver configured)", nil, nil
	}
	return dnsHop(ctx, d.Resolvers, cur, probe)
}

// negative is what a resolver said when a name had no CNAME.
type negative struct {
	rcode string
	msg   *dns.Msg
}

// dnsHop asks rs for the CNAME at cur and, when there is one, a random
// sibling, to refuse a CNAME a wildcard synthesized (see Discover).
func dnsHop(ctx context.Context, rs []resolver.Resolver, cur string, probe func() string) (string, bool, string, *negative, error) {
	msg, via, err := ask(ctx, rs, cur)
	if err != nil {
		return "", false, "", nil, err
	}
	t, ok := cnameAt(msg, cur)
	if !ok {
		return "", false, via, &negative{rcode: rcodeName(msg), msg: msg}, nil
	}
	if parent := parentOf(cur); parent != "" {
		pname := probe() + "." + parent
		pmsg, _, err := ask(ctx, rs, pname)
		if err != nil {
			return "", false, "", nil, fmt.Errorf("wildcard probe %s: %w", pname, err)
		}
		if pt, ok := cnameAt(pmsg, pname); ok && pt == t {
			return "", false, "", nil, &WildcardError{Name: cur, Target: t, Probe: pname}
		}
	}
	return t, true, via, nil, nil
}

// providerCNAME reads zone through g once per Delegator and returns the
// CNAME owned by name, if any. A wildcard record does not count: once the
// TXT is written at name, name exists and the wildcard no longer applies
// to it (RFC 4592 §2.2.1).
func (d *Delegator) providerCNAME(ctx context.Context, g libdns.RecordGetter, zone, name string) (string, bool, error) {
	d.mu.Lock()
	recs, cached := d.zones[zone]
	d.mu.Unlock()
	if !cached {
		var err error
		recs, err = g.GetRecords(ctx, zone)
		if err != nil {
			return "", false, fmt.Errorf("reading zone %s to look for a CNAME at %s: %w", strings.TrimSuffix(zone, "."), name, err)
		}
		d.mu.Lock()
		d.zones[zone] = recs
		d.mu.Unlock()
	}
	for _, rec := range recs {
		rr := rec.RR()
		if !strings.EqualFold(rr.Type, "CNAME") {
			continue
		}
		if canonical(libdns.AbsoluteName(rr.Name, zone)) == name {
			return canonical(rr.Data), true, nil
		}
	}
	return "", false, nil
}

// walk follows the CNAME chain at start, one hop at a time through hopAt,
// and stops at the first name without a CNAME: the name the record is
// written at.
func (d *Delegator) walk(ctx context.Context, start string) (*Chain, error) {
	probe := d.Probe
	if probe == nil {
		probe = RandomProbeLabel
	}
	ch := &Chain{Start: canonical(start)}
	seen := map[string]bool{ch.Start: true}
	cur := ch.Start
	var vias []string
	for {
		t, found, via, neg, err := d.hopAt(ctx, cur, probe)
		if err != nil {
			return nil, err
		}
		if via != "" && !containsStr(vias, via) {
			vias = append(vias, via)
		}
		ch.Via = strings.Join(vias, ", ")
		if !found {
			ch.end(neg)
			return ch, nil
		}
		if err := ch.hop(cur, t, seen); err != nil {
			return nil, err
		}
		cur = t
	}
}

// end records how the chain ended: the negative answer's RCODE and the
// time a resolver may cache it (RFC 2308 §5); neg nil means no DNS answer
// (a provider's own records said so).
func (ch *Chain) end(neg *negative) {
	if neg == nil {
		return
	}
	ch.EndRcode = neg.rcode
	if d, ok := resolver.NegativeTTL(neg.msg); ok {
		ch.NegativeTTL = d
	}
}

// hop appends the CNAME at name to target, refusing a chain longer than
// MaxHops or one that comes back to a name it passed.
func (ch *Chain) hop(name, target string, seen map[string]bool) error {
	if len(ch.Hops) == MaxHops {
		return &TooLongError{Chain: ch}
	}
	ch.Hops = append(ch.Hops, Hop{Name: name, Target: target})
	if seen[target] {
		return &LoopError{Chain: ch}
	}
	seen[target] = true
	return nil
}

func containsStr(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}
