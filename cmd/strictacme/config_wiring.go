package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/strictacme/strictacme/internal/challenge"

	"github.com/spf13/cobra"

	"github.com/strictacme/strictacme/internal/delegation"
)

// logOut receives the delegation lines of issue (run and check pass their
// own writer).
var logOut io.Writer = os.Stderr

// registerDelegation adds the delegation and propagation-fallback flags.
func (f *issueFlags) registerDelegation(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringArrayVar(&f.aliases, "challenge-alias", nil, "write the TXT for DOMAIN at _acme-challenge.ALIAS: DOMAIN=ALIAS, or ALIAS alone for every domain (no DNS look-up; repeatable)")
	fl.StringArrayVar(&f.targets, "challenge-target", nil, "write the TXT for DOMAIN at exactly FQDN: DOMAIN=FQDN (repeatable)")
	fl.BoolVar(&f.followCNAME, "follow-cname", false, "follow a CNAME at _acme-challenge.NAME through --resolver (wildcard CNAMEs and unserved zones are refused)")
	fl.DurationVar(&f.propTimeout, "propagation-timeout", 0, "give up the propagation check after this long (0 = only --timeout bounds it)")
	fl.StringVar(&f.fallback, "propagation-fallback", "", "strategy to use when --propagation fails, e.g. wait or relay (a resolver holding a negative answer longer than the time left); default: provider when the provider can read records back")
}

// wireDelegation builds p.delegate from the delegation flags.
func (f *issueFlags) wireDelegation(p *plan) error {
	aliases, all, err := delegation.ParseSpecs("--challenge-alias", f.aliases, true)
	if err != nil {
		return usage("%v", err)
	}
	targets, _, err := delegation.ParseSpecs("--challenge-target", f.targets, false)
	if err != nil {
		return usage("%v", err)
	}
	// A rule for a name that is not in the certificate is a typo: the
	// record would silently go to its normal place.
	inCert := map[string]bool{}
	for _, id := range p.identifiers {
		inCert[id.Base()] = true
	}
	for flag, m := range map[string]map[string]string{"--challenge-alias": aliases, "--challenge-target": targets} {
		for k := range m {
			if n, err := delegation.Normalize(k); err == nil && !inCert[strings.TrimSuffix(strings.TrimPrefix(n, "*."), ".")] {
				return usage("%s %s=…: %s is not a name of this certificate", flag, k, k)
			}
		}
	}
	rules := delegation.Rules{Aliases: aliases, Targets: targets, Alias: all}
	if !rules.Empty() || f.followCNAME {
		d, err := delegation.New(rules)
		if err != nil {
			return usage("%v", err)
		}
		d.Providers = p.providers
		d.Log = func(l string) { fmt.Fprintln(logOut, l) }
		if f.followCNAME {
			d.Follow = true
			if d.Resolvers, err = buildResolvers(f.resolvers, p.rootCAs, f.ipv4Only, f.reqTimeout.String()); err != nil {
				return err
			}
		}
		p.delegate = d
	}
	if err := unservedNames(p, f.followCNAME); err != nil {
		return err
	}
	return nil
}

// unservedNames refuses, before anything is sent, a name whose challenge
// record (after static delegation) falls in no configured provider's zones.
// With --follow-cname the target is only known from DNS at issue time.
func unservedNames(p *plan, follow bool) error {
	if follow || p.providers == nil {
		return nil
	}
	if d, ok := p.delegate.(*delegation.Delegator); ok && d.Log != nil {
		// The decisions are printed when the records are written.
		log := d.Log
		d.Log = nil
		defer func() { d.Log = log }()
	}
	for _, id := range p.identifiers {
		fqdn := challenge.DNS01Name(id.Base())
		if p.delegate != nil {
			t, err := p.delegate.Delegate(context.Background(), fqdn)
			if err != nil {
				return usage("%v", err)
			}
			fqdn = t
		}
		if !p.providers.Serves(fqdn) {
			var zones []string
			for _, e := range p.providers.Entries() {
				zones = append(zones, strings.TrimSuffix(e.Suffix, "."))
			}
			return usage("domain %s: its challenge record %s is in no configured provider's zones (%s); add the zone to a provider or delegate the name", id.Base(), strings.TrimSuffix(fqdn, "."), strings.Join(zones, ", "))
		}
	}
	return nil
}
