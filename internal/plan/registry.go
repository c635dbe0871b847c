package plan

import (
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/strictacme/strictacme/internal/keyshape"
	"github.com/strictacme/strictacme/internal/names"
	"github.com/strictacme/strictacme/internal/providers"
	"github.com/strictacme/strictacme/internal/redact"
)

// Key is one setting of a provider kind. The same setting is a config key
// (Name; a secret only as Name_env or Name_file), the provider's own
// environment variable (Env; a secret also as Env_FILE) and, when Flag is
// set, a command-line flag (for a secret the flag takes a file).
type Key struct {
	Name     string
	Env      string
	Flag     string
	Secret   bool
	Required bool
	Help     string
	// Type is the kind of value, for a config file's type checks.
	Type ValueType
	// Check, when set, says what is wrong with a value (its text, as the
	// environment variable holds it) and what to give, without naming the
	// setting; nil accepts any value. Validation runs it on every value
	// given, so each wrong one is reported under the name the user set.
	Check func(v string) error
}

// ValueType is the kind of value a provider setting takes. Whatever the
// type, the setting is text in its environment variable; a config file
// may also write it as the TOML type.
type ValueType int

// Value types.
const (
	String  ValueType = iota // any text
	Integer                  // a whole number
	Bool                     // true or false
	Seconds                  // a duration such as "90s", or whole seconds
)

// Want says in words what a value of type t is, for "want ..." messages.
func (t ValueType) Want() string {
	switch t {
	case Integer:
		return "a whole number"
	case Bool:
		return "true or false"
	case Seconds:
		return "a duration such as \"90s\" or whole seconds"
	}
	return "a string"
}

// BuildEnv is what a provider is built with besides its settings.
type BuildEnv struct {
	// Path is the state directory (cross-process locks, credentials).
	Path        string
	RootCAs     *x509.CertPool
	HTTPClient  *http.Client
	Identifiers []names.Identifier
	// Logger receives what providers log (Info and above); nil discards.
	Logger *slog.Logger
}

// ProviderKind is one kind of DNS provider: its name (the config's type,
// the --dns value), its settings and its constructor. New reads every
// setting through get, by the provider's environment variable name.
type ProviderKind struct {
	Name string
	Help string
	Keys []Key
	New  func(get func(env string) (string, bool), env BuildEnv) (providers.Provider, error)
	// Hidden kinds are not offered in help and docs (the sandbox's).
	Hidden bool
	// Traits say what the kind does, for the docs' table of providers.
	Traits Traits
	// LegoPrefix is the prefix of lego's variables for this provider
	// (lego's PREFIX_PROPAGATION_TIMEOUT, PREFIX_POLLING_INTERVAL), read so
	// a lego user's timing settings carry over; "" when lego has none.
	LegoPrefix string
}

// Traits describe a provider kind in words, one cell each in the docs'
// table of providers.
type Traits struct {
	// Zones: where the zone of a name comes from.
	Zones string
	// Writes: how many writes an order's records take.
	Writes string
	// Delete: how a record is removed, and what stays.
	Delete string
	// ReadBack: how records are read back ("" none).
	ReadBack string
	// Lag: the serving lag declared, and where it is set.
	Lag string
}

var kinds = map[string]*ProviderKind{}

// RegisterProvider adds a provider kind; called from init functions (and
// by tests for their fake providers). Registering a name twice panics.
func RegisterProvider(k ProviderKind) {
	if _, dup := kinds[k.Name]; dup {
		panic("plan: provider kind " + k.Name + " registered twice")
	}
	kinds[k.Name] = &k
}

// LookupProvider returns the kind called name.
func LookupProvider(name string) (*ProviderKind, bool) {
	k, ok := kinds[name]
	return k, ok
}

// ProviderKinds returns the kinds offered to users, sorted by name.
func ProviderKinds() []*ProviderKind {
	var out []*ProviderKind
	for _, k := range kinds {
		if !k.Hidden {
			out = append(out, k)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ProviderNames is ProviderKinds' names, e.g. for "use one of ...".
func ProviderNames() []string {
	var out []string
	for _, k := range ProviderKinds() {
		out = append(out, k.Name)
	}
	return out
}

// SecretEnv are the environment variables of every provider setting the
// registry marks secret (Key.Secret): their values are redacted from all
// output before any provider reads them.
func SecretEnv() []string {
	var out []string
	for _, k := range ProviderKinds() {
		for _, key := range k.Keys {
			if key.Secret && key.Env != "" {
				out = append(out, key.Env)
			}
		}
	}
	return out
}

// Key returns the setting called name.
func (k *ProviderKind) Key(name string) (Key, bool) {
	for _, key := range k.Keys {
		if key.Name == name {
			return key, true
		}
	}
	return Key{}, false
}

// FlagEnv is the environment variable key's flag stands for: Env, or
// Env_FILE for a secret, whose flag takes a file so that the secret never
// shows in ps or in CI logs. "" when key has no flag.
func (key Key) FlagEnv() string {
	switch {
	case key.Flag == "":
		return ""
	case key.Secret:
		return key.Env + "_FILE"
	}
	return key.Env
}

// EnvProvider is the reference to the one provider of kind a command line
// or another client's state names: configured from its own environment
// variables (FromEnv), with the settings given by its flags (FlagSettings
// of given, by variable; nil for none) stored so that renew needs no flags.
func EnvProvider(kind string, given map[string]string) ProviderRef {
	ref := ProviderRef{Name: kind, Kind: kind, FromEnv: true}
	if k, ok := LookupProvider(kind); ok {
		ref.Values = k.FlagSettings(given)
	}
	return ref
}

// FlagSettings turns the provider flags given, keyed by the variable each
// stands for (FlagEnv), into k's settings as a [providers.NAME] table holds
// them: KEY for a plain value, KEY_file for a secret's file. Stored with a
// certificate, they let renew run without the flags. nil when none of k's
// flags was given.
func (k *ProviderKind) FlagSettings(given map[string]string) map[string]string {
	var out map[string]string
	for _, key := range k.Keys {
		v, ok := given[key.FlagEnv()]
		if !ok || key.Flag == "" {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		name := key.Name
		if key.Secret {
			name += "_file"
		}
		out[name] = v
	}
	return out
}

// ConfigKeys are the keys a [providers.NAME] table of this kind knows
// besides type, zones and single_value: each setting as KEY, KEY_env and
// KEY_file (a secret's plain KEY is known only to be refused).
func (k *ProviderKind) ConfigKeys() []string {
	var out []string
	for _, key := range k.Keys {
		out = append(out, key.Name, key.Name+"_env", key.Name+"_file")
	}
	return out
}

// Lookup returns how ref's kind reads a setting by its environment
// variable name: ref's own value (plain, from the variable named by KEY_env,
// or from the file named by KEY_file), else fallback (the command line,
// then the process environment). Files are read here, so a provider never
// sees a KEY_FILE variable for a key set in ref.
func (r ProviderRef) Lookup(k *ProviderKind, fallback func(string) (string, bool)) func(string) (string, bool) {
	if fallback == nil {
		fallback = os.LookupEnv
	}
	return func(env string) (string, bool) {
		for _, key := range k.Keys {
			own := env == key.Env
			if !own && env != key.Env+"_FILE" {
				continue
			}
			v, set, err := r.value(key.Name)
			if set {
				if !own {
					return "", false
				}
				if key.Secret {
					redact.Add(v)
				}
				return v, err == nil
			}
		}
		return fallback(env)
	}
}

// Source names, for messages, where setting key of r comes from: the
// config key as r holds it (KEY, KEY_env or KEY_file), else the kind's
// environment variable, which a provider given on the command line (or a
// [providers.NAME] table without the key) reads. "" for a key the kind
// does not have.
func (r ProviderRef) Source(key string) string {
	for _, suffix := range []string{"", "_env", "_file"} {
		if _, ok := r.Values[key+suffix]; ok {
			return key + suffix
		}
	}
	if k, ok := LookupProvider(r.Kind); ok {
		if kk, ok := k.Key(key); ok {
			return kk.Env
		}
	}
	return ""
}

// value resolves one setting of r; set reports whether r names it at all.
func (r ProviderRef) value(name string) (v string, set bool, err error) {
	if v, ok := r.Values[name]; ok {
		return v, true, nil
	}
	if e, ok := r.Values[name+"_env"]; ok {
		v, found := os.LookupEnv(e)
		if (!found || strings.TrimSpace(v) == "") && keyshape.LooksLikeKey(e) {
			return "", true, fmt.Errorf("that looks like a key, not the name of an environment variable; put the key in a variable and give its name")
		}
		if !found || strings.TrimSpace(v) == "" {
			return "", true, fmt.Errorf("environment variable %s is not set; export it or use %s_file", e, name)
		}
		return strings.TrimSpace(v), true, nil
	}
	if f, ok := r.Values[name+"_file"]; ok {
		b, err := os.ReadFile(f)
		if err != nil && keyshape.LooksLikeKey(f) {
			// Never echo what may be the secret itself.
			return "", true, fmt.Errorf("that looks like a key, not a path; write the key to a file (mode 0600) and give its path")
		}
		if err != nil {
			return "", true, fmt.Errorf("cannot read %s: %v; point it at a readable file", f, pathErr(err))
		}
		if strings.TrimSpace(string(b)) == "" {
			return "", true, fmt.Errorf("%s is empty; put the value in it", f)
		}
		return strings.TrimSpace(string(b)), true, nil
	}
	return "", false, nil
}

func pathErr(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// Strategy describes one propagation strategy: what it needs from the
// settings. internal/propagation builds all but relay, which plan builds
// from a challenge server account.
type Strategy struct {
	Name string
	Help string
	// Resolvers: needs at least one configured resolver (no defaults).
	Resolvers bool
	// HTTPSOnly: every resolver must be DNS-over-HTTPS.
	HTTPSOnly bool
	// Provider: reads the records back through the DNS provider.
	Provider bool
	// Account: asks a challenge server's /lookup with an acme-dns account.
	Account bool
}

var strategies = []Strategy{
	{Name: "doh", Help: "poll recursive resolvers over DNS-over-HTTPS (default)", HTTPSOnly: true},
	{Name: "resolver", Help: "poll the given recursive resolvers (any transport)", Resolvers: true},
	{Name: "authoritative", Help: "ask every authoritative server of the zone (port 53)"},
	{Name: "auto", Help: "authoritative where port 53 is open and allowed, else resolvers, else the provider read-back"},
	{Name: "provider", Help: "read the records back through the provider, then wait its settle delay", Provider: true},
	{Name: "relay", Help: "ask a challenge server's /lookup over HTTPS (acme-dns account)", Account: true},
	{Name: "wait", Help: "wait a fixed delay after the last write"},
	{Name: "none", Help: "no check (records are live at once)"},
}

// Strategies returns every propagation strategy, in the order of the docs.
func Strategies() []Strategy { return slices.Clone(strategies) }

// StrategyNames lists the strategy names.
func StrategyNames() []string {
	var out []string
	for _, s := range strategies {
		out = append(out, s.Name)
	}
	return out
}

// LookupStrategy returns the strategy called name (case-insensitive).
func LookupStrategy(name string) (Strategy, bool) {
	for _, s := range strategies {
		if strings.EqualFold(s.Name, strings.TrimSpace(name)) {
			return s, true
		}
	}
	return Strategy{}, false
}
