// Package delegation decides where a challenge record is written when the
// name the CA queries is delegated elsewhere (case family DL).
//
// Two ways:
//
//   - Static rules that need no DNS at all (case DL01): a challenge alias
//     (the record for <name> goes to _acme-challenge.<alias>, as acme.sh's
//     --challenge-alias does) or a full target name, per domain or one alias
//     for every domain. With Verify, the CNAME they rely on is checked
//     before the order, asking type CNAME only.
//   - An existing CNAME at the challenge name, the way lego, acme.sh and
//     acme-dns users delegate: read from the provider's own records where
//     the provider can read its zone, through the resolvers for a name no
//     provider serves, and (Follow, opt-in) through the resolvers for a
//     name whose provider cannot read records. At most MaxHops hops, loops
//     refused; a CNAME synthesized from a wildcard, or a chain that ends in
//     a zone no configured provider serves, is refused with an explanation
//     before anything is written. Every decision is logged before the write
//     (case DL02). lookup.go explains which questions are safe to ask
//     before the write (RFC 2308 negative caching).
//
// Rules decides per name; Delegator implements issue.Delegator on top.
package delegation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/libdns/libdns"
	"golang.org/x/net/idna"

	"github.com/strictacme/strictacme/internal/providers"
	"github.com/strictacme/strictacme/internal/resolver"
	"github.com/strictacme/strictacme/provider/acmedns"
)

// ChallengeLabel is the label every DNS challenge record name contains:
// "_acme-challenge" (RFC 8555 §8.4); dns-account-01 puts one more label in
// front of it.
const ChallengeLabel = "_acme-challenge"

// MaxHops is the longest CNAME chain Discover follows. RFC 1034 §3.6.2 asks
// for short chains; resolvers give up around 8 to 16.
const MaxHops = 8

// Rules are the static delegation settings. The zero value delegates
// nothing. Keys of Aliases and Targets are domain names as written in the
// certificate (Unicode or A-labels, "*." and a trailing dot ignored).
type Rules struct {
	// Aliases maps a domain to an alias domain: the record for
	// _acme-challenge.<domain> is written at _acme-challenge.<alias>
	// (dns-account-01: _<label>._acme-challenge.<alias>).
	Aliases map[string]string
	// Targets maps a domain to the full name its record is written at,
	// whatever the challenge label. For one certificate with dns-01 only.
	Targets map[string]string
	// Alias, when set, is the alias of every domain without its own entry
	// in Aliases or Targets.
	Alias string
}

// Empty reports whether r delegates nothing.
func (r Rules) Empty() bool { return len(r.Aliases) == 0 && len(r.Targets) == 0 && r.Alias == "" }

// Normalize returns the canonical form of a domain used as a key or target:
// lower-case A-labels, "*." dropped, absolute (trailing dot). The error
// names the input.
func Normalize(domain string) (string, error) {
	d := strings.TrimSpace(domain)
	d = strings.TrimPrefix(d, "*.")
	d = strings.TrimSuffix(d, ".")
	if d == "" {
		return "", fmt.Errorf("empty domain name %q", domain)
	}
	a, err := idna.Lookup.ToASCII(d)
	if err != nil {
		// Labels such as _acme-challenge are not host names; keep them
		// when the name is plain ASCII.
		if !isPrintableASCII(d) {
			return "", fmt.Errorf("domain %q: %v", domain, err)
		}
		a = d
	}
	if strings.Contains(a, "..") || strings.ContainsAny(a, " \t/") {
		return "", fmt.Errorf("domain %q is not a DNS name", domain)
	}
	return strings.ToLower(a) + ".", nil
}

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// Split cuts a challenge record name into the part up to and including the
// "_acme-challenge" label and the domain after it:
// "_acme-challenge.www.example.com." gives ("_acme-challenge",
// "www.example.com."). ok is false when the name has no such label.
func Split(fqdn string) (prefix, domain string, ok bool) {
	n := strings.ToLower(strings.TrimSuffix(fqdn, ".")) + "."
	labels := strings.Split(strings.TrimSuffix(n, "."), ".")
	for i, l := range labels {
		if l == ChallengeLabel && i+1 < len(labels) {
			return strings.Join(labels[:i+1], "."), strings.Join(labels[i+1:], ".") + ".", true
		}
	}
	return "", "", false
}

// compiled is Rules with normalized keys.
type compiled struct {
	aliases, targets map[string]string
	alias            string
}

func (r Rules) compile() (compiled, error) {
	c := compiled{aliases: map[string]string{}, targets: map[string]string{}}
	var errs []error
	for k, v := range r.Aliases {
		nk, err1 := Normalize(k)
		nv, err2 := Normalize(v)
		if err := errors.Join(err1, err2); err != nil {
			errs = append(errs, fmt.Errorf("challenge alias %s=%s: %w", k, v, err))
			continue
		}
		c.aliases[nk] = nv
	}
	for k, v := range r.Targets {
		nk, err1 := Normalize(k)
		nv, err2 := Normalize(v)
		if err := errors.Join(err1, err2); err != nil {
			errs = append(errs, fmt.Errorf("challenge target %s=%s: %w", k, v, err))
			continue
		}
		if _, dup := c.aliases[nk]; dup {
			errs = append(errs, fmt.Errorf("domain %s has both a challenge alias and a challenge target; keep one", k))
			continue
		}
		c.targets[nk] = nv
	}
	if r.Alias != "" {
		a, err := Normalize(r.Alias)
		if err != nil {
			errs = append(errs, fmt.Errorf("challenge alias %q: %w", r.Alias, err))
		}
		c.alias = a
	}
	return c, errors.Join(errs...)
}

// static returns the target from the rules, or "" when no rule applies.
func (c compiled) static(fqdn string) (target, rule string) {
	prefix, domain, ok := Split(fqdn)
	if !ok {
		return "", ""
	}
	if t, ok := c.targets[domain]; ok {
		return t, "challenge target for " + strings.TrimSuffix(domain, ".")
	}
	if a, ok := c.aliases[domain]; ok {
		return prefix + "." + a, "challenge alias " + strings.TrimSuffix(a, ".") + " for " + strings.TrimSuffix(domain, ".")
	}
	if c.alias != "" {
		return prefix + "." + c.alias, "challenge alias " + strings.TrimSuffix(c.alias, ".")
	}
	return "", ""
}

// Delegator implements issue.Delegator: static Rules first, then the CNAME
// already at the challenge name. Results are remembered per name for the
// Delegator's life, so a name is looked up once per order. It is safe for
// concurrent use; configure it before the first call.
//
// An existing CNAME (how lego, acme.sh and acme-dns users delegate) is
// followed by default when it can be learned without a DNS question that
// could hide the record (see lookup.go): from the records of a provider
// that serves the name and can read its zone, or through Resolvers for a
// name no provider serves. A chain that ends in a zone no provider serves
// is refused before anything is written (*ForeignZoneError).
type Delegator struct {
	Rules Rules
	// Follow also asks Resolvers about a name whose provider cannot read
	// its records (an opt-in: when the name has no CNAME, the resolver
	// caches its NXDOMAIN for every type, the TXT written later included,
	// for up to the zone's negative TTL, RFC 2308 §5).
	Follow bool
	// Verify checks, through Resolvers and asking type CNAME only, that
	// the CNAME a static rule relies on is in place (MissingCNAMEError,
	// WrongTargetError) before anything is ordered or written. A resolver
	// that cannot be reached is logged and does not stop the order.
	Verify bool
	// Resolvers are asked in order, the next one when one fails at the
	// transport level; required for Follow and Verify, and used for names
	// no provider serves.
	Resolvers []resolver.Resolver
	// Providers, when set, are read for existing CNAMEs and must serve the
	// zone of every discovered target (the chain may not lead into a zone
	// nobody here can write).
	Providers *providers.Set
	// Log receives one line per decision; nil discards.
	Log func(line string)
	// Probe returns the random label of a wildcard probe; nil means
	// RandomProbeLabel.
	Probe func() string

	once   sync.Once
	rules  compiled
	err    error
	mu     sync.Mutex
	cache  map[string]string
	chains map[string]*Chain
	zones  map[string][]libdns.Record
}

// New checks rules and returns a Delegator for them. Follow, Resolvers,
// Providers and Log can be set on the result.
func New(rules Rules) (*Delegator, error) {
	d := &Delegator{Rules: rules}
	d.init()
	return d, d.err
}

func (d *Delegator) init() {
	d.once.Do(func() {
		d.rules, d.err = d.Rules.compile()
		d.cache = map[string]string{}
		d.chains = map[string]*Chain{}
		d.zones = map[string][]libdns.Record{}
	})
}

func (d *Delegator) logf(format string, a ...any) {
	if d.Log != nil {
		d.Log(fmt.Sprintf(format, a...))
	}
}

// Delegate returns the absolute name the TXT record for fqdn is written at:
// the static rule's target, the end of the existing CNAME chain, or fqdn
// itself. Static rules send no DNS query unless Verify is set. Errors:
// *WildcardError, *LoopError, *TooLongError, *ForeignZoneError,
// *MissingCNAMEError, *WrongTargetError, a provider or resolver failure.
func (d *Delegator) Delegate(ctx context.Context, fqdn string) (string, error) {
	d.init()
	if d.err != nil {
		return "", d.err
	}
	name := strings.ToLower(strings.TrimSuffix(fqdn, ".")) + "."
	d.mu.Lock()
	if t, ok := d.cache[name]; ok {
		d.mu.Unlock()
		return t, nil
	}
	d.mu.Unlock()
	target, ch, err := d.resolve(ctx, name)
	if err != nil {
		return "", err
	}
	d.mu.Lock()
	d.cache[name] = target
	if ch != nil {
		d.chains[name] = ch
	}
	d.mu.Unlock()
	return target, nil
}

// Static returns the target of the static rule for fqdn, with no I/O; ok
// is false when no rule applies (Delegate then reads the existing CNAME).
func (d *Delegator) Static(fqdn string) (target string, ok bool) {
	d.init()
	t, _ := d.rules.static(strings.ToLower(strings.TrimSuffix(fqdn, ".")) + ".")
	return t, t != ""
}

// Chain returns the CNAME chain Delegate found or verified for fqdn, nil
// when it has not looked at one (no CNAME read, or not called yet).
func (d *Delegator) Chain(fqdn string) *Chain {
	d.init()
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.chains[strings.ToLower(strings.TrimSuffix(fqdn, "."))+"."]
}

func (d *Delegator) resolve(ctx context.Context, name string) (string, *Chain, error) {
	if t, rule := d.rules.static(name); t != "" {
		if !d.Verify || len(d.Resolvers) == 0 {
			d.logf("delegation: %s -> %s (%s; no DNS query)", name, t, rule)
			return t, nil, nil
		}
		ch, err := Verify(ctx, d.Resolvers, name, t, d.Probe)
		var le *LookupError
		switch {
		case errors.As(err, &le) && ctx.Err() == nil:
			d.logf("delegation: %s -> %s (%s); the CNAME could not be verified: %v", name, t, rule, err)
			return t, nil, nil
		case err != nil:
			return "", nil, err
		}
		d.logf("delegation: %s -> %s (%s; CNAME verified through %s)", name, t, rule, ch.Via)
		return t, ch, nil
	}
	if t, handled, err := d.acmeDNS(ctx, name); handled {
		return t, nil, err
	}
	if d.Providers == nil && !d.Follow {
		return name, nil, nil
	}
	ch, err := d.walk(ctx, name)
	if err != nil {
		return "", nil, err
	}
	if len(ch.Hops) == 0 {
		if d.Providers != nil && !d.Providers.Serves(name) {
			var zones []string
			for _, e := range d.Providers.Entries() {
				zones = append(zones, strings.TrimSuffix(e.Suffix, "."))
			}
			return "", nil, &UnservedError{Chain: ch, Zones: zones}
		}
		if d.Follow {
			d.logf("delegation: no CNAME at %s (asked %s); writing the record at its own name", name, ch.Via)
		}
		return name, nil, nil
	}
	target := ch.Target()
	if d.Providers != nil {
		if _, err := d.Providers.Route(ctx, target); err != nil {
			return "", nil, &ForeignZoneError{Chain: ch, Err: err}
		}
	}
	d.logf("delegation: %s (CNAME chain read from %s)", ch, ch.Via)
	if ch.NegativeTTL > 0 {
		d.logf("delegation: %s answered %s for %s; a resolver that caches by name may keep that answer up to %s (RFC 2308 §5)", ch.Via, ch.EndRcode, target, ch.NegativeTTL)
	}
	return target, ch, nil
}

// acmeDNS verifies, for a challenge name an acme-dns provider writes, the
// CNAME that leads the CA from the name to the account the record goes
// in: the provider writes into the account whatever DNS says, so without
// the CNAME every authorization would fail at the CA. The question goes to
// the challenge server's /lookup (HTTPS, no DNS from here), else, when
// Verify is set, through Resolvers (asking type CNAME at a name nothing is
// written at, which caches nothing that could hide a record). A missing or
// different CNAME is the error (MissingRecord, exit code 6); a question
// nobody could answer is logged and the record written. handled is false
// for a name no acme-dns provider writes.
func (d *Delegator) acmeDNS(ctx context.Context, name string) (target string, handled bool, err error) {
	if d.Providers == nil {
		return "", false, nil
	}
	prefix, domain, ok := Split(name)
	if !ok || prefix != ChallengeLabel {
		return "", false, nil
	}
	route, err := d.Providers.Route(ctx, name)
	if err != nil {
		return "", false, nil
	}
	p, ok := route.Entry.Provider.(*acmedns.Provider)
	if !ok {
		return "", false, nil
	}
	acc, err := p.AccountFor(name)
	if err != nil {
		return "", false, nil // the write reports it, with its fix
	}
	check := AcmeDNSCheck{Client: p.HTTPClient, Server: p.ServerURL, Probe: d.Probe, Resolvers: func() ([]resolver.Resolver, error) {
		if !d.Verify || len(d.Resolvers) == 0 {
			return nil, errors.New("the server has no /lookup and no DNS question is allowed")
		}
		return d.Resolvers, nil
	}}
	full := canonical(acc.FullDomain)
	err = check.Check(ctx, acc, domain)
	var m interface{ MissingRecord() bool }
	switch {
	case err == nil:
		d.logf("delegation: %s -> %s (acme-dns account of provider %s; CNAME verified)", name, full, route.Entry.Name)
	case errors.As(err, &m) && m.MissingRecord():
		return "", true, err
	case ctx.Err() != nil:
		return "", true, ctx.Err()
	default:
		d.logf("delegation: %s -> %s (acme-dns account of provider %s); the CNAME could not be verified: %v", name, full, route.Entry.Name, err)
	}
	return name, true, nil
}

// ParseSpecs reads --challenge-alias or --challenge-target values: each is
// DOMAIN=NAME; for aliases a single value without "=" is the alias of every
// domain (returned as all). The error names the bad value.
func ParseSpecs(flag string, values []string, allowAll bool) (m map[string]string, all string, err error) {
	m = map[string]string{}
	for _, v := range values {
		k, val, ok := strings.Cut(v, "=")
		if !ok {
			if !allowAll || all != "" {
				return nil, "", fmt.Errorf("%s %q: want DOMAIN=NAME", flag, v)
			}
			if _, err := Normalize(v); err != nil {
				return nil, "", fmt.Errorf("%s %q: %v", flag, v, err)
			}
			all = v
			continue
		}
		if _, err := Normalize(k); err != nil {
			return nil, "", fmt.Errorf("%s %q: %v", flag, v, err)
		}
		if _, err := Normalize(val); err != nil {
			return nil, "", fmt.Errorf("%s %q: %v", flag, v, err)
		}
		if _, dup := m[k]; dup {
			return nil, "", fmt.Errorf("%s: %s given twice; keep one", flag, k)
		}
		m[k] = val
	}
	return m, all, nil
}
