// Package plan holds one certificate's settings: the one type that command
// flags, a [[certificate]] table of the config file and a stored
// certificate's metadata all decode into, with its defaults and its
// validation in one place, and the registries of DNS provider kinds and
// propagation strategies that flags, config, check and docs read.
package plan

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/strictacme/strictacme/internal/deploy"
	"github.com/strictacme/strictacme/internal/envvar"
	"github.com/strictacme/strictacme/internal/issue"
	"github.com/strictacme/strictacme/internal/names"
	"github.com/strictacme/strictacme/internal/store"
)

// Defaults, the only place they are written. Flags show them in --help, the
// config file and stored settings fall back to them.
const (
	DefaultServer         = "letsencrypt"
	DefaultKeyType        = "ec256"
	DefaultChallenge      = "dns-01"
	DefaultPropagation    = "doh"
	DefaultRequestTimeout = 5 * time.Second
	DefaultPropagateWait  = 2 * time.Minute
	DefaultHookTimeout    = 5 * time.Minute
	DefaultOrderTimeout   = 10 * time.Minute
)

// SchemaVersion is the newest version of Settings as stored in a
// certificate's metadata (store.Metadata.Settings) that this release
// reads. Version 0 is the "renewal" object of earlier releases;
// FromMetadata migrates it. Version 2 adds csr, which a release that reads
// only up to 1 would silently drop (and order with a key of its own);
// settings without it are still written as version 1 (Version), so those
// releases keep renewing them.
const SchemaVersion = 2

// Version is the schema version s is stored with: the oldest that holds
// everything s sets.
func (s Settings) Version() int {
	if s.CSR != "" {
		return 2
	}
	return 1
}

// Settings are everything one certificate is ordered with, except secrets:
// a secret is only ever a reference (an environment variable or a file).
// The JSON names are the config file's keys.
type Settings struct {
	// Name is the certificate's folder in the store; "" means CertName of
	// the first name.
	Name string `json:"name,omitempty"`
	// Names are the certificate's domain names (apex, subdomain,
	// *.wildcard, Unicode IDN).
	Names []string `json:"names"`
	// Server is a CA preset (letsencrypt, zerossl, ...) or an ACME
	// directory URL; DirectoryURL resolves it.
	Server string `json:"server,omitempty"`
	// Email is the ACME account contact.
	Email string `json:"email,omitempty"`
	// AcceptTOS agrees to the CA's terms when the account is created.
	AcceptTOS bool `json:"accept_tos,omitempty"`
	// KeyType is one of issue.KeyTypes (ec256, ec384, rsa2048, rsa3072,
	// rsa4096, rsa8192).
	KeyType string `json:"key_type,omitempty"`
	// Profile is the CA's certificate profile (draft-aaron-acme-profiles).
	Profile string `json:"profile,omitempty"`
	// Challenges in order of preference: dns-01, dns-account-01,
	// dns-persist-01.
	Challenges []string `json:"challenges,omitempty"`
	// CACerts are PEM files of extra trust roots (absolute once stored).
	CACerts []string `json:"ca_certs,omitempty"`
	// IPv4Only dials every connection over IPv4.
	IPv4Only bool `json:"ipv4_only,omitempty"`

	// Provider is the provider (a name in Providers) that writes every
	// name not in a zone of ZoneProviders or of a provider's Zones.
	Provider string `json:"provider,omitempty"`
	// ZoneProviders maps a zone to the provider that writes it.
	ZoneProviders map[string]string `json:"zone_providers,omitempty" config:"providers"`
	// Providers are the definitions of every provider named above.
	Providers []ProviderRef `json:"providers,omitempty" config:"-"`

	// Propagation is the strategy (see Strategies); Fallback runs when it
	// fails. Resolvers are resolver URLs, Quorum how many must agree (0 = a
	// majority of those that answer, at least one), RequestTimeout one DNS question's limit, PropagationWait the
	// delay of "wait" and the settle delay of "provider" (0 = the
	// strategy's default), PropagationTimeout the limit of the check.
	Propagation        string            `json:"propagation,omitempty"`
	Fallback           string            `json:"propagation_fallback,omitempty"`
	Resolvers          []string          `json:"resolvers,omitempty"`
	Quorum             int               `json:"quorum,omitempty"`
	RequestTimeout     Duration          `json:"request_timeout,omitzero"`
	PropagationWait    Duration          `json:"propagation_wait,omitzero"`
	PropagationTimeout Duration          `json:"propagation_timeout,omitzero"`
	AllowPort53        bool              `json:"allow_port53,omitempty"`
	ChallengeAlias     string            `json:"challenge_alias,omitempty"`
	ChallengeAliases   map[string]string `json:"challenge_aliases,omitempty"`
	ChallengeTargets   map[string]string `json:"challenge_targets,omitempty"`
	FollowCNAME        bool              `json:"follow_cname,omitempty"`

	// Hooks are shell commands: PreHook before the first order of a run,
	// DeployHook after each stored certificate, PostHook after the last
	// order; HookTimeout kills one that runs longer.
	PreHook     string   `json:"pre_hook,omitempty"`
	DeployHook  string   `json:"deploy_hook,omitempty"`
	PostHook    string   `json:"post_hook,omitempty"`
	HookTimeout Duration `json:"hook_timeout,omitzero"`

	// EABKeyID is the external account binding key ID (RFC 8555 §7.3.4);
	// the HMAC key is only referenced: EABKeyEnv names an environment
	// variable, EABKeyFile a file.
	EABKeyID   string `json:"eab_kid,omitempty"`
	EABKeyEnv  string `json:"eab_hmac_key_env,omitempty"`
	EABKeyFile string `json:"eab_hmac_key_file,omitempty"`

	// PreferredChain is the issuer common name of the chain to prefer.
	PreferredChain string `json:"preferred_chain,omitempty"`
	// ReuseKey keeps the stored private key across renewals.
	ReuseKey bool `json:"reuse_key,omitempty"`
	// CSR is a file holding the operator's certificate signing request
	// (PEM or DER; absolute once stored): the certificate is ordered for
	// its names and finalized with it, and its key stays the operator's
	// (nothing is generated or stored). Names default to the CSR's; the
	// key type is the CSR's, so KeyType and ReuseKey must be unset.
	CSR string `json:"csr,omitempty"`

	// Outputs put the certificate where services read it, after each
	// order and whenever a run finds them out of date (internal/deploy).
	deploy.Outputs

	// Timeout bounds one order. Not stored: renew has its own.
	Timeout Duration `json:"-" config:"timeout"`
}

// ProviderRef is one configured DNS provider: a kind from the registry
// with its settings. Values holds config keys of the kind: plain values,
// and for secrets only KEY_env (an environment variable's name) or
// KEY_file (a file's path); a key not in Values is read from the kind's
// own environment variable at build time.
type ProviderRef struct {
	Name        string            `json:"name"`
	Kind        string            `json:"type"`
	Zones       []string          `json:"zones,omitempty"`
	SingleValue bool              `json:"single_value,omitempty"`
	Values      map[string]string `json:"values,omitempty"`
	// FromEnv: the settings not in Values come from the provider's own
	// environment variables (and the flags that stand for them), so their
	// absence is the provider's to report. Set for --dns.
	FromEnv bool `json:"from_env,omitempty"`
}

// Duration is a time.Duration written as "90s" or "2m" in config files
// and stored metadata.
type Duration time.Duration

// D is the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// MarshalText writes the Go duration syntax ("2m0s").
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText reads a Go duration ("2m30s"); a bare number is seconds.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	*d = Duration(v)
	return err
}

// ParseDuration reads "90s", "2m" or whole seconds; negative values are
// refused. It decides as envvar.ParseDuration, the one reading of a
// duration for variables, both config files and stored settings.
func ParseDuration(s string) (time.Duration, error) {
	v, err := envvar.ParseDuration(s, true)
	if err != nil {
		return 0, fmt.Errorf("want a duration such as \"90s\" or \"2m\", got %q", strings.TrimSpace(s))
	}
	return v, nil
}

// WithDefaults returns a copy of s with every unset setting at its default.
// With a CSR, Names default to the CSR's (WithCSRNames) and KeyType stays
// unset: the key is the CSR's.
func (s Settings) WithDefaults() Settings {
	s = s.WithCSRNames()
	if s.Server == "" {
		s.Server = DefaultServer
	}
	if s.KeyType == "" && s.CSR == "" {
		s.KeyType = DefaultKeyType
	}
	if len(s.Challenges) == 0 {
		s.Challenges = []string{DefaultChallenge}
	}
	if s.Propagation == "" {
		s.Propagation = DefaultPropagation
	}
	if s.RequestTimeout == 0 {
		s.RequestTimeout = Duration(DefaultRequestTimeout)
	}
	if s.HookTimeout == 0 {
		s.HookTimeout = Duration(DefaultHookTimeout)
	}
	if s.Timeout == 0 {
		s.Timeout = Duration(DefaultOrderTimeout)
	}
	if s.Name == "" && len(s.Names) > 0 {
		if id, err := names.Parse(s.Names[0]); err == nil {
			s.Name = store.CertName(id.ASCII)
		} else {
			s.Name = store.CertName(s.Names[0])
		}
	}
	return s
}

// WithCSRNames returns s with Names set to those of its CSR when it has
// one and no names: the names come from the request. A CSR that cannot be
// read leaves Names empty; Validate says why.
func (s Settings) WithCSRNames() Settings {
	if s.CSR == "" || len(s.Names) > 0 {
		return s
	}
	if c, err := ReadCSR(s.CSR); err == nil {
		s.Names = slices.Clone(c.Names)
	}
	return s
}

// ReadCSR reads and checks the CSR file path (issue.ParseCSR); the error
// names the file and says how to fix it.
func ReadCSR(path string) (*issue.CSR, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %v; give a readable CSR file (PEM or DER)", path, pathErr(err))
	}
	c, err := issue.ParseCSR(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return c, nil
}

// Ref returns the provider definition called name, nil when none is.
func (s *Settings) Ref(name string) *ProviderRef {
	for i := range s.Providers {
		if s.Providers[i].Name == name {
			return &s.Providers[i]
		}
	}
	return nil
}

// Differs lists what of the certificate's identity (names, key type,
// profile) a stored certificate lacks or has otherwise: a reason to order
// it again now rather than when it falls due. Empty when nothing differs.
func (s Settings) Differs(m store.Metadata) []string {
	var out []string
	s = s.WithCSRNames()
	want := []string{}
	if ids, err := names.ParseAll(s.Names); err == nil {
		for _, id := range ids {
			want = append(want, id.ASCII)
		}
	}
	have := slices.Clone(m.Names)
	slices.Sort(want)
	slices.Sort(have)
	if !slices.Equal(want, have) {
		out = append(out, fmt.Sprintf("names %s, stored %s", strings.Join(want, ","), strings.Join(have, ",")))
	}
	s = s.WithDefaults()
	switch {
	case s.CSR != "" && !m.CSR:
		out = append(out, "the operator's CSR, stored with a key of its own")
	case s.CSR == "" && m.CSR:
		out = append(out, "a key of its own, stored for the operator's CSR")
	case s.CSR == "" && m.KeyType != "" && !strings.EqualFold(m.KeyType, s.KeyType):
		out = append(out, fmt.Sprintf("key type %s, stored %s", s.KeyType, m.KeyType))
	}
	if s.Profile != m.Profile {
		out = append(out, fmt.Sprintf("profile %q, stored %q", s.Profile, m.Profile))
	}
	return out
}

// Encode is s as stored in a certificate's metadata.
func (s Settings) Encode() (json.RawMessage, error) {
	return json.Marshal(s)
}

// FromMetadata returns the settings a stored certificate was ordered with:
// those of this release, or those of the "renewal" object of earlier
// releases, migrated. ok is false when the metadata holds neither.
func FromMetadata(m store.Metadata) (s Settings, ok bool, err error) {
	switch {
	case len(m.Settings) > 0:
		if m.SettingsVersion > SchemaVersion {
			return s, false, fmt.Errorf("stored settings have schema version %d; this strictacme reads up to %d; upgrade it", m.SettingsVersion, SchemaVersion)
		}
		if err := json.Unmarshal(m.Settings, &s); err != nil {
			return s, false, fmt.Errorf("stored settings: %v", err)
		}
	case m.Renewal != nil:
		s = fromRenewal(m.Renewal)
	default:
		return s, false, nil
	}
	// The certificate's identity is the certificate's own record; the
	// key type of one ordered for a CSR is the CSR's.
	s.Names = slices.Clone(m.Names)
	if m.KeyType != "" && s.CSR == "" {
		s.KeyType = m.KeyType
	}
	s.Profile = m.Profile
	if m.Directory != "" {
		s.Server = m.Directory
	}
	return s, true, nil
}

// fromRenewal migrates the stored settings of the previous release, whose
// provider was a kind read entirely from its environment variables.
func fromRenewal(r *store.RenewalSettings) Settings {
	s := Settings{
		Challenges: r.Challenges, Propagation: r.Propagation, Resolvers: r.Resolvers, Quorum: r.Quorum,
		RequestTimeout: Duration(r.RequestTimeout), PropagationWait: Duration(r.PropagationWait),
		IPv4Only: r.IPv4Only, CACerts: r.CACerts, PreferredChain: r.PreferredChain, ReuseKey: r.ReuseKey,
		Email: r.Email, FollowCNAME: r.FollowCNAME, PropagationTimeout: Duration(r.PropagationTimeout),
		Fallback: r.PropagationFallback, AllowPort53: r.AllowPort53,
	}
	if r.Provider != "" {
		s.Provider = r.Provider
		s.Providers = []ProviderRef{EnvProvider(r.Provider, nil)}
	}
	s.ChallengeAliases, s.ChallengeAlias = splitSpecs(r.ChallengeAliases)
	s.ChallengeTargets, _ = splitSpecs(r.ChallengeTargets)
	return s
}

// splitSpecs reads DOMAIN=NAME specs (and one bare NAME, returned as all).
func splitSpecs(specs []string) (m map[string]string, all string) {
	for _, v := range specs {
		k, val, ok := strings.Cut(v, "=")
		if !ok {
			all = v
			continue
		}
		if m == nil {
			m = map[string]string{}
		}
		m[k] = val
	}
	return m, all
}

// SplitSpecs reads --challenge-alias style DOMAIN=NAME values into a map;
// a value without "=" is the alias of every name.
func SplitSpecs(specs []string) (map[string]string, string) { return splitSpecs(specs) }
