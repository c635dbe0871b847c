package preflight

import (
	"slices"
	"testing"
	"time"

	"github.com/strictacme/strictacme/internal/delegation"
	"github.com/strictacme/strictacme/internal/plan"
)

// check looks at exactly what issue would run: names in A-label form,
// challenges in the order of preference, the plan's own strategy and
// delegation, which stops logging because the report says where each
// record goes.
func TestTargetOfChecksThePlanIssueRuns(t *testing.T) {
	s := plan.Settings{
		Name: "shop", Names: []string{"bücher.example", "*.example.com"}, Server: "https://127.0.0.1:14000/dir",
		Challenges: []string{"dns-account-01", "dns-01"}, AcceptTOS: true, Propagation: "wait", Quorum: 1, AllowPort53: true,
		Resolvers: []string{"https://127.0.0.1:1/dns-query"}, RequestTimeout: plan.Duration(3 * time.Second), IPv4Only: true,
		Provider: "x", Providers: []plan.ProviderRef{{Name: "x", Kind: "exec", Values: map[string]string{"program": "/bin/true"}}},
	}
	p, err := plan.Build(s, plan.BuildOptions{Path: t.TempDir(), Log: func(string) {}})
	if err != nil {
		t.Fatal(err)
	}
	tg := TargetOf(p, "/var/lib/strictacme")
	if tg.Name != "shop" || tg.StatePath != "/var/lib/strictacme" || tg.Directory != "https://127.0.0.1:14000/dir" || !tg.AcceptTOS || tg.HasEAB {
		t.Errorf("certificate fields: %+v", tg)
	}
	if want := []string{"xn--bcher-kva.example", "*.example.com"}; !slices.Equal(tg.Identifiers, want) {
		t.Errorf("identifiers %v, want %v", tg.Identifiers, want)
	}
	if want := []string{"dns-account-01", "dns-01"}; !slices.Equal(tg.Challenges, want) {
		t.Errorf("challenges %v, want %v", tg.Challenges, want)
	}
	if tg.Strategy != "wait" || tg.Quorum != 1 || !tg.AllowPort53 || tg.Propagation != p.Strategy || tg.Providers != p.Providers {
		t.Errorf("propagation fields: %+v", tg)
	}
	if tg.HTTPClient != p.HTTPClient || len(tg.Resolvers) != 1 || tg.DNSOptions.Timeout != 3*time.Second || !tg.DNSOptions.IPv4Only {
		t.Errorf("transport fields: %+v", tg)
	}
	d, ok := tg.Delegate.(*delegation.Delegator)
	if !ok || d != p.Delegate || d.Log != nil {
		t.Errorf("delegate %#v: want the plan's, not logging", tg.Delegate)
	}
}
