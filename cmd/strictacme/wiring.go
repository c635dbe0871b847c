package main

import (
	"context"
	"crypto/x509"
	"os"
	"strings"
	"time"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/issue"
	"github.com/strictacme/strictacme/internal/propagation"
	"github.com/strictacme/strictacme/internal/providers"
	"github.com/strictacme/strictacme/internal/resolver"
	"github.com/strictacme/strictacme/internal/store"
	"github.com/strictacme/strictacme/provider/exec"
)

// sandboxProvider is the --dns value only the sandbox command sets.
const sandboxProvider = "sandbox"

// sandboxEntry is the test world's provider while sandbox runs.
var sandboxEntry *providers.Entry

func certDirName(p *plan) string {
	if p.certName != "" {
		return p.certName
	}
	return store.CertName(p.identifiers[0].ASCII)
}

// providerFromEnv builds the --dns provider from its environment variables
// (the providers' own, lego-compatible names).
// Provider settings come from p.lookup (flags, then environment) or, when
// that is nil, the environment alone.
func providerFromEnv(_ context.Context, name string, p *plan) (providers.Entry, error) {
	lookup := p.lookup
	if lookup == nil {
		lookup = os.LookupEnv
	}
	switch name {
	case "namecheap":
		return namecheapEntry(lookup, p)
	case "acmedns":
		return acmednsEntry(lookup, p)
	case "exec":
		cfg, err := exec.ConfigFromEnv(lookup)
		if err != nil {
			return providers.Entry{}, exitcode.With(exitcode.Usage, err)
		}
		p, err := exec.New(cfg)
		if err != nil {
			return providers.Entry{}, exitcode.With(exitcode.Usage, err)
		}
		return providers.Entry{Name: name, Provider: p}, nil
	case sandboxProvider:
		if sandboxEntry != nil {
			return *sandboxEntry, nil
		}
	case testAPIProviderName: // hidden; tests only (renew_testapi.go)
		return testAPIEntry(p)
	}
	return providers.Entry{}, usage("--dns %q: unknown provider; use exec, namecheap or acmedns", name)
}

func buildResolvers(specs []string, roots *x509.CertPool, ipv4 bool, timeout string) ([]resolver.Resolver, error) {
	d, err := time.ParseDuration(timeout)
	if err != nil || d <= 0 {
		return nil, usage("--request-timeout %q: give a duration such as 5s", timeout)
	}
	if len(specs) == 0 {
		specs = resolver.Defaults
	}
	var out []resolver.Resolver
	for _, s := range specs {
		r, err := resolver.New(s, resolver.Options{RootCAs: roots, Timeout: d, IPv4Only: ipv4})
		if err != nil {
			return nil, usage("--resolver: %v", err)
		}
		out = append(out, r)
	}
	return out, nil
}

// propagationFor builds the --propagation strategy (with
// --propagation-fallback) and the dns-persist-01 checker from the flags;
// propagation.Build decides.
func (f *issueFlags) propagationFor(p *plan) (propagation.Strategy, issue.PersistChecker, error) {
	rs, err := buildResolvers(f.resolvers, p.rootCAs, f.ipv4Only, f.reqTimeout.String())
	if err != nil {
		return nil, nil, err
	}
	persist := issue.ResolverPersistChecker{Resolvers: rs}
	if f.quorum < 0 || f.quorum > len(rs) {
		return nil, nil, usage("--quorum %d: give 0 (a majority of those that answer) up to %d, the number of resolvers", f.quorum, len(rs))
	}
	cfg := propagation.Config{Resolvers: rs, Quorum: f.quorum, Delay: f.wait, Timeout: f.propTimeout}.WithProviders(p.providers)
	for _, name := range []string{f.propagation, f.fallback} {
		switch strings.ToLower(name) {
		case "doh":
			for _, r := range rs {
				if !strings.HasPrefix(r.String(), "https://") {
					return nil, nil, usage("--propagation doh: resolver %s is not DNS-over-HTTPS; give https:// resolvers or use --propagation resolver", r)
				}
			}
		case "resolver":
			if len(f.resolvers) == 0 {
				return nil, nil, usage("--propagation resolver needs --resolver udp://ADDRESS (a recursive resolver you can reach)")
			}
		case "relay":
			if cfg.Relay, err = relayStrategy(p.lookupOrEnv(), p); err != nil {
				return nil, nil, err
			}
		case "provider":
			if p.providers == nil || len(p.providers.Entries()) == 0 {
				return nil, nil, usage("--propagation provider needs a DNS provider (--dns)")
			}
			if cfg.Getter == nil {
				return nil, nil, usage("--propagation provider: provider %s cannot read records back; use doh or wait", p.providers.Entries()[0].Name)
			}
		}
	}
	s, err := propagation.Build(propagation.Choice{Strategy: f.propagation, Fallback: f.fallback, DelaySet: f.waitSet, AllowPort53: f.allowPort53}, cfg)
	if err != nil {
		return nil, nil, usage("--propagation: %v", err)
	}
	return s, persist, nil
}

func (p *plan) lookupOrEnv() func(string) (string, bool) {
	if p.lookup != nil {
		return p.lookup
	}
	return os.LookupEnv
}
