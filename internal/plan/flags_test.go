package plan

import (
	"maps"
	"slices"
	"testing"
)

// Provider flags given to issue are stored with the certificate as the
// settings of its provider, a secret as the file it is in, so that renew
// needs the flags no more; variables stay the provider's to read.
func TestProviderFlagsBecomeStoredSettings(t *testing.T) {
	given := map[string]string{
		"NAMECHEAP_API_USER": "me", "NAMECHEAP_API_KEY_FILE": "/run/secrets/nc", "NAMECHEAP_CLIENT_IP": "192.0.2.1",
		"ACME_DNS_API_BASE": "https://auth.example.org",
	}
	tests := []struct {
		kind  string
		given map[string]string
		want  map[string]string
	}{
		{"namecheap", given, map[string]string{"api_user": "me", "api_key_file": "/run/secrets/nc", "client_ip": "192.0.2.1"}},
		{"exec", given, nil},
		{"namecheap", nil, nil},
	}
	for _, tt := range tests {
		k, ok := LookupProvider(tt.kind)
		if !ok {
			t.Fatalf("no kind %s", tt.kind)
		}
		if got := k.FlagSettings(tt.given); !maps.Equal(got, tt.want) || (got == nil) != (tt.want == nil) {
			t.Errorf("%s with %v: got %v, want %v", tt.kind, tt.given, got, tt.want)
		}
	}
}

// A secret's flag stands for the provider's _FILE variable, a plain
// setting's for the variable itself, a setting without a flag for none.
func TestFlagEnvOfSecretIsTheFileVariable(t *testing.T) {
	tests := []struct {
		key  Key
		want string
	}{
		{Key{Env: "NAMECHEAP_API_KEY", Flag: "namecheap-api-key-file", Secret: true}, "NAMECHEAP_API_KEY_FILE"},
		{Key{Env: "NAMECHEAP_API_USER", Flag: "namecheap-api-user"}, "NAMECHEAP_API_USER"},
		{Key{Env: "NAMECHEAP_SANDBOX"}, ""},
	}
	for _, tt := range tests {
		if got := tt.key.FlagEnv(); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.key, got, tt.want)
		}
	}
}

// Every provider secret's variable is among those redacted before any
// provider reads them, derived from the registry (the Namecheap API key
// and the Cloudflare token among them); no plain setting is.
func TestSecretVariablesComeFromTheRegistry(t *testing.T) {
	got := SecretEnv()
	for _, k := range ProviderKinds() {
		for _, key := range k.Keys {
			if key.Env == "" {
				continue
			}
			if in := slices.Contains(got, key.Env); in != key.Secret {
				t.Errorf("%s %s: redacted %v, secret %v", k.Name, key.Env, in, key.Secret)
			}
		}
	}
	if !slices.Contains(got, "NAMECHEAP_API_KEY") {
		t.Errorf("NAMECHEAP_API_KEY missing from %v", got)
	}
}

// The provider a command line names is read from its environment with
// the settings its flags gave stored; an unknown kind is left for
// validation to name.
func TestEnvProviderStoresTheFlagsGiven(t *testing.T) {
	ref := EnvProvider("namecheap", map[string]string{"NAMECHEAP_API_USER": "me"})
	if ref.Name != "namecheap" || ref.Kind != "namecheap" || !ref.FromEnv || !maps.Equal(ref.Values, map[string]string{"api_user": "me"}) {
		t.Errorf("namecheap: %+v", ref)
	}
	if ref := EnvProvider("no-such-kind", nil); ref.Kind != "no-such-kind" || !ref.FromEnv || ref.Values != nil {
		t.Errorf("unknown kind: %+v", ref)
	}
}
