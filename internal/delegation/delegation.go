// Package delegation decides where a challenge record is written when the
// name the CA queries is delegated elsewhere (case family DL).
//
// Two ways, both explicit or opt-in (case DL02: never a surprise write):
//
//   - Static rules that need no DNS at all (case DL01): a challenge alias
//     (the record for <name> goes to _acme-challenge.<alias>, as acme.sh's
//     --challenge-alias does) or a full target name, per domain or one alias
//     for every domain.
//   - Discovery, when enabled: the CNAME chain at the challenge name is read
//     through the configured resolvers (DoH by default), at most MaxHops
//     hops, loops refused. A CNAME synthesized from a wildcard, or a chain
//     that ends in a zone no configured provider serves, is refused with an
//     explanation instead of a write into a foreign zone.
//
// Rules decides per name; Delegator implements issue.Delegator on top.
package delegation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/net/idna"

	"github.com/strictacme/strictacme/internal/providers"
	"github.com/strictacme/strictacme/internal/resolver"
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

// Delegator implements issue.Delegator: static Rules first (no DNS), then,
// when Follow is set, CNAME discovery. Results are remembered per name for
// the Delegator's life, so a name is looked up once per order. It is safe
// for concurrent use; configure it before the first call.
type Delegator struct {
	Rules Rules
	// Follow enables CNAME discovery for names without a static rule.
	Follow bool
	// Resolvers are asked in order, the next one when one fails at the
	// transport level; required when Follow is set.
	Resolvers []resolver.Resolver
	// Providers, when set, must serve the zone of every discovered target
	// (the chain may not lead into a zone nobody here can write).
	Providers *providers.Set
	// Log receives one line per decision; nil discards.
	Log func(line string)
	// Probe returns the random label of a wildcard probe; nil means
	// RandomProbeLabel.
	Probe func() string

	once  sync.Once
	rules compiled
	err   error
	mu    sync.Mutex
	cache map[string]string
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
	})
}

func (d *Delegator) logf(format string, a ...any) {
	if d.Log != nil {
		d.Log(fmt.Sprintf(format, a...))
	}
}

// Delegate returns the absolute name the TXT record for fqdn is written at:
// the static rule's target, the end of the CNAME chain (Follow), or fqdn
// itself. Static rules send no DNS query. Errors: *WildcardError,
// *LoopError, *TooLongError, *ForeignZoneError, or a resolver failure.
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
	target, err := d.resolve(ctx, name)
	if err != nil {
		return "", err
	}
	d.mu.Lock()
	d.cache[name] = target
	d.mu.Unlock()
	return target, nil
}

func (d *Delegator) resolve(ctx context.Context, name string) (string, error) {
	if t, rule := d.rules.static(name); t != "" {
		d.logf("delegation: %s -> %s (%s; no DNS query)", name, t, rule)
		return t, nil
	}
	if !d.Follow {
		return name, nil
	}
	ch, err := Discover(ctx, d.Resolvers, name, d.Probe)
	if err != nil {
		return "", err
	}
	if len(ch.Hops) == 0 {
		d.logf("delegation: no CNAME at %s (asked %s); writing the record at its own name", name, ch.Via)
		return name, nil
	}
	target := ch.Target()
	if d.Providers != nil {
		if _, err := d.Providers.Route(ctx, target); err != nil {
			return "", &ForeignZoneError{Chain: ch, Err: err}
		}
	}
	d.logf("delegation: %s (CNAME chain discovered through %s)", ch, ch.Via)
	if ch.NegativeTTL > 0 {
		d.logf("delegation: %s answered %s for %s; a resolver that caches by name may keep that answer up to %s (RFC 2308 §5)", ch.Via, ch.EndRcode, target, ch.NegativeTTL)
	}
	return target, nil
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
