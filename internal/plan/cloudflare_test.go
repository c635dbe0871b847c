package plan

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strictacme/strictacme/internal/providers"
	"github.com/strictacme/strictacme/provider/cloudflare"
)

// A [providers.NAME] table of type cloudflare builds the provider from its
// keys, the token from api_token_file, winning over a lego CF_ variable
// of the environment; it finds zones through the API and reads records
// back. Without any credential the error names the variable, and a bad
// TTL names its own.
func TestCloudflareFromAProvidersTable(t *testing.T) {
	const token = "table-token-0000000000000000000000000000"
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	kind, ok := LookupProvider("cloudflare")
	if !ok {
		t.Fatal("cloudflare is not registered")
	}
	env := map[string]string{"CF_DNS_API_TOKEN": "from-the-environment"}
	fallback := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	build := func(values map[string]string) (providers.Provider, error) {
		ref := ProviderRef{Name: "cf", Kind: "cloudflare", Values: values}
		return kind.New(ref.Lookup(kind, fallback), BuildEnv{Path: t.TempDir()})
	}
	p, err := build(map[string]string{"api_token_file": file, "ttl": "300"})
	if err != nil {
		t.Fatal(err)
	}
	cp, ok := p.(*cloudflare.Provider)
	if !ok || cp.APIToken != token || cp.TTL != 300 || !providers.CapabilityOf(p).CanRead {
		t.Fatalf("built %#v", p)
	}
	if _, finds := p.(providers.ZoneFinder); !finds {
		t.Errorf("%T does not find zones", p)
	}
	delete(env, "CF_DNS_API_TOKEN")
	if _, err := build(nil); err == nil || !strings.Contains(err.Error(), "CLOUDFLARE_DNS_API_TOKEN") {
		t.Errorf("no credentials: %v", err)
	}
	if _, err := build(map[string]string{"api_token_file": file, "ttl": "5"}); err == nil || !strings.Contains(err.Error(), "CLOUDFLARE_TTL") || strings.Contains(err.Error(), token) {
		t.Errorf("ttl 5: %v", err)
	}
}
