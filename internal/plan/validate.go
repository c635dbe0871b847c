package plan

import (
	"crypto/x509"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/strictacme/strictacme/internal/challenge"
	"github.com/strictacme/strictacme/internal/delegation"
	"github.com/strictacme/strictacme/internal/issue"
	"github.com/strictacme/strictacme/internal/names"
	"github.com/strictacme/strictacme/internal/providers"
	"github.com/strictacme/strictacme/internal/redact"
	"github.com/strictacme/strictacme/internal/resolver"
	"github.com/strictacme/strictacme/internal/store"
)

// Problem is one thing wrong with a certificate's settings, in config
// vocabulary: Key is the setting's config key (of the provider table
// Provider when that is set), Msg says what is wrong and how to fix it.
// Commands translate Key into a flag name or a file position.
type Problem struct {
	Provider string
	Key      string
	Msg      string
	// Env is the provider's environment variable the value came from,
	// when the provider's settings did not give it.
	Env string
}

func (p Problem) String() string {
	if p.Provider != "" && p.Env != "" {
		return fmt.Sprintf("provider %q: key %q, unset, read from %s: %s", p.Provider, p.Key, p.Env, p.Msg)
	}
	if p.Provider != "" {
		return fmt.Sprintf("provider %q: key %q: %s", p.Provider, p.Key, p.Msg)
	}
	return fmt.Sprintf("key %q: %s", p.Key, p.Msg)
}

// ValidateOptions are what validation needs besides the settings.
type ValidateOptions struct {
	// Lookup reads a provider's environment variable when the settings do
	// not set that key (the command line, then the environment); nil
	// means the environment.
	Lookup func(string) (string, bool)
	// HaveEABKey: the HMAC key comes from outside the settings (a flag).
	HaveEABKey bool
}

// Validate returns every problem of s (after WithDefaults), in a stable
// order; nil means s can be ordered. It reads the files s names (trust
// roots, credentials) and sends nothing.
func (s Settings) Validate(opts ValidateOptions) []Problem {
	s = s.WithDefaults()
	var ps []Problem
	add := func(key, format string, a ...any) { ps = append(ps, Problem{Key: key, Msg: fmt.Sprintf(format, a...)}) }

	var ids []names.Identifier
	if len(s.Names) == 0 && s.CSR != "" {
		// The CSR gives the names; why it gives none is said at "csr".
	} else if len(s.Names) == 0 {
		add("names", "no domain name; list the names of the certificate, e.g. names = [\"example.com\"]")
	} else {
		for _, n := range s.Names {
			id, err := names.Parse(n)
			if err != nil {
				add("names", "%v", err)
				continue
			}
			ids = append(ids, id)
		}
	}
	// A name derived from a first domain that is already refused above
	// would only repeat that problem, under a key the user never set.
	derivedFromBad := false
	if len(s.Names) > 0 && s.Name == store.CertName(s.Names[0]) {
		_, err := names.Parse(s.Names[0])
		derivedFromBad = err != nil
	}
	// Without names from a CSR that cannot be read, the same: said at csr.
	noCSRNames := s.Name == "" && len(s.Names) == 0 && s.CSR != ""
	if err := store.CheckCertName(s.Name); err != nil && !derivedFromBad && !noCSRNames {
		add("name", "%v", err)
	}
	if _, err := DirectoryURL(s.Server); err != nil {
		add("server", "%v", err)
	}
	if e := strings.TrimSpace(s.Email); e != "" && (strings.ContainsAny(e, " \t,;<>") || strings.Count(e, "@") != 1 || strings.HasPrefix(e, "@") || strings.HasSuffix(e, "@")) {
		add("email", "%q: give one address such as ops@example.com", s.Email)
	}
	if _, err := issue.ParseKeyType(s.KeyType); err != nil {
		add("key_type", "%v", err)
	}
	if s.CSR != "" {
		ps = append(ps, s.csrProblems(ids)...)
	}
	chals, err := challenge.ParseTypes(s.Challenges)
	if err != nil {
		add("challenges", "%v", err)
	}
	if _, err := LoadRoots(s.CACerts); err != nil {
		add("ca_certs", "%v", err)
	}
	if s.Timeout <= 0 {
		add("timeout", "must be positive, e.g. \"10m\"")
	}

	// Propagation.
	strat, ok := LookupStrategy(s.Propagation)
	if !ok {
		add("propagation", "unknown strategy %q; use one of %s", s.Propagation, strings.Join(StrategyNames(), ", "))
	}
	if s.Fallback != "" {
		if _, ok := LookupStrategy(s.Fallback); !ok {
			add("propagation_fallback", "unknown strategy %q; use one of %s", s.Fallback, strings.Join(StrategyNames(), ", "))
		} else if strings.EqualFold(s.Fallback, s.Propagation) {
			add("propagation_fallback", "is the same strategy as propagation; choose another one or remove it")
		}
	}
	specs := s.Resolvers
	if len(specs) == 0 {
		specs = resolver.Defaults
	}
	for _, spec := range s.Resolvers {
		if _, err := resolver.New(spec, resolver.Options{}); err != nil {
			add("resolvers", "%v", err)
		}
	}
	if strat.Resolvers && len(s.Resolvers) == 0 {
		add("resolvers", "strategy %s needs a recursive resolver you can reach, e.g. resolvers = [\"udp://192.0.2.53\"]", strat.Name)
	}
	if strat.HTTPSOnly {
		for _, spec := range specs {
			if !strings.HasPrefix(strings.ToLower(strings.TrimSpace(spec)), "https://") {
				add("resolvers", "%s is not DNS-over-HTTPS, which strategy doh needs; give https:// resolvers or use propagation = \"resolver\"", spec)
			}
		}
	}
	if s.Quorum < 0 || s.Quorum > len(specs) {
		add("quorum", "%d: give 0 (a majority of those that answer) up to %d, the number of resolvers", s.Quorum, len(specs))
	}
	for key, d := range map[string]Duration{"propagation_wait": s.PropagationWait, "propagation_timeout": s.PropagationTimeout, "hook_timeout": s.HookTimeout} {
		if d < 0 {
			add(key, "must not be negative, got %s", d.D())
		}
	}
	if s.RequestTimeout <= 0 {
		add("request_timeout", "must be positive, e.g. \"5s\"")
	}

	// Providers.
	persistOnly := len(chals) == 1 && chals[0] == challenge.DNSPersist01
	defined := map[string]bool{}
	for _, r := range s.Providers {
		defined[r.Name] = true
		ps = append(ps, r.Validate(opts.Lookup)...)
	}
	if s.Provider != "" && !defined[s.Provider] {
		add("provider", "no provider %q is defined; add a [providers.%s] table", s.Provider, s.Provider)
	}
	zones := make([]string, 0, len(s.ZoneProviders))
	for z := range s.ZoneProviders {
		zones = append(zones, z)
	}
	sort.Strings(zones)
	for _, z := range zones {
		if n := s.ZoneProviders[z]; !defined[n] {
			add("providers", "zone %s: no provider %q is defined; add a [providers.%s] table", z, n, n)
		}
	}
	set := s.routes()
	if set == nil && !persistOnly {
		kinds := strings.Join(ProviderNames(), ", ")
		add("provider", "no DNS provider writes the challenge records; set provider = \"NAME\" with a [providers.NAME] table of type %s", kinds)
	}
	if strat.Provider && set == nil {
		add("propagation", "strategy provider reads records back through a DNS provider, and none is set; use doh or wait")
	}

	// Delegation: rules must name names of this certificate, and every
	// challenge record must fall in a zone some provider writes.
	rules := delegation.Rules{Aliases: s.ChallengeAliases, Targets: s.ChallengeTargets, Alias: s.ChallengeAlias}
	inCert := map[string]bool{}
	for _, id := range ids {
		inCert[id.Base()] = true
	}
	for key, m := range map[string]map[string]string{"challenge_aliases": s.ChallengeAliases, "challenge_targets": s.ChallengeTargets} {
		for _, k := range sortedKeys(m) {
			if n, err := delegation.Normalize(k); err == nil && !inCert[strings.TrimSuffix(strings.TrimPrefix(n, "*."), ".")] {
				add(key, "%s is not a name of this certificate; add the name or remove the rule", k)
			}
		}
	}
	d, err := delegation.New(rules)
	if err != nil {
		add("challenge_aliases", "%v", err)
		d = nil
	}
	if set != nil && d != nil {
		for _, id := range ids {
			fqdn := challenge.DNS01Name(id.Base())
			t, static := d.Static(fqdn)
			if static {
				fqdn = t
			}
			// With follow_cname a CNAME at a name no provider serves is
			// looked up through the resolvers before the order.
			if !set.Serves(fqdn) && (static || !s.FollowCNAME) {
				var zs []string
				for _, e := range set.Entries() {
					zs = append(zs, strings.TrimSuffix(e.Suffix, "."))
				}
				add("names", "%s: its challenge record %s is in no configured provider's zones (%s); add the zone to a provider or delegate the name", id.Base(), strings.TrimSuffix(fqdn, "."), strings.Join(zs, ", "))
			}
		}
	}

	// Deploy outputs, hooks, account.
	for _, p := range s.Outputs.Validate() {
		add(p.Key, "%s", p.Msg)
	}
	// Hook command lines are stored with the certificate as written, so a
	// credential strictacme knows must not be in one (the provider
	// secrets above are known by now).
	for _, h := range []struct{ key, cmd string }{
		{"pre_hook", s.PreHook}, {"deploy_hook", s.DeployHook}, {"post_hook", s.PostHook}, {"reload_command", s.ReloadCommand},
	} {
		if h.cmd != "" && redact.String(h.cmd) != h.cmd {
			add(h.key, "holds a credential strictacme was given, and the command line is stored with the certificate; let the command read it from a file or an environment variable instead")
		}
	}
	if (s.PreHook != "" || s.DeployHook != "" || s.PostHook != "" || s.ReloadCommand != "") && s.HookTimeout <= 0 {
		add("hook_timeout", "must be positive, e.g. \"5m\"")
	}
	switch {
	case s.EABKeyEnv != "" && s.EABKeyFile != "":
		add("eab_hmac_key_file", "set only one of eab_hmac_key_env and eab_hmac_key_file")
	case s.EABKeyID == "" && (s.EABKeyEnv != "" || s.EABKeyFile != ""):
		add("eab_kid", "an EAB HMAC key needs its key ID; set eab_kid")
	case s.EABKeyID != "" && s.EABKeyEnv == "" && s.EABKeyFile == "" && !opts.HaveEABKey:
		add("eab_hmac_key_file", "the EAB key ID needs the HMAC key; set eab_hmac_key_file or eab_hmac_key_env")
	}
	return ps
}

// csrProblems are the problems of a certificate ordered for the
// operator's CSR: the file, names that are not the CSR's (ids, parsed from
// Names), and settings that need a key of strictacme's own.
func (s Settings) csrProblems(ids []names.Identifier) []Problem {
	var ps []Problem
	add := func(key, format string, a ...any) { ps = append(ps, Problem{Key: key, Msg: fmt.Sprintf(format, a...)}) }
	if c, err := ReadCSR(s.CSR); err != nil {
		add("csr", "%v", err)
	} else if len(ids) == len(s.Names) {
		given := make([]string, 0, len(ids))
		for _, id := range ids {
			given = append(given, id.ASCII)
		}
		want := slices.Clone(c.Names)
		slices.Sort(given)
		slices.Sort(want)
		if !slices.Equal(slices.Compact(given), want) {
			add("csr", "names %s differ from the CSR's %s; leave out the names (the CSR gives them) or list exactly the CSR's", strings.Join(given, ","), strings.Join(want, ","))
		}
	}
	if s.KeyType != "" {
		add("key_type", "the key type is the CSR's; remove it")
	}
	if s.ReuseKey {
		add("reuse_key", "the CSR's key is the operator's and stays the same anyway; remove it")
	}
	for _, o := range []struct{ key, path string }{{"install_key", s.KeyFile}, {"install_pem", s.PEMFile}, {"install_pkcs12", s.PKCS12File}} {
		if o.path != "" {
			add(o.key, "needs the private key, which stays the operator's for a certificate of a CSR; remove it (the certificate, chain and full chain outputs work)")
		}
	}
	return ps
}

// routes is a provider set without providers, for "which provider serves
// this name" before anything is built; nil when no provider is set.
func (s Settings) routes() *providers.Set {
	var entries []providers.Entry
	seen := map[string]bool{}
	addEntry := func(name, zone string) {
		if !seen[zone] {
			seen[zone] = true
			entries = append(entries, providers.Entry{Name: name, Suffix: zone})
		}
	}
	for _, z := range sortedKeys(s.ZoneProviders) {
		addEntry(s.ZoneProviders[z], z)
	}
	for _, r := range s.Providers {
		for _, z := range r.Zones {
			addEntry(r.Name, z)
		}
	}
	if s.Provider != "" {
		addEntry(s.Provider, "")
	}
	if len(entries) == 0 {
		return nil
	}
	set, err := providers.NewSet(entries...)
	if err != nil {
		return nil
	}
	return set
}

// Validate checks one provider definition: its kind, and that every
// required setting is given here or by its environment variable.
func (r ProviderRef) Validate(lookup func(string) (string, bool)) []Problem {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	var ps []Problem
	add := func(key, format string, a ...any) {
		ps = append(ps, Problem{Provider: r.Name, Key: key, Msg: fmt.Sprintf(format, a...)})
	}
	k, ok := LookupProvider(r.Kind)
	if !ok {
		if r.Kind == "" {
			add("type", "missing; set it to one of %s", strings.Join(ProviderNames(), ", "))
		} else {
			add("type", "unknown provider type %q; use one of %s", r.Kind, strings.Join(ProviderNames(), ", "))
		}
		return ps
	}
	for _, key := range k.Keys {
		n := 0
		for _, suffix := range []string{"", "_env", "_file"} {
			if _, ok := r.Values[key.Name+suffix]; ok {
				n++
			}
		}
		if _, inline := r.Values[key.Name]; inline && key.Secret {
			add(key.Name, "secrets are not accepted inline; use %s_file = \"/run/secrets/...\" or %s_env = \"%s\"", key.Name, key.Name, key.Env)
			continue
		}
		if n > 1 {
			add(key.Name, "set only one of %s, %s_env and %s_file", key.Name, key.Name, key.Name)
			continue
		}
		v, set, err := r.value(key.Name)
		if key.Secret && set && err == nil {
			redact.Add(v) // known before anything is printed or stored
		}
		if err == nil && key.Check != nil {
			from := ""
			if !set {
				v, _ = lookup(key.Env)
				from = key.Env
			}
			if strings.TrimSpace(v) != "" {
				if cerr := key.Check(v); cerr != nil {
					msg := cerr.Error()
					if !key.Secret {
						// A plain setting may still be a URL with a
						// password in it: its userinfo is never echoed.
						msg = fmt.Sprintf("%q: %s", redact.String(v), msg)
					}
					ps = append(ps, Problem{Provider: r.Name, Key: key.Name, Msg: msg, Env: from})
					continue
				}
			}
		}
		switch {
		case err != nil:
			suffix := "_env"
			if _, ok := r.Values[key.Name+"_file"]; ok {
				suffix = "_file"
			}
			add(key.Name+suffix, "%v", err)
		case !set && key.Required && !r.FromEnv:
			v, ok := lookup(key.Env)
			f, fok := lookup(key.Env + "_FILE")
			if (!ok || strings.TrimSpace(v) == "") && (!fok || strings.TrimSpace(f) == "") {
				if key.Secret {
					add(key.Name, "missing; set %s_file or %s_env (or export %s)", key.Name, key.Name, key.Env)
				} else {
					add(key.Name, "missing; set %s (or export %s)", key.Name, key.Env)
				}
			}
		}
	}
	return ps
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// LoadRoots is the system trust store plus the PEM files given.
func LoadRoots(files []string) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", f, pathErr(err))
		}
		if !pool.AppendCertsFromPEM(data) {
			return nil, fmt.Errorf("%s: no PEM certificate found; give a PEM file", f)
		}
	}
	return pool, nil
}
