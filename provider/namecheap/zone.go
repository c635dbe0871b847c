package namecheap

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"

	"github.com/strictacme/strictacme/provider/namecheap/internal/api"
)

// normalizeName lower-cases a domain name, drops one trailing dot and
// converts U-labels to A-labels.
func normalizeName(name string) (string, error) {
	n := strings.TrimSuffix(strings.TrimSpace(name), ".")
	if n == "" {
		return "", fmt.Errorf("empty domain name")
	}
	// Underscore labels (_acme-challenge) are not IDNA-valid; only convert
	// labels that are not plain ASCII.
	labels := strings.Split(n, ".")
	for i, l := range labels {
		if l == "" {
			return "", fmt.Errorf("%q has an empty label", name)
		}
		if !isASCII(l) {
			a, err := idna.Lookup.ToASCII(l)
			if err != nil {
				return "", fmt.Errorf("%q: label %q is not a valid IDN: %v", name, l, err)
			}
			labels[i] = a
		}
	}
	return strings.ToLower(strings.Join(labels, ".")), nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// icannSuffix returns the longest suffix of name (normalised) that is a
// public suffix in the ICANN section of the list. Private-section entries
// (e.g. za.com) are ignored: Namecheap registers under ICANN TLDs. A TLD
// missing from the list counts as a one-label suffix.
func icannSuffix(name string) string {
	labels := strings.Split(name, ".")
	for i := range labels {
		s := strings.Join(labels[i:], ".")
		if ps, icann := publicsuffix.PublicSuffix(s); ps == s && icann {
			return s
		}
	}
	return labels[len(labels)-1]
}

// splitZone splits a zone into Namecheap's SLD and TLD: TLD is the ICANN
// public suffix, SLD everything before it, so a FreeDNS sub-zone
// "1605.carlini.com" gives SLD "1605.carlini"
// (https://github.com/acmesh-official/acme.sh/issues/7178).
func splitZone(z string) (sld, tld string, err error) {
	tld = icannSuffix(z)
	if tld == z {
		return "", "", fmt.Errorf("%q is a public suffix, not a domain that can be registered", z)
	}
	return strings.TrimSuffix(z, "."+tld), tld, nil
}

// sameDomain reports whether the Domain attribute of an API answer names
// zone z (A-labels, lower case): the API may answer an IDN zone in
// Unicode, which must not read as an answer for another domain.
func sameDomain(answer, z string) bool {
	n, err := normalizeName(answer)
	return err == nil && n == z
}

// registeredDomain is the ICANN suffix plus one label.
func registeredDomain(name string) (string, error) {
	tld := icannSuffix(name)
	if tld == name {
		return "", fmt.Errorf("%q is a public suffix", name)
	}
	rest := strings.TrimSuffix(name, "."+tld)
	return rest[strings.LastIndexByte(rest, '.')+1:] + "." + tld, nil
}

func zoneParts(zone string) (z, sld, tld string, err error) {
	z, err = normalizeName(zone)
	if err != nil {
		return "", "", "", fmt.Errorf("namecheap: zone %q: %v", zone, err)
	}
	sld, tld, err = splitZone(z)
	if err != nil {
		return "", "", "", fmt.Errorf("namecheap: zone %q: %v", zone, err)
	}
	return z, sld, tld, nil
}

// hostName turns a libdns record name (relative to the zone, "@", or an
// FQDN with a trailing dot) into Namecheap's HostName: the name minus
// ".SLD.TLD", or "@" for the apex
// (https://www.namecheap.com/support/api/methods/domains-dns/set-hosts/:
// "_acme-challenge.cluster", never "_acme-challengecluster").
func hostName(name, z string) (string, error) {
	n := strings.TrimSpace(name)
	switch {
	case n == "" || n == "@":
		if n == "" {
			return "", fmt.Errorf("namecheap: record with an empty name in zone %s; use \"@\" for the apex", z)
		}
		return "@", nil
	case strings.HasSuffix(n, "."):
		fq, err := normalizeName(n)
		if err != nil {
			return "", fmt.Errorf("namecheap: record name %q: %v", name, err)
		}
		if fq == z {
			return "@", nil
		}
		if !strings.HasSuffix(fq, "."+z) {
			return "", fmt.Errorf("namecheap: record name %q is not inside zone %s", name, z)
		}
		return strings.TrimSuffix(fq, "."+z), nil
	}
	rel, err := normalizeName(n)
	if err != nil {
		return "", fmt.Errorf("namecheap: record name %q: %v", name, err)
	}
	return rel, nil
}

// HostName returns the Namecheap HostName for fqdn in zone (both with or
// without the trailing dot): "@" for the apex, otherwise the labels left of
// the zone joined with dots.
func HostName(fqdn, zone string) (string, error) {
	z, err := normalizeName(zone)
	if err != nil {
		return "", fmt.Errorf("namecheap: zone %q: %v", zone, err)
	}
	return hostName(strings.TrimSuffix(fqdn, ".")+".", z)
}

// ZoneNotFoundError says that no candidate zone for Name is managed by this
// account on Namecheap DNS. Tried lists each zone asked with
// getHosts and the answer.
type ZoneNotFoundError struct {
	Name  string
	Tried []TriedZone
}

// TriedZone is one getHosts probe made by ZoneFor.
type TriedZone struct {
	Zone   string
	Reason error
}

func (e *ZoneNotFoundError) Error() string {
	var parts []string
	for _, t := range e.Tried {
		parts = append(parts, t.Zone+" ("+reasonText(t.Reason)+")")
	}
	return fmt.Sprintf("namecheap: no zone for %s in this Namecheap account: tried %s; check that the domain is in this account (or shared with it) and uses Namecheap BasicDNS/PremiumDNS/FreeDNS, or set %s to the zone",
		e.Name, strings.Join(parts, ", "), EnvZone)
}

func reasonText(err error) string {
	if ae, ok := errorsAs[*api.Error](err); ok {
		return "error " + strconv.Itoa(ae.Number) + " " + ae.Message
	}
	return err.Error()
}

// zoneMissing reports whether a getHosts error means "this is not a zone we
// can manage" (try another candidate) rather than a failure to stop on.
func zoneMissing(err error) bool {
	ae, ok := errorsAs[*api.Error](err)
	if !ok {
		return false
	}
	switch ae.Number {
	case api.ErrNumDomainNotFound, api.ErrNumNotAssociated, api.ErrNumNotOurDNS, api.ErrNumEditNotSupported:
		return true
	}
	return false
}

// maxProbes bounds the getHosts probes of one ZoneFor.
const maxProbes = 4

// ZoneFor returns the zone (with trailing dot) that holds fqdn, with no DNS
// query: Config.Zone if set (fqdn must be inside it), else the registered
// domain from the ICANN section of the public-suffix list. The zone is
// confirmed by a getHosts that succeeds; if the registered domain is not in
// the account, longer parents of fqdn are probed for a FreeDNS sub-zone
// (at most 4 probes). Confirmed zones are remembered for the Provider's
// life, so a whole order costs one probe per zone. Errors: *ZoneNotFoundError
// listing the zones tried, or the API error (wrong key, IP not whitelisted).
func (p *Provider) ZoneFor(ctx context.Context, fqdn string) (string, error) {
	if err := p.setup(); err != nil {
		return "", err
	}
	name, err := normalizeName(fqdn)
	if err != nil {
		return "", fmt.Errorf("namecheap: name %q: %v", fqdn, err)
	}
	var candidates []string
	if p.cfg.Zone != "" {
		if name != p.cfg.Zone && !strings.HasSuffix(name, "."+p.cfg.Zone) {
			return "", fmt.Errorf("namecheap: %s is not inside the configured zone %s (%s); fix the name or the setting", name, p.cfg.Zone, EnvZone)
		}
		candidates = []string{p.cfg.Zone}
	} else {
		reg, err := registeredDomain(name)
		if err != nil {
			return "", fmt.Errorf("namecheap: name %q: %v", fqdn, err)
		}
		candidates = append(candidates, reg)
		// Longer parents, shortest first: FreeDNS sub-zones such as
		// 1605.carlini.com (acme.sh#7178). Labels starting with "_" are
		// never zone cuts we look for.
		rest := strings.TrimSuffix(name, reg)
		labels := strings.Split(strings.TrimSuffix(rest, "."), ".")
		cur := reg
		for i := len(labels) - 1; i >= 0 && rest != "" && len(candidates) < maxProbes; i-- {
			if strings.HasPrefix(labels[i], "_") || labels[i] == "*" {
				break
			}
			cur = labels[i] + "." + cur
			candidates = append(candidates, cur)
		}
	}
	nf := &ZoneNotFoundError{Name: name}
	for _, z := range candidates {
		err := p.confirmZone(ctx, z)
		if err == nil {
			return z + ".", nil
		}
		if !zoneMissing(err) {
			return "", fmt.Errorf("namecheap: confirming zone %s for %s: %w", z, name, err)
		}
		nf.Tried = append(nf.Tried, TriedZone{Zone: z, Reason: err})
	}
	return "", nf
}

// confirmZone runs getHosts on z once per Provider (results cached).
func (p *Provider) confirmZone(ctx context.Context, z string) error {
	p.mu.Lock()
	ok, nf := p.confirmed[z], p.notFound[z]
	p.mu.Unlock()
	if ok {
		return nil
	}
	if nf != nil {
		return nf
	}
	sld, tld, err := splitZone(z)
	if err != nil {
		return err
	}
	c, err := p.apiClient(ctx)
	if err != nil {
		return err
	}
	res, err := c.GetHosts(ctx, sld, tld)
	if err == nil && !sameDomain(res.Domain, z) {
		err = fmt.Errorf("getHosts for %s answered for domain %q; not confirmed", z, res.Domain)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case err == nil:
		p.confirmed[z] = true
	case zoneMissing(err):
		p.notFound[z] = err
	}
	return err
}
