package propagation

import (
	"strings"
	"testing"
	"time"

	"github.com/strictacme/strictacme/internal/resolver"
)

func TestByName(t *testing.T) {
	getter := &zoneGetter{reads: map[string]int{}}
	for _, tc := range []struct {
		name     string
		cfg      Config
		wantName string
		wantErr  string
	}{
		{name: "doh", wantName: "doh"}, // resolver.Defaults, never contacted
		{name: " DoH ", cfg: Config{ResolverSpecs: []string{"https://127.0.0.1:8443/dns-query"}}, wantName: "doh"},
		{name: "doh", cfg: Config{ResolverSpecs: []string{"udp://127.0.0.1"}}, wantErr: `"udp://127.0.0.1" is not a DoH endpoint; use an https:// URL, or the "resolver" strategy`},
		{name: "doh", cfg: Config{ResolverSpecs: []string{"https://x"}}, wantErr: "missing the DoH path"},
		{name: "doh", cfg: Config{Quorum: 4}, wantErr: "quorum 4 out of range 1..3"},
		{name: "resolver", cfg: Config{ResolverSpecs: []string{"127.0.0.1:53", "tls://127.0.0.1"}, Quorum: 1}, wantName: "resolver"},
		{name: "resolver", wantErr: "no resolvers configured"},
		{name: "wait", wantName: "wait"},
		{name: "wait", cfg: Config{Delay: -time.Second}, wantErr: "negative delay"},
		{name: "none", wantName: "none"},
		{name: "provider", cfg: Config{Getter: getter, ZoneOf: zoneOf}, wantName: "provider"},
		{name: "provider", wantErr: "cannot list records"},
		{name: "provider", cfg: Config{Getter: getter}, wantErr: "no FQDN-to-zone mapping"},
		{name: "authoritative", wantName: "authoritative"}, // resolver.Defaults, never contacted
		{name: "auto", wantName: "auto"},
		{name: "dns", wantErr: `unknown propagation strategy "dns"; use one of authoritative, auto, doh, none, provider, resolver, wait`},
	} {
		st, err := ByName(tc.name, tc.cfg)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ByName(%q) error %v, want %q", tc.name, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ByName(%q): %v", tc.name, err)
			continue
		}
		if st.Name() != tc.wantName {
			t.Errorf("ByName(%q).Name() = %q", tc.name, st.Name())
		}
	}
}

func TestByName_DoHDefaults(t *testing.T) {
	st, err := ByName("doh", Config{})
	if err != nil {
		t.Fatal(err)
	}
	p := st.(*Poll)
	if len(p.Resolvers) != len(resolver.Defaults) {
		t.Fatalf("%d resolvers, want the %d defaults", len(p.Resolvers), len(resolver.Defaults))
	}
	for i, r := range p.Resolvers {
		if r.String() != resolver.Defaults[i] {
			t.Errorf("resolver %d = %s, want %s", i, r, resolver.Defaults[i])
		}
	}
}
