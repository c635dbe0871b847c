package plan

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/libdns/libdns"

	"github.com/strictacme/strictacme/internal/providers"
	"github.com/strictacme/strictacme/provider/rfc2136"
)

// A [providers.NAME] table of type rfc2136 builds the provider from its
// keys, the secret from tsig_secret_file; without transfer = true it is
// write-only, so nothing tries a zone transfer the key may not make, and
// with it the provider reads back. A bad value is one line naming the
// variable, without the secret.
func TestRFC2136FromAProvidersTable(t *testing.T) {
	const secret = "c2VjcmV0LWtleS1mb3ItdGhlLXRlc3Qtb25seS0wMDE="
	file := filepath.Join(t.TempDir(), "tsig")
	if err := os.WriteFile(file, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	kind, ok := LookupProvider("rfc2136")
	if !ok {
		t.Fatal("rfc2136 is not registered")
	}
	none := func(string) (string, bool) { return "", false }
	build := func(values map[string]string) (providers.Provider, error) {
		ref := ProviderRef{Name: "internal-dns", Kind: "rfc2136", Values: values}
		return kind.New(ref.Lookup(kind, none), BuildEnv{Path: t.TempDir()})
	}
	base := map[string]string{"nameserver": "192.0.2.53", "tsig_key": "acme-update", "tsig_secret_file": file, "zone": "example.com"}
	p, err := build(base)
	if err != nil {
		t.Fatal(err)
	}
	if _, reads := p.(libdns.RecordGetter); reads || providers.CapabilityOf(p).CanRead {
		t.Errorf("%T reads records back without transfer = true", p)
	}
	if _, finds := p.(providers.ZoneFinder); !finds {
		t.Errorf("%T does not find zones", p)
	}
	with := map[string]string{"transfer": "true"}
	for k, v := range base {
		with[k] = v
	}
	if p, err = build(with); err != nil {
		t.Fatal(err)
	}
	if rp, ok := p.(*rfc2136.Provider); !ok || rp.Zone != "example.com" || rp.Server != "192.0.2.53" || !providers.CapabilityOf(p).CanRead {
		t.Errorf("with transfer: %#v", p)
	}
	with["transfer"] = "sometimes"
	if _, err := build(with); err == nil || !strings.Contains(err.Error(), "RFC2136_TRANSFER") {
		t.Errorf("transfer = sometimes: %v", err)
	}
	with["transfer"], with["tsig_algorithm"] = "true", "hmac-md5"
	if _, err := build(with); err == nil || !strings.Contains(err.Error(), "hmac-sha256") || strings.Contains(err.Error(), secret) {
		t.Errorf("hmac-md5: %v", err)
	}
}
