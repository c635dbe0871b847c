package plan

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/mholt/acmez/v3/acme"

	"github.com/strictacme/strictacme/internal/challenge"
	"github.com/strictacme/strictacme/internal/delegation"
	"github.com/strictacme/strictacme/internal/issue"
	"github.com/strictacme/strictacme/internal/keyshape"
	"github.com/strictacme/strictacme/internal/names"
	"github.com/strictacme/strictacme/internal/propagation"
	"github.com/strictacme/strictacme/internal/providers"
	"github.com/strictacme/strictacme/internal/redact"
	"github.com/strictacme/strictacme/internal/resolver"
	"github.com/strictacme/strictacme/internal/store"
	"github.com/strictacme/strictacme/provider/acmedns"
)

// Plan is one certificate's settings turned into the parts the order flow
// runs with: CA client, providers routed per zone, propagation strategy,
// delegation. Building it sends nothing.
type Plan struct {
	// Settings with every default applied.
	Settings    Settings
	Directory   string
	RootCAs     *x509.CertPool
	HTTPClient  *http.Client
	Identifiers []names.Identifier
	KeyType     issue.KeyType
	// CSR is the operator's request when the settings give one: its key
	// type is KeyType, its names are Identifiers.
	CSR        *issue.CSR
	Challenges []challenge.Type
	// Providers is nil for a dns-persist-01-only certificate without one.
	Providers *providers.Set
	Strategy  propagation.Strategy
	Persist   issue.PersistChecker
	Delegate  issue.Delegator
	// Resolvers are the recursive resolvers of the settings (defaults
	// applied), for checks and look-ups.
	Resolvers []resolver.Resolver
	EAB       *acme.EAB
}

// BuildOptions are what building needs besides the settings.
type BuildOptions struct {
	// Path is the state directory.
	Path string
	// Lookup reads provider settings the settings do not hold (the command
	// line, then the environment); nil means the environment.
	Lookup func(string) (string, bool)
	// EABKey is an HMAC key given outside the settings (a flag).
	EABKey string
	// Log receives the delegation decisions and the store name chosen
	// (StoredName); nil discards them.
	Log func(string)
	// Logger receives what providers log; nil discards it.
	Logger *slog.Logger
	// KeepStored takes what the settings leave out from the certificate
	// stored under their name (KeepStored: issue's command line), logging
	// what was kept; Given says which settings keys were given (see
	// KeepStored).
	KeepStored bool
	Given      func(key string) bool
}

// ProblemsError is every problem of a certificate's settings.
type ProblemsError struct{ Problems []Problem }

func (e *ProblemsError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// BuildError is a setting that validation accepted but that could not be
// turned into its part (a provider refusing its settings, a credentials
// file without the account a name needs). Key is the config key.
type BuildError struct {
	Provider, Key string
	Err           error
}

func (e *BuildError) Error() string { return e.Err.Error() }
func (e *BuildError) Unwrap() error { return e.Err }

// Build validates s and builds its plan. A *ProblemsError lists every
// problem; a *BuildError names the setting that could not be built.
func Build(s Settings, opts BuildOptions) (*Plan, error) {
	// The notes about the stored certificates are logged only once the
	// settings are valid: a refused name gets no note about it.
	var notes []string
	if opts.Path != "" {
		var note string
		s.Name, note = StoredName(&store.Store{Root: opts.Path}, s)
		notes = append(notes, note)
		if opts.KeepStored {
			s, note = KeepStored(&store.Store{Root: opts.Path}, s, opts.Given)
			notes = append(notes, note)
		}
	}
	s = s.WithDefaults()
	if ps := s.Validate(ValidateOptions{Lookup: opts.Lookup, HaveEABKey: opts.EABKey != ""}); len(ps) > 0 {
		return nil, &ProblemsError{Problems: ps}
	}
	for _, note := range notes {
		if note != "" && opts.Log != nil {
			opts.Log(note)
		}
	}
	p := &Plan{Settings: s}
	p.Identifiers, _ = names.ParseAll(s.Names)
	p.KeyType, _ = issue.ParseKeyType(s.KeyType)
	if s.CSR != "" {
		c, err := ReadCSR(s.CSR)
		if err != nil { // changed since Validate read it
			return nil, &BuildError{Key: "csr", Err: err}
		}
		p.CSR, p.KeyType = c, c.KeyType
	}
	p.Challenges, _ = challenge.ParseTypes(s.Challenges)
	p.Directory, _ = DirectoryURL(s.Server)
	p.RootCAs, _ = LoadRoots(s.CACerts)
	p.HTTPClient = HTTPClient(p.RootCAs, s.IPv4Only)
	env := BuildEnv{Path: opts.Path, RootCAs: p.RootCAs, HTTPClient: p.HTTPClient, Identifiers: p.Identifiers, Logger: opts.Logger}
	var err error
	if p.Providers, err = s.providerSet(env, opts.Lookup); err != nil {
		return nil, err
	}
	if p.Resolvers, err = Resolvers(s.Resolvers, p.RootCAs, s.IPv4Only, s.RequestTimeout.D()); err != nil {
		return nil, &BuildError{Key: "resolvers", Err: err}
	}
	p.Persist = issue.ResolverPersistChecker{Resolvers: p.Resolvers}
	rules := delegation.Rules{Aliases: s.ChallengeAliases, Targets: s.ChallengeTargets, Alias: s.ChallengeAlias}
	d, err := delegation.New(rules)
	if err != nil {
		return nil, &BuildError{Key: "challenge_aliases", Err: err}
	}
	// Always a Delegator: an existing CNAME at a challenge name is read
	// from the provider's records, or through the resolvers for a name no
	// provider serves; static rules are verified before the order.
	d.Providers = p.Providers
	d.Log = opts.Log
	d.Follow = s.FollowCNAME
	if s.sendsDNS() || s.FollowCNAME {
		d.Resolvers = p.Resolvers
		d.Verify = s.sendsDNS()
	}
	p.Delegate = d
	if p.Strategy, err = p.strategy(opts); err != nil {
		return nil, err
	}
	if p.EAB, err = s.eab(opts.EABKey); err != nil {
		return nil, err
	}
	return p, nil
}

// providerSet builds every provider of s and routes names to them: zones of
// ZoneProviders and of each provider's Zones, then Provider for the rest.
func (s Settings) providerSet(env BuildEnv, lookup func(string) (string, bool)) (*providers.Set, error) {
	built := map[string]providers.Provider{}
	get := func(name string) (providers.Provider, error) {
		if p, ok := built[name]; ok {
			return p, nil
		}
		ref := s.Ref(name)
		kind, _ := LookupProvider(ref.Kind)
		p, err := kind.New(ref.Lookup(kind, lookup), env)
		if err != nil {
			return nil, &BuildError{Provider: name, Key: "type", Err: err}
		}
		built[name] = p
		return p, nil
	}
	var entries []providers.Entry
	seen := map[string]bool{}
	add := func(name, zone string) error {
		if seen[zone] {
			return nil
		}
		p, err := get(name)
		if err != nil {
			return err
		}
		seen[zone] = true
		entries = append(entries, providers.Entry{Name: name, Suffix: zone, Provider: p, SingleValue: s.Ref(name).SingleValue})
		return nil
	}
	for _, z := range sortedKeys(s.ZoneProviders) {
		if err := add(s.ZoneProviders[z], z); err != nil {
			return nil, err
		}
	}
	for _, r := range s.Providers {
		for _, z := range r.Zones {
			if err := add(r.Name, z); err != nil {
				return nil, err
			}
		}
	}
	if s.Provider != "" {
		if err := add(s.Provider, ""); err != nil {
			return nil, err
		}
	}
	if len(entries) == 0 {
		return nil, nil
	}
	set, err := providers.NewSet(entries...)
	if err != nil {
		return nil, &BuildError{Key: "providers", Err: err}
	}
	return set, nil
}

// strategy builds the propagation check, with its fallback, through
// propagation.Build: the one place that decides, for every command.
func (p *Plan) strategy(opts BuildOptions) (propagation.Strategy, error) {
	s := p.Settings
	cfg := propagation.Config{
		Resolvers: p.Resolvers, Quorum: s.Quorum, Delay: s.PropagationWait.D(), Timeout: s.PropagationTimeout.D(),
	}
	own := p.recordProviders()
	cfg = cfg.WithProviders(own)
	seen := map[string]bool{}
	for _, r := range s.Providers {
		if seen[r.Kind] {
			continue
		}
		seen[r.Kind] = true
		warns, err := legoTiming(opts.Lookup, r.Kind, s.Propagation, s.PropagationTimeout != 0, &cfg)
		if err != nil {
			return nil, err
		}
		for _, w := range warns {
			if opts.Log != nil {
				opts.Log("warning: " + w)
			}
		}
	}
	for _, key := range []string{"propagation", "propagation_fallback"} {
		name := s.Propagation
		if key == "propagation_fallback" {
			name = s.Fallback
		}
		info, _ := LookupStrategy(name)
		switch {
		case info.Account && cfg.Relay == nil:
			r, err := p.relay(opts)
			if err != nil {
				return nil, &BuildError{Key: key, Err: err}
			}
			cfg.Relay = r
		case info.Provider && cfg.Getter == nil:
			return nil, &BuildError{Key: key, Err: fmt.Errorf("strategy provider: %s cannot read records back; use doh or wait", providerNames(own))}
		}
	}
	st, err := propagation.Build(propagation.Choice{
		Strategy: s.Propagation, Fallback: s.Fallback, DelaySet: s.PropagationWait != 0, AllowPort53: s.AllowPort53,
	}, cfg)
	if err != nil {
		return nil, &BuildError{Key: "propagation", Err: err}
	}
	return st, nil
}

// recordProviders are the providers that write this certificate's
// challenge records: the provider of each name's _acme-challenge name, or
// of a static delegation rule's target. Their serving lag and read-back are
// what its check waits for; other certificates' providers in the same
// config do not count. A name whose CNAME is followed may land in any
// configured zone, so then every provider counts.
func (p *Plan) recordProviders() *providers.Set {
	if p.Providers == nil {
		return nil
	}
	d, _ := p.Delegate.(*delegation.Delegator)
	var fqdns []string
	for _, id := range p.Identifiers {
		name := challenge.DNS01Name(id.Base())
		if d != nil {
			if t, ok := d.Static(name); ok {
				name = t
			} else if d.Follow {
				return p.Providers
			}
		}
		fqdns = append(fqdns, name)
	}
	return p.Providers.Serving(fqdns...)
}

// providerNames names the providers of set for an error: "provider NAME"
// or "providers A, B".
func providerNames(set *providers.Set) string {
	var ns []string
	for _, e := range set.Entries() {
		ns = append(ns, e.Name)
	}
	if len(ns) == 1 {
		return "provider " + ns[0]
	}
	if len(ns) == 0 {
		return "no provider"
	}
	return "providers " + strings.Join(ns, ", ")
}

// relay builds the relay strategy: the challenge server's /lookup asks
// every authoritative server of each record's zone, over HTTPS only. It
// authenticates with an account from the acme-dns credentials of the
// certificate's acmedns provider, else of the command line or environment.
func (p *Plan) relay(opts BuildOptions) (*propagation.Relay, error) {
	get := opts.Lookup
	if get == nil {
		get = os.LookupEnv
	}
	for _, r := range p.Settings.Providers {
		if kind, ok := LookupProvider(r.Kind); ok && r.Kind == "acmedns" {
			get = r.Lookup(kind, opts.Lookup)
			break
		}
	}
	path := AcmeDNSCredentialsPath(get, opts.Path)
	creds, err := acmedns.LoadCredentials(path)
	if err != nil || len(creds) == 0 {
		return nil, fmt.Errorf("strategy relay needs an account on the challenge server in %s (strictacme register)", path)
	}
	base, _ := get(EnvAcmeDNSBase)
	keys := make([]string, 0, len(creds))
	for k := range creds {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	a := creds[keys[0]]
	url := a.ServerURL
	if url == "" {
		url = base
	}
	if url == "" {
		return nil, fmt.Errorf("strategy relay: the account in %s has no server_url; set the acmedns server", path)
	}
	return &propagation.Relay{URL: url, Username: a.Username, Password: a.Password, HTTPClient: p.HTTPClient}, nil
}

// eab reads the external account binding (RFC 8555 §7.3.4): the key ID
// with the HMAC key from key (a flag), the variable EABKeyEnv or the file
// EABKeyFile; nil when no key ID is set. The key never appears in an error.
func (s Settings) eab(key string) (*acme.EAB, error) {
	if s.EABKeyID == "" && key == "" {
		return nil, nil
	}
	key = strings.TrimSpace(key)
	switch {
	case key != "":
	case s.EABKeyEnv != "":
		key = strings.TrimSpace(os.Getenv(s.EABKeyEnv))
		if key == "" {
			return nil, &BuildError{Key: "eab_hmac_key_env", Err: fmt.Errorf("environment variable %s is not set; export it or use eab_hmac_key_file", s.EABKeyEnv)}
		}
	case s.EABKeyFile != "":
		b, err := os.ReadFile(s.EABKeyFile)
		if err != nil && keyshape.LooksLikeKey(s.EABKeyFile) {
			return nil, &BuildError{Key: "eab_hmac_key_file", Err: errors.New("that looks like a key, not a path; write the key to a file (mode 0600) and give its path")}
		}
		if err != nil {
			return nil, &BuildError{Key: "eab_hmac_key_file", Err: fmt.Errorf("cannot read %s: %v", s.EABKeyFile, pathErr(err))}
		}
		key = strings.TrimSpace(string(b))
	}
	if s.EABKeyID == "" {
		return nil, &BuildError{Key: "eab_kid", Err: errors.New("an EAB HMAC key needs its key ID; set the EAB key ID")}
	}
	if key == "" {
		return nil, &BuildError{Key: "eab_hmac_key_file", Err: errors.New("the EAB key ID needs its HMAC key")}
	}
	redact.Add(key)
	return &acme.EAB{KeyID: s.EABKeyID, MACKey: key}, nil
}

// Resolvers builds the recursive resolvers of specs (resolver.Defaults
// when empty).
func Resolvers(specs []string, roots *x509.CertPool, ipv4 bool, timeout time.Duration) ([]resolver.Resolver, error) {
	if len(specs) == 0 {
		specs = resolver.Defaults
	}
	var out []resolver.Resolver
	for _, s := range specs {
		r, err := resolver.New(s, resolver.Options{RootCAs: roots, Timeout: timeout, IPv4Only: ipv4})
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// HTTPClient is the client for the CA and provider APIs: roots, TLS 1.2 or
// later, IPv4 only when asked.
func HTTPClient(roots *x509.CertPool, ipv4Only bool) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	if ipv4Only {
		d := tr.DialContext
		tr.DialContext = func(ctx context.Context, _, addr string) (net.Conn, error) { return d(ctx, "tcp4", addr) }
	}
	return &http.Client{Transport: tr, Timeout: 60 * time.Second}
}

// Stored is s as kept in a certificate's metadata: trust root, secret and
// deploy output files made absolute, so a renew from another directory
// finds them.
func (s Settings) Stored() Settings {
	s.CACerts = append([]string(nil), s.CACerts...)
	for i, c := range s.CACerts {
		if abs, err := filepath.Abs(c); err == nil {
			s.CACerts[i] = abs
		}
	}
	for _, p := range []*string{&s.EABKeyFile, &s.CSR} {
		if *p != "" {
			if abs, err := filepath.Abs(*p); err == nil {
				*p = abs
			}
		}
	}
	s.Outputs = s.Outputs.Abs()
	refs := make([]ProviderRef, len(s.Providers))
	for i, r := range s.Providers {
		if r.Values != nil {
			vals := make(map[string]string, len(r.Values))
			for k, v := range r.Values {
				if strings.HasSuffix(k, "_file") {
					if abs, err := filepath.Abs(v); err == nil {
						v = abs
					}
				}
				vals[k] = v
			}
			r.Values = vals
		}
		refs[i] = r
	}
	s.Providers = refs
	return s
}

// sendsDNS reports whether the propagation strategy asks DNS questions at
// all: "wait" and "none" send none (case PR02), so neither does the
// delegation (no CNAME verification, no look-up of unserved names).
func (s Settings) sendsDNS() bool {
	return s.Propagation != "wait" && s.Propagation != "none"
}
