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

	"github.com/strictacme/strictacme/internal/providers"
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
	zone := strings.TrimSuffix(e.Chain.Target(), ".")
	if z, err := providers.RegisteredDomain(e.Chain.Target()); err == nil {
		zone = strings.TrimSuffix(z, ".")
	}
	return fmt.Sprintf("%s (read from %s) leads into zone %s, which no configured provider serves; nothing was written: give a provider that zone (zones = [%q] in its [providers.NAME] table, or providers = { %q = \"NAME\" } in the certificate), or point the CNAME into a zone a provider serves",
		e.Chain, e.Chain.Via, zone, zone, zone)
}

// MissingRecord marks an error whose fix is DNS or provider set-up, not a
// retry (exit code 6).
func (e *ForeignZoneError) MissingRecord() bool { return true }

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
	return discover(ctx, rs, name, "", probe)
}

// Verify checks through rs that the CNAME chain at name leads to want,
// the name a static rule writes the record at, asking type CNAME only
// (see lookup.go for why). The chain is followed until it reaches want;
// want itself is never asked about, since it may not exist before the
// write and a NXDOMAIN cached for it would hide the record (RFC 2308 §5).
// Errors: *MissingCNAMEError when name has no CNAME, *WrongTargetError
// when the chain ends elsewhere, the errors of Discover, or a resolver
// failure (which says nothing about the records).
func Verify(ctx context.Context, rs []resolver.Resolver, name, want string, probe func() string) (*Chain, error) {
	want = canonical(want)
	ch, err := discover(ctx, rs, name, want, probe)
	if err != nil {
		return nil, err
	}
	switch {
	case len(ch.Hops) == 0:
		return ch, &MissingCNAMEError{Name: ch.Start, Want: want, Via: ch.Via, Rcode: ch.EndRcode}
	case ch.Target() != want:
		return ch, &WrongTargetError{Chain: ch, Want: want}
	}
	return ch, nil
}

// discover follows the chain through DNS; a non-empty stop ends it, without
// a question, when it reaches that name.
func discover(ctx context.Context, rs []resolver.Resolver, name, stop string, probe func() string) (*Chain, error) {
	if len(rs) == 0 {
		return nil, errors.New("CNAME discovery needs at least one resolver")
	}
	if probe == nil {
		probe = RandomProbeLabel
	}
	ch := &Chain{Start: canonical(name)}
	seen := map[string]bool{ch.Start: true}
	cur := ch.Start
	for cur != stop {
		t, found, via, neg, err := dnsHop(ctx, rs, cur, probe)
		if err != nil {
			return nil, err
		}
		ch.Via = via
		if !found {
			ch.end(neg)
			return ch, nil
		}
		if err := ch.hop(cur, t, seen); err != nil {
			return nil, err
		}
		cur = t
	}
	return ch, nil
}

// UnservedError is a challenge name in a zone no configured provider
// serves, without a CNAME that leads into one.
type UnservedError struct {
	Chain *Chain
	// Zones are the configured providers' zones.
	Zones []string
}

func (e *UnservedError) Error() string {
	how := "no CNAME"
	if e.Chain.EndRcode != "" {
		how = fmt.Sprintf("no CNAME (%s from %s)", e.Chain.EndRcode, e.Chain.Via)
	}
	return fmt.Sprintf("%s is in no configured provider's zones (%s) and has %s; nothing was written: add its zone to a provider, or add a CNAME from it into a zone a provider serves", e.Chain.Start, strings.Join(e.Zones, ", "), how)
}

// MissingRecord marks an error whose fix is DNS or provider set-up (exit
// code 6).
func (e *UnservedError) MissingRecord() bool { return true }

// MissingCNAMEError is a static delegation whose CNAME is not in public
// DNS: the CA would look at the challenge name itself and fail every
// authorization.
type MissingCNAMEError struct {
	Name, Want string
	// Via is the resolver that answered, Rcode its answer ("NXDOMAIN" or
	// "NODATA").
	Via, Rcode string
}

func (e *MissingCNAMEError) Error() string {
	return fmt.Sprintf("%s has no CNAME (%s from %s), so the CA will not look at %s: add the record %s CNAME %s", e.Name, e.Rcode, e.Via, e.Want, e.Name, e.Want)
}

// MissingRecord marks an error whose fix is a DNS record (exit code 6).
func (e *MissingCNAMEError) MissingRecord() bool { return true }

// WrongTargetError is a static delegation whose CNAME chain leads
// somewhere else than where the record is written.
type WrongTargetError struct {
	Chain *Chain
	Want  string
}

func (e *WrongTargetError) Error() string {
	return fmt.Sprintf("%s leads to %s, not to %s where the record would be written: point the CNAME at %s", e.Chain, e.Chain.Target(), e.Want, e.Want)
}

// MissingRecord marks an error whose fix is a DNS record (exit code 6).
func (e *WrongTargetError) MissingRecord() bool { return true }

// ask sends a CNAME question to each resolver in turn until one answers
// with a usable RCODE (NOERROR or NXDOMAIN).
func ask(ctx context.Context, rs []resolver.Resolver, name string) (*dns.Msg, string, error) {
	var errs []error
	for _, r := range rs {
		msg, err := resolver.Query(ctx, r, name, dns.TypeCNAME)
		if err != nil {
			if ctx.Err() != nil {
				return nil, "", ctx.Err()
			}
			errs = append(errs, err)
			continue
		}
		if msg.Rcode != dns.RcodeSuccess && msg.Rcode != dns.RcodeNameError {
			errs = append(errs, fmt.Errorf("%s: %s for %s CNAME", r, rcodeName(msg), name))
			continue
		}
		return msg, r.String(), nil
	}
	return nil, "", &LookupError{Name: name, Errs: errs}
}

// LookupError is a CNAME question no resolver answered usably; Errs are
// each resolver's failure (*resolver.Error for a transport failure).
type LookupError struct {
	Name string
	Errs []error
}

func (e *LookupError) Error() string {
	s := make([]string, len(e.Errs))
	for i, err := range e.Errs {
		s[i] = err.Error()
	}
	return fmt.Sprintf("looking up the CNAME at %s: %s", e.Name, strings.Join(s, "; "))
}

func (e *LookupError) Unwrap() []error { return e.Errs }

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
