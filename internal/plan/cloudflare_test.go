package plan

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strictacme/strictacme/internal/providers"
	"github.com/strictacme/strictacme/provider/cloudflare"
	"github.com/strictacme/strictacme/provider/digitalocean"
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

// lego's PREFIX_HTTP_TIMEOUT bounds each API call of the providers that
// read it, in seconds or as a duration; the client's trust roots stay.
func TestLegoHTTPTimeoutBoundsEachAPICall(t *testing.T) {
	base := HTTPClient(nil, false)
	for _, tt := range []struct{ kind, token, timeout string }{
		{"cloudflare", "CLOUDFLARE_DNS_API_TOKEN", "CLOUDFLARE_HTTP_TIMEOUT"},
		{"digitalocean", "DO_AUTH_TOKEN", "DO_HTTP_TIMEOUT"},
	} {
		kind, ok := LookupProvider(tt.kind)
		if !ok {
			t.Fatalf("%s is not registered", tt.kind)
		}
		for v, want := range map[string]time.Duration{"": base.Timeout, "5": 5 * time.Second, "1m30s": 90 * time.Second, "soon": -1} {
			env := map[string]string{tt.token: "t", tt.timeout: v}
			p, err := kind.New(func(k string) (string, bool) { s, ok := env[k]; return s, ok }, BuildEnv{HTTPClient: base})
			if want < 0 {
				if err == nil || !strings.Contains(err.Error(), tt.timeout) {
					t.Errorf("%s=%q: %v", tt.timeout, v, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s=%q: %v", tt.timeout, v, err)
			}
			var c *http.Client
			switch p := p.(type) {
			case *cloudflare.Provider:
				c = p.HTTPClient
			case *digitalocean.Provider:
				c = p.HTTPClient
			}
			if c == nil || c.Timeout != want || c.Transport != base.Transport {
				t.Errorf("%s=%q: client %+v, want timeout %s and the same transport", tt.timeout, v, c, want)
			}
		}
	}
}
