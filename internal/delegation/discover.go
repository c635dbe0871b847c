package delegation

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/internal/resolver"
)

// ProbePrefix starts the first label of a wildcard probe name.
const ProbePrefix = "_acme-challenge-probe-"

// RandomProbeLabel returns ProbePrefix plus 16 random hex digits: a label
// that exists in no zone.
func RandomProbeLabel() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return ProbePrefix + hex.EncodeToString(b[:])
}

// Hop is one CNAME record of a chain.
type Hop struct {
	Name   string // owner, absolute, lower case
	Target string // CNAME target, absolute, lower case
}

// Chain is a CNAME chain as discovered from the challenge name.
type Chain struct {
	// Start is the challenge name that was asked about.
	Start string
	// Hops are the CNAME records in order; none when Start has no CNAME.
	Hops []Hop
	// Via is the resolver that answered (Resolver.String()).
	Via string
	// EndRcode is what the last name answered for type CNAME: "NXDOMAIN"
	// or "NODATA".
	EndRcode string
	// NegativeTTL is how long the resolver may cache that negative answer
	// (RFC 2308 §5), 0 when it carried no SOA.
	NegativeTTL time.Duration
}

// Target is the name the TXT record is written at: the last CNAME target,
// or Start when there is no CNAME.
func (c *Chain) Target() string {
	if len(c.Hops) == 0 {
		return c.Start
	}
	return c.Hops[len(c.Hops)-1].Target
}

// String renders the chain on one line: "a. -> CNAME b. -> CNAME c.".
func (c *Chain) String() string {
	var b strings.Builder
	b.WriteString(c.Start)
	for _, h := range c.Hops {
		b.WriteString(" -> CNAME ")
		b.WriteString(h.Target)
	}
	return b.String()
}

// WildcardError refuses a CNAME that a wildcard record synthesized: writing
// at its target would put the challenge for every name under the wildcard
// into a zone the operator never chose for it.
type WildcardError struct {
	Name, Target string
	// Probe is the random sibling name that got the same CNAME.
	Probe string
}

func (e *WildcardError) Error() string {
	return fmt.Sprintf("the CNAME %s -> %s comes from a wildcard record (the random name %s gets the same CNAME); refusing to follow it: add an explicit _acme-challenge CNAME, or set the target with --challenge-target / challenge_targets",
		e.Name, e.Target, e.Probe)
}

// LoopError is a CNAME chain that comes back to a name already seen.
type LoopError struct{ Chain *Chain }

func (e *LoopError) Error() string {
	return fmt.Sprintf("CNAME loop: %s; fix the CNAME records", e.Chain)
}

// TooLongError is a chain longer than MaxHops.
type TooLongError struct{ Chain *Chain }

func (e *TooLongError) Error() string {
	return fmt.Sprintf("CNAME chain longer than %d hops: %s; point the _acme-challenge CNAME closer to the target", MaxHops, e.Chain)
}

// ForeignZoneError is a chain that ends in a zone no configured provider
// serves.
type ForeignZoneError struct {
	Chain *Chain
	Err   error
}

func (e *ForeignZoneError) Error() string {
	return fmt.Sprintf("%s leads into a zone no configured provider serves (%v); configure a provider for that zone, or remove the CNAME", e.Chain, e.Err)
}

func (e *ForeignZoneError) Unwrap() error { return e.Err }

// Discover follows the CNAME chain at name through rs (the first resolver
// that answers; on a transport failure the next one), asking type CNAME at
// each name so that a recursive resolver does not chase the chain for us
// and no TXT question is asked before the record is written (RFC 2308).
//
// Wildcard detection: for each name that has a CNAME, Discover also asks
// about a random sibling, probe()+"."+parent. A random label exists in no
// zone, so its closest encloser (RFC 4592 §3.3.1) is the same as that of
// any other name under the same parent that does not exist itself; if a
// wildcard synthesized the CNAME at name, it synthesizes the identical
// CNAME at the sibling. Same target at both means wildcard (refused); an
// NXDOMAIN or a different target at the sibling means the CNAME at name is
// its own record. This needs no DNSSEC (RRSIG label counts would tell the
// same, but DoH resolvers rarely pass signatures through) and costs one
// extra question per hop. The only false positive is an explicit CNAME that
// has the same target as a wildcard next to it, which is refused too: the
// operator then names the target explicitly.
//
// probe nil means RandomProbeLabel. At most MaxHops hops are followed.
func Discover(ctx context.Context, rs []resolver.Resolver, name string, probe func() string) (*Chain, error) {
	if len(rs) == 0 {
		return nil, errors.New("CNAME discovery needs at least one resolver")
	}
	if probe == nil {
		probe = RandomProbeLabel
	}
	ch := &Chain{Start: canonical(name)}
	seen := map[string]bool{ch.Start: true}
	cur := ch.Start
	for {
		msg, via, err := ask(ctx, rs, cur)
		if err != nil {
			return nil, err
		}
		ch.Via = via
		t, ok := cnameAt(msg, cur)
		if !ok {
			ch.EndRcode = rcodeName(msg)
			if d, ok := resolver.NegativeTTL(msg); ok {
				ch.NegativeTTL = d
			}
			return ch, nil
		}
		if len(ch.Hops) == MaxHops {
			return nil, &TooLongError{Chain: ch}
		}
		if parent := parentOf(cur); parent != "" {
			pname := probe() + "." + parent
			pmsg, _, err := ask(ctx, rs, pname)
			if err != nil {
				return nil, fmt.Errorf("wildcard probe %s: %w", pname, err)
			}
			if pt, ok := cnameAt(pmsg, pname); ok && pt == t {
				return nil, &WildcardError{Name: cur, Target: t, Probe: pname}
			}
		}
		ch.Hops = append(ch.Hops, Hop{Name: cur, Target: t})
		if seen[t] {
			return nil, &LoopError{Chain: ch}
		}
		seen[t] = true
		cur = t
	}
}

// ask sends a CNAME question to each resolver in turn until one answers
// with a usable RCODE (NOERROR or NXDOMAIN).
func ask(ctx context.Context, rs []resolver.Resolver, name string) (*dns.Msg, string, error) {
	var errs []string
	for _, r := range rs {
		msg, err := resolver.Query(ctx, r, name, dns.TypeCNAME)
		if err != nil {
			if ctx.Err() != nil {
				return nil, "", ctx.Err()
			}
			errs = append(errs, err.Error())
			continue
		}
		if msg.Rcode != dns.RcodeSuccess && msg.Rcode != dns.RcodeNameError {
			errs = append(errs, fmt.Sprintf("%s: %s for %s CNAME", r, rcodeName(msg), name))
			continue
		}
		return msg, r.String(), nil
	}
	return nil, "", fmt.Errorf("looking up the CNAME at %s: %s", name, strings.Join(errs, "; "))
}

// cnameAt returns the CNAME target owned by name in msg's answer section.
func cnameAt(msg *dns.Msg, name string) (string, bool) {
	for _, rr := range msg.Answer {
		if c, ok := rr.(*dns.CNAME); ok && strings.EqualFold(c.Hdr.Name, name) {
			return canonical(c.Target), true
		}
	}
	return "", false
}

func rcodeName(msg *dns.Msg) string {
	if msg.Rcode == dns.RcodeSuccess {
		return "NODATA"
	}
	if s, ok := dns.RcodeToString[msg.Rcode]; ok {
		return s
	}
	return fmt.Sprintf("RCODE%d", msg.Rcode)
}

// parentOf returns name without its first label, "" for a top-level name.
func parentOf(name string) string {
	off, end := dns.NextLabel(name, 0)
	if end {
		return ""
	}
	p := name[off:]
	if p == "." || p == "" {
		return ""
	}
	return p
}

func canonical(name string) string {
	return strings.ToLower(dns.Fqdn(strings.TrimSpace(name)))
}
