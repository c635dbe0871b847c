// Package providers routes each challenge record to the DNS provider and zone
// that will hold it: providers are configured per zone suffix, the longest
// matching suffix wins, and the zone is found without any DNS query (the
// provider's own zone list, an explicit zone, or the public-suffix split).
package providers

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/libdns/libdns"
	"golang.org/x/net/publicsuffix"

	"github.com/strictacme/strictacme/internal/exitcode"
)

// Provider is what the order flow needs from a DNS provider: batch writes and
// deletes per zone (github.com/libdns/libdns v1). Zones and names are absolute
// (trailing dot) in calls to Route's results; records carry relative names.
type Provider interface {
	libdns.RecordAppender
	libdns.RecordDeleter
}

// ZoneFinder is implemented by providers that know which zone holds a name
// without DNS (Namecheap: public suffix confirmed by getHosts).
type ZoneFinder interface {
	ZoneFor(ctx context.Context, fqdn string) (string, error)
}

// Authoritative is implemented by providers whose API confirmation means the
// record is already served by the authoritative servers and visible to the CA
// (an acme-dns challenge server; Route 53, whose write returns once the change
// is INSYNC on all its name servers), so no propagation wait is needed.
type Authoritative interface {
	Authoritative() bool
}

// Entry is one configured provider.
type Entry struct {
	// Name identifies the configuration in logs and the journal, e.g.
	// "namecheap" or "acmedns".
	Name string
	// Suffix limits the entry to names at or under it ("" matches all).
	Suffix string
	// Zone, when set, is the zone to write into for every name under Suffix
	// (delegated sub-zones, FreeDNS).
	Zone     string
	Provider Provider
	// SingleValue marks the provider as keeping one TXT value per name
	// whatever it declares (an upsert script): see Sequential.
	SingleValue bool
}

// Target is where one record goes.
type Target struct {
	Entry *Entry
	// Zone is absolute, lower case, with the trailing dot.
	Zone string
}

// Set is a list of entries. It is safe for concurrent use once built.
type Set struct {
	entries []*Entry
}

// NewSet builds a set; entries with the same Suffix are refused.
func NewSet(entries ...Entry) (*Set, error) {
	s := &Set{}
	seen := map[string]bool{}
	for i := range entries {
		e := entries[i]
		e.Suffix = canonical(e.Suffix)
		if e.Zone != "" {
			e.Zone = canonical(e.Zone)
		}
		if seen[e.Suffix] {
			return nil, fmt.Errorf("two providers configured for zone %q; keep one", strings.TrimSuffix(e.Suffix, "."))
		}
		seen[e.Suffix] = true
		s.entries = append(s.entries, &e)
	}
	sort.SliceStable(s.entries, func(i, j int) bool { return len(s.entries[i].Suffix) > len(s.entries[j].Suffix) })
	return s, nil
}

// Entries returns the configured entries, longest suffix first.
func (s *Set) Entries() []*Entry { return s.entries }

// Route returns the provider and zone for an absolute name. It sends no DNS
// query. Errors carry an exit code: exitcode.Usage when the configuration
// cannot serve the name (no provider for it, a name outside the configured
// zone, no registered domain), exitcode.DNS when the provider's API failed
// or said no while finding the zone, the same code as a failed write.
func (s *Set) Route(ctx context.Context, fqdn string) (Target, error) {
	fqdn = canonical(fqdn)
	for _, e := range s.entries {
		if !e.covers(fqdn) {
			continue
		}
		zone, err := zoneFor(ctx, e, fqdn)
		if err != nil {
			if exitcode.Of(err) == exitcode.Failure {
				err = exitcode.With(exitcode.Usage, err)
			}
			return Target{}, err
		}
		return Target{Entry: e, Zone: zone}, nil
	}
	var names []string
	for _, e := range s.entries {
		names = append(names, strings.TrimSuffix(e.Suffix, "."))
	}
	return Target{}, exitcode.With(exitcode.Usage, fmt.Errorf("no configured DNS provider serves %s (providers are configured for: %s); add one for its zone", strings.TrimSuffix(fqdn, "."), strings.Join(names, ", ")))
}

// providerFailure gives an error of a provider's API exit code DNS unless
// it carries one (a provider may know a failure is the operator's to fix).
func providerFailure(err error) error {
	if exitcode.Of(err) != exitcode.Failure {
		return err
	}
	return exitcode.With(exitcode.DNS, err)
}

func zoneFor(ctx context.Context, e *Entry, fqdn string) (string, error) {
	if e.Zone != "" {
		if fqdn != e.Zone && !strings.HasSuffix(fqdn, "."+e.Zone) {
			return "", fmt.Errorf("%s is not inside the configured zone %s", fqdn, e.Zone)
		}
		return e.Zone, nil
	}
	if zf, ok := e.Provider.(ZoneFinder); ok {
		z, err := zf.ZoneFor(ctx, fqdn)
		if err != nil {
			return "", providerFailure(err)
		}
		return canonical(z), nil
	}
	if zl, ok := e.Provider.(libdns.ZoneLister); ok {
		zones, err := zl.ListZones(ctx)
		if err != nil {
			return "", providerFailure(fmt.Errorf("%s: listing zones: %w", e.Name, err))
		}
		names := make([]string, len(zones))
		for i, z := range zones {
			names[i] = z.Name
		}
		best := canonical(LongestZone(fqdn, names))
		if best == "" {
			return "", fmt.Errorf("%s: no zone in this account holds %s", e.Name, strings.TrimSuffix(fqdn, "."))
		}
		return best, nil
	}
	return RegisteredDomain(fqdn)
}

// LongestZone returns the zone of zones that holds fqdn, the longest when
// zones nest (a delegated child zone holds its names, not its parent), as
// spelled in zones; "" when none does. Names compare case-insensitively,
// with or without the trailing dot; a zone holds itself and every name
// below it, label by label ("ample.com" does not hold "example.com").
func LongestZone(fqdn string, zones []string) string {
	name := canonical(fqdn)
	best, bestLen := "", 0
	for _, z := range zones {
		zn := canonical(z)
		if zn == "" || len(zn) <= bestLen {
			continue
		}
		if name == zn || zn == "." || strings.HasSuffix(name, "."+zn) {
			best, bestLen = z, len(zn)
		}
	}
	return best
}

// RegisteredDomain returns the registered domain (public suffix plus one
// label, ICANN section of the public-suffix list) of fqdn, absolute.
func RegisteredDomain(fqdn string) (string, error) {
	name := strings.TrimSuffix(canonical(fqdn), ".")
	rd, err := publicsuffix.EffectiveTLDPlusOne(name)
	if err != nil {
		return "", fmt.Errorf("cannot find the registered domain of %s: %v; set the zone explicitly", name, err)
	}
	return rd + ".", nil
}

func canonical(name string) string {
	name = strings.ToLower(strings.TrimSpace(name))
	if name == "" {
		return ""
	}
	if !strings.HasSuffix(name, ".") {
		name += "."
	}
	return name
}

// Serves reports whether some entry's suffix covers fqdn. It does no I/O
// (unlike Route, which may ask a provider's API for the zone), so it can
// check a plan before anything is sent.
func (s *Set) Serves(fqdn string) bool {
	fqdn = canonical(fqdn)
	for _, e := range s.entries {
		if e.covers(fqdn) {
			return true
		}
	}
	return false
}

// covers reports whether the entry's suffix holds the canonical name fqdn.
func (e *Entry) covers(fqdn string) bool {
	return e.Suffix == "" || e.Suffix == "." || fqdn == e.Suffix || strings.HasSuffix(fqdn, "."+e.Suffix)
}

// Serving returns the set of the entries that Route would pick for the
// given absolute names, so what one certificate's providers declare
// (Capability, ReadBack) is not mixed with providers that serve other
// certificates' zones. It does no I/O. Names no entry serves are left out;
// the result may have no entries.
func (s *Set) Serving(fqdns ...string) *Set {
	out := &Set{}
	if s == nil {
		return out
	}
	picked := map[*Entry]bool{}
	for _, n := range fqdns {
		n = canonical(n)
		for _, e := range s.entries {
			if e.covers(n) {
				picked[e] = true
				break
			}
		}
	}
	for _, e := range s.entries {
		if picked[e] {
			out.entries = append(out.entries, e)
		}
	}
	return out
}
