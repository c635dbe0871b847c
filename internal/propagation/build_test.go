package propagation

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/libdns/libdns"

	"github.com/strictacme/strictacme/internal/resolver"
)

type nopGetter struct{}

func (nopGetter) GetRecords(context.Context, string) ([]libdns.Record, error) { return nil, nil }

// TestBuildDecides pins, per situation, the one-line decision Build makes
// from the operator's choice and what the providers declare (lag,
// read-back). Case PR10: with a declared lag no resolver is asked before
// it has passed; PR11: the provider read-back is the default fallback
// wherever it exists.
func TestBuildDecides(t *testing.T) {
	rs := []resolver.Resolver{}
	for _, s := range []string{"https://dns.quad9.net/dns-query", "https://dns.google/dns-query"} {
		r, err := resolver.New(s, resolver.Options{})
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	zoneOf := func(string) (string, error) { return "example.com.", nil }
	readable := Config{Resolvers: rs, Getter: nopGetter{}, ZoneOf: zoneOf, ReadBack: true}
	lagging := readable
	lagging.Lag = 2 * time.Minute
	writeOnly := Config{Resolvers: rs, Lag: 90 * time.Second}
	mixed := lagging
	mixed.ReadBack = false // one provider of the set cannot read back
	tests := []struct {
		name   string
		choice Choice
		cfg    Config
		want   string
	}{
		{"default, provider without lag that reads back", Choice{}, readable,
			"doh at dns.quad9.net, dns.google (quorum: a majority of those that answer); fallback: provider read-back"},
		{"default, lagging provider that reads back", Choice{}, lagging,
			"confirm the write through the provider's read-back, wait out the provider's 2m0s serving lag from the last write, then doh at dns.quad9.net, dns.google (quorum: a majority of those that answer); fallback: provider read-back, then settle 2m0s more"},
		{"default, lagging provider that cannot read back", Choice{}, writeOnly,
			"wait out the provider's 1m30s serving lag from the last write, then doh at dns.quad9.net, dns.google (quorum: a majority of those that answer)"},
		{"default, one provider of several cannot read back", Choice{}, mixed,
			"wait out the provider's 2m0s serving lag from the last write, then doh at dns.quad9.net, dns.google (quorum: a majority of those that answer)"},
		{"explicit fallback replaces the default", Choice{Fallback: "wait"}, lagging,
			"confirm the write through the provider's read-back, wait out the provider's 2m0s serving lag from the last write, then doh at dns.quad9.net, dns.google (quorum: a majority of those that answer); fallback: wait 2m0s after the last write (no DNS)"},
		{"provider strategy settles for the declared lag", Choice{Strategy: "provider"}, lagging,
			"provider read-back, then settle until 2m0s after the last write"},
		{"provider strategy with an explicit settle delay", Choice{Strategy: "provider", DelaySet: true}, func() Config { c := lagging; c.Delay = 30 * time.Second; return c }(),
			"provider read-back, then settle until 30s after the last write"},
		{"quorum", Choice{}, func() Config { c := writeOnly; c.Lag = 0; c.Quorum = 1; return c }(),
			"doh at dns.quad9.net, dns.google (quorum 1 of 2)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Build(tc.choice, tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if got := Describe(s); got != tc.want {
				t.Errorf("decision\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestBuildRefusesFallbackEqualToStrategy(t *testing.T) {
	_, err := Build(Choice{Strategy: "doh", Fallback: "DoH"}, Config{})
	if err == nil || !strings.Contains(err.Error(), "is the strategy itself") {
		t.Fatalf("err = %v", err)
	}
}

// TestLaggedConfirmFailureEndsTheCheck: when the provider does not hold
// the records, neither the resolvers nor the default fallback are tried.
func TestLaggedConfirmFailureEndsTheCheck(t *testing.T) {
	clk := newFakeClock()
	r, srv := startPlain(t, appearsAfter(0, "v"))
	c := Config{Resolvers: []resolver.Resolver{r}, Getter: nopGetter{}, ZoneOf: func(string) (string, error) { return "example.com.", nil },
		ReadBack: true, Lag: time.Minute, Timeout: 10 * time.Second, Clock: clk}
	s, err := Build(Choice{Strategy: "resolver"}, c)
	if err != nil {
		t.Fatal(err)
	}
	var ev events
	err = s.Wait(context.Background(), []Record{{FQDN: "_acme-challenge.example.com.", Value: "v"}}, clk.Now(), ev.obs())
	if err == nil || !strings.Contains(err.Error(), "confirming the write through the provider") {
		t.Fatalf("err = %v", err)
	}
	if srv.count() != 0 {
		t.Errorf("the resolver got %d question(s) although the provider does not hold the record", srv.count())
	}
	for _, l := range ev.all() {
		if strings.Contains(l, "falling back") {
			t.Errorf("fell back: %q", l)
		}
	}
}

// TestDecideTakesPort53OnlyWhenAllowed: open port 53 makes auto ask the
// authoritative servers only when the operator allowed it (design
// principle 1); otherwise the same facts give the polling check.
func TestDecideTakesPort53OnlyWhenAllowed(t *testing.T) {
	r, err := resolver.New("https://dns.quad9.net/dns-query", resolver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	facts := Facts{Working: []resolver.Resolver{r}, Total: 1, Port53: true}
	for allow, want := range map[bool]string{true: "authoritative", false: "doh"} {
		s, err := Build(Choice{Strategy: "auto", AllowPort53: allow}, Config{Resolvers: []resolver.Resolver{r}})
		if err != nil {
			t.Fatal(err)
		}
		chosen, _, err := Decide(s, facts)
		if err != nil || chosen.Name() != want {
			t.Errorf("allowed %t: chose %v, %v; want %s", allow, chosen, err, want)
		}
	}
}
