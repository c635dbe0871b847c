package plan

import (
	"flag"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/strictacme/strictacme/internal/propagation"
	"github.com/strictacme/strictacme/internal/store"
	"github.com/strictacme/strictacme/provider/acmedns"
)

var update = flag.Bool("update", false, "rewrite the generated tables of docs/config.md")

// Unset settings take the one set of defaults; set ones are kept.
func TestDefaultsFillOnlyWhatIsUnset(t *testing.T) {
	s := Settings{Names: []string{"*.Example.com"}}.WithDefaults()
	if s.KeyType != DefaultKeyType || s.Server != DefaultServer || s.Propagation != DefaultPropagation ||
		!slices.Equal(s.Challenges, []string{DefaultChallenge}) || s.RequestTimeout.D() != DefaultRequestTimeout ||
		s.Timeout.D() != DefaultOrderTimeout || s.HookTimeout.D() != DefaultHookTimeout {
		t.Fatalf("defaults: %+v", s)
	}
	if s.Name != "_wildcard.example.com" {
		t.Errorf("name %q", s.Name)
	}
	k := Settings{Names: []string{"a.example"}, KeyType: "rsa2048", Name: "x"}.WithDefaults()
	if k.KeyType != "rsa2048" || k.Name != "x" {
		t.Errorf("set values replaced: %+v", k)
	}
}

// Validation reports every problem at once, each under its config key.
func TestValidateReportsEveryProblem(t *testing.T) {
	s := Settings{
		Names: []string{"ok.example.com", "bad name.example.com"}, KeyType: "ec521", Propagation: "dho",
		Challenges: []string{"http-01"}, Server: "ftp://x", Quorum: -1, PropagationWait: Duration(-time.Second),
		Provider: "nope", ChallengeAliases: map[string]string{"other.example.com": "acme.example.net"},
		EABKeyEnv: "X",
	}
	var keys []string
	for _, p := range s.Validate(ValidateOptions{}) {
		keys = append(keys, p.Key)
		if strings.Contains(p.Msg, "--") {
			t.Errorf("a flag in %q", p.Msg)
		}
	}
	for _, want := range []string{"names", "key_type", "propagation", "challenges", "server", "quorum", "propagation_wait", "provider", "challenge_aliases", "eab_kid"} {
		if !slices.Contains(keys, want) {
			t.Errorf("no problem for %s; got %v", want, keys)
		}
	}
}

// A certificate name taken from a refused first domain is not reported a
// second time, as if the user had set it.
func TestBadFirstDomainIsReportedOnce(t *testing.T) {
	s := Settings{Names: []string{"../x"}, Provider: "p"}
	var keys []string
	for _, p := range s.Validate(ValidateOptions{}) {
		keys = append(keys, p.Key)
	}
	if !slices.Contains(keys, "names") || slices.Contains(keys, "name") {
		t.Errorf("problems for %v; want names, not name", keys)
	}
	s = Settings{Names: []string{"a.example.com"}, Name: "../x", Provider: "p"}
	keys = nil
	for _, p := range s.Validate(ValidateOptions{}) {
		keys = append(keys, p.Key)
	}
	if !slices.Contains(keys, "name") {
		t.Errorf("a bad name given as such is not reported: %v", keys)
	}
}

// A provider definition needs every required setting, from itself or from
// the provider's own variables; a secret is never inline.
func TestProviderSettingsNeedTheirRequiredKeys(t *testing.T) {
	env := func(vars map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	}
	for _, tc := range []struct {
		name string
		ref  ProviderRef
		vars map[string]string
		want []string // keys with a problem
	}{
		{"all in the table", ProviderRef{Name: "nc", Kind: "namecheap", Values: map[string]string{"api_user": "u", "api_key_file": "/dev/null/key"}}, nil, []string{"api_key_file"}},
		{"from the provider's variables", ProviderRef{Name: "nc", Kind: "namecheap"}, map[string]string{"NAMECHEAP_API_USER": "u", "NAMECHEAP_API_KEY_FILE": "/k"}, nil},
		{"missing", ProviderRef{Name: "nc", Kind: "namecheap"}, nil, []string{"api_user", "api_key"}},
		{"inline secret", ProviderRef{Name: "nc", Kind: "namecheap", Values: map[string]string{"api_user": "u", "api_key": "s"}}, nil, []string{"api_key"}},
		{"two ways at once", ProviderRef{Name: "x", Kind: "exec", Values: map[string]string{"program": "/bin/true", "program_env": "P"}}, nil, []string{"program"}},
		{"command line: the provider reports", ProviderRef{Name: "x", Kind: "exec", FromEnv: true}, nil, nil},
		{"unknown kind", ProviderRef{Name: "x", Kind: "route99"}, nil, []string{"type"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, p := range tc.ref.Validate(env(tc.vars)) {
				got = append(got, p.Key)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("problems at %v, want %v", got, tc.want)
			}
		})
	}
}

// A provider reads a setting from its table (plain, by variable, by file)
// before the command line and the environment.
func TestProviderLookupPrefersTheTable(t *testing.T) {
	dir := t.TempDir()
	key := dir + "/key"
	if err := os.WriteFile(key, []byte("file-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("MY_USER", "from-env-var")
	kind, _ := LookupProvider("namecheap")
	ref := ProviderRef{Name: "nc", Kind: "namecheap", Values: map[string]string{"api_user_env": "MY_USER", "api_key_file": key, "client_ip": "192.0.2.1"}}
	fallback := func(k string) (string, bool) { return "fallback-" + k, true }
	get := ref.Lookup(kind, fallback)
	for env, want := range map[string]string{
		"NAMECHEAP_API_USER": "from-env-var", "NAMECHEAP_API_KEY": "file-secret", "NAMECHEAP_CLIENT_IP": "192.0.2.1",
		"NAMECHEAP_ENDPOINT": "fallback-NAMECHEAP_ENDPOINT",
	} {
		if v, _ := get(env); v != want {
			t.Errorf("%s = %q, want %q", env, v, want)
		}
	}
	if v, ok := get("NAMECHEAP_API_KEY_FILE"); ok {
		t.Errorf("the provider also sees a key file %q", v)
	}
}

// The settings stored by the previous release are migrated when read: the
// provider becomes a definition read from its environment.
func TestStoredSettingsOfThePreviousReleaseMigrate(t *testing.T) {
	m := store.Metadata{
		Names: []string{"example.com"}, KeyType: "ec384", Directory: "https://ca.example/dir",
		Renewal: &store.RenewalSettings{
			Provider: "namecheap", Propagation: "wait", PropagationWait: time.Minute, Challenges: []string{"dns-01"},
			ChallengeAliases: []string{"example.com=acme.example.net"}, ChallengeTargets: []string{"example.com=_x.example.org"},
			CACerts: []string{"/etc/ca.pem"}, Email: "ops@example.com",
		},
	}
	s, ok, err := FromMetadata(m)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if s.Provider != "namecheap" || len(s.Providers) != 1 || !s.Providers[0].FromEnv || s.Providers[0].Kind != "namecheap" {
		t.Errorf("provider: %+v", s.Providers)
	}
	if s.KeyType != "ec384" || s.Server != m.Directory || s.PropagationWait.D() != time.Minute || s.ChallengeAliases["example.com"] != "acme.example.net" || s.ChallengeTargets["example.com"] != "_x.example.org" {
		t.Errorf("settings: %+v", s)
	}
	// And this release's own settings round-trip through the metadata.
	raw, err := s.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, ok, err := FromMetadata(store.Metadata{Names: m.Names, KeyType: "ec384", Directory: m.Directory, Settings: raw, SettingsVersion: SchemaVersion})
	if err != nil || !ok || back.PropagationWait != s.PropagationWait || back.Email != s.Email || back.Providers[0].Kind != "namecheap" {
		t.Fatalf("round trip: %v %v %+v", ok, err, back)
	}
	if _, _, err := FromMetadata(store.Metadata{Settings: raw, SettingsVersion: SchemaVersion + 1}); err == nil {
		t.Error("a newer schema was read")
	}
}

// Names, key type and profile are what make a stored certificate differ
// from its settings; the rest is used at the next renewal.
func TestDiffersOnNamesKeyTypeAndProfile(t *testing.T) {
	m := store.Metadata{Names: []string{"a.example", "b.example"}, KeyType: "ec256"}
	if d := (Settings{Names: []string{"B.example", "a.example"}, Propagation: "wait"}).Differs(m); len(d) != 0 {
		t.Errorf("same certificate differs: %v", d)
	}
	if d := (Settings{Names: []string{"a.example"}, KeyType: "rsa2048", Profile: "shortlived"}).Differs(m); len(d) != 3 {
		t.Errorf("differences: %v", d)
	}
}

// Every strategy of the registry is one internal/propagation builds, plus
// relay, which Build makes from a challenge server account.
func TestStrategyRegistryMatchesPropagation(t *testing.T) {
	var built []string
	for _, s := range StrategyNames() {
		if s != "relay" {
			built = append(built, s)
		}
	}
	slices.Sort(built)
	if got := propagation.Names(); !slices.Equal(got, built) {
		t.Fatalf("propagation builds %v, the registry lists %v", got, built)
	}
}

// docs/config.md shows the registry's tables; go test -update rewrites them.
func TestDocsShowTheRegistries(t *testing.T) {
	const path = "../../docs/config.md"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, gen := range []struct{ name, table string }{{"kinds", KindTable()}, {"providers", ProviderTable()}, {"strategies", StrategyTable()}} {
		start, end := "<!-- "+gen.name+" table: generated from internal/plan -->\n", "<!-- end "+gen.name+" table -->"
		i, j := strings.Index(doc, start), strings.Index(doc, end)
		if i < 0 || j < i {
			t.Fatalf("%s: no %q ... %q markers", path, start, end)
		}
		if doc[i+len(start):j] != gen.table {
			if !*update {
				t.Errorf("%s: the %s table differs from the registry; run go test ./internal/plan -update", path, gen.name)
				continue
			}
			doc = doc[:i+len(start)] + gen.table + doc[j:]
		}
	}
	if *update {
		if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// relay takes its account from the certificate's acmedns provider, so it
// works from the config file as from the command line.
func TestRelayUsesTheAcmeDNSProvidersAccount(t *testing.T) {
	creds := t.TempDir() + "/acmedns.json"
	acct := acmedns.Account{Username: "u", Password: "p", FullDomain: "x.auth.example.org", SubDomain: "x", ServerURL: "https://auth.example.org"}
	if err := (acmedns.Credentials{"example.com": acct}).Save(creds); err != nil {
		t.Fatal(err)
	}
	s := Settings{
		Names: []string{"example.com"}, Provider: "adns", Propagation: "relay",
		Providers: []ProviderRef{{Name: "adns", Kind: "acmedns", Values: map[string]string{"credentials": creds}}},
	}
	p, err := Build(s, BuildOptions{Path: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	r, ok := p.Strategy.(*propagation.Relay)
	if !ok || r.URL != acct.ServerURL || r.Username != "u" {
		t.Fatalf("strategy %#v", p.Strategy)
	}
	s.Providers[0].Values["credentials"] = t.TempDir() + "/none.json"
	if _, err := Build(s, BuildOptions{Path: t.TempDir()}); err == nil {
		t.Fatal("built without credentials")
	}
}

// Every kind offered says what it does, so the docs' table of providers
// has no empty row.
func TestEveryKindDeclaresItsTraits(t *testing.T) {
	for _, k := range ProviderKinds() {
		tr := k.Traits
		if tr.Zones == "" || tr.Writes == "" || tr.Delete == "" || tr.Lag == "" {
			t.Errorf("provider kind %s: Traits %+v lacks zones, writes, delete or lag", k.Name, tr)
		}
	}
}
