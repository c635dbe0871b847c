package preflight

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/libdns/libdns"

	"github.com/strictacme/strictacme/internal/propagation"
	"github.com/strictacme/strictacme/internal/providers"
	"github.com/strictacme/strictacme/internal/resolver"
)

// zoneProvider writes nothing; it reads back (when reads is set) and
// declares a serving lag, like Namecheap.
type zoneProvider struct {
	reads bool
	lag   time.Duration
}

func (zoneProvider) AppendRecords(context.Context, string, []libdns.Record) ([]libdns.Record, error) {
	return nil, errors.New("check never writes")
}

func (zoneProvider) DeleteRecords(context.Context, string, []libdns.Record) ([]libdns.Record, error) {
	return nil, errors.New("check never writes")
}

func (p zoneProvider) ServingLag() time.Duration { return p.lag }

type readingProvider struct{ zoneProvider }

func (readingProvider) GetRecords(context.Context, string) ([]libdns.Record, error) { return nil, nil }

func (p zoneProvider) provider() providers.Provider {
	if p.reads {
		return readingProvider{p}
	}
	return p
}

// TestCheckAndIssueAgreeOnTheStrategy: for each situation, `check` (its
// own SOA probes, then propagation.Decide) predicts exactly the strategy
// issue's "auto" picks when it probes at Wait time, and the same one-line
// decision; the explicit strategies show the decision issue logs. Case
// PR11: with no resolver answering, a provider that reads back is chosen.
func TestCheckAndIssueAgreeOnTheStrategy(t *testing.T) {
	blocked := func(spec string) *fakeResolver {
		return &fakeResolver{spec: spec, err: &resolver.Error{Endpoint: spec, Reason: "HTTP 403 Forbidden (a filtering proxy?)", Kind: resolver.KindHTTPStatus, HTTPStatus: 403}}
	}
	tests := []struct {
		name      string
		strategy  string
		resolvers []*fakeResolver
		provider  zoneProvider
		want      string // start of the decision
	}{
		{"every resolver answers, lagging provider reads back", "auto",
			[]*fakeResolver{zoneFake("https://a/dns-query"), zoneFake("https://b/dns-query")}, zoneProvider{reads: true, lag: 2 * time.Minute},
			"confirm the write through the provider's read-back, wait out the provider's 2m0s serving lag from the last write, then doh at a, b (quorum: a majority of those that answer); fallback: provider read-back"},
		{"one resolver blocked", "auto",
			[]*fakeResolver{zoneFake("https://a/dns-query"), blocked("https://b/dns-query")}, zoneProvider{reads: true},
			"doh at a (quorum: a majority of those that answer); fallback: provider read-back"},
		{"plain-DNS resolver answers", "auto",
			[]*fakeResolver{zoneFake("udp://192.0.2.53:53")}, zoneProvider{lag: time.Minute},
			"wait out the provider's 1m0s serving lag from the last write, then resolver at udp://192.0.2.53:53 (quorum: a majority of those that answer)"},
		{"no resolver answers, provider reads back", "auto",
			[]*fakeResolver{blocked("https://a/dns-query")}, zoneProvider{reads: true, lag: 2 * time.Minute},
			"provider read-back, then settle until 2m0s after the last write"},
		{"no resolver answers, provider cannot read back", "auto",
			[]*fakeResolver{blocked("https://a/dns-query")}, zoneProvider{lag: 3 * time.Minute},
			"wait 3m0s after the last write (no DNS)"},
		{"doh with a lagging provider", "doh",
			[]*fakeResolver{zoneFake("https://a/dns-query")}, zoneProvider{reads: true, lag: 2 * time.Minute},
			"confirm the write through the provider's read-back, wait out the provider's 2m0s serving lag from the last write, then doh at a (quorum: a majority of those that answer)"},
		{"provider", "provider",
			[]*fakeResolver{zoneFake("https://a/dns-query")}, zoneProvider{reads: true, lag: 2 * time.Minute},
			"provider read-back, then settle until 2m0s after the last write"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rs := make([]resolver.Resolver, len(tc.resolvers))
			for i, r := range tc.resolvers {
				rs[i] = r
			}
			set, err := providers.NewSet(providers.Entry{Name: "p", Zone: "example.com", Provider: tc.provider.provider()})
			if err != nil {
				t.Fatal(err)
			}
			// What issue runs: the same Build call as the command line.
			issueStrategy, err := propagation.Build(propagation.Choice{Strategy: tc.strategy}, propagation.Config{Resolvers: rs}.WithProviders(set))
			if err != nil {
				t.Fatal(err)
			}
			issueSays := propagation.Describe(issueStrategy)
			if a, isAuto := issueStrategy.(*propagation.Auto); isAuto {
				chosen, _, err := a.Choose(context.Background(), []propagation.Record{{FQDN: "_acme-challenge.example.com.", Value: "v"}})
				if err != nil {
					t.Fatal(err)
				}
				issueSays = propagation.Describe(chosen)
			}
			if !strings.HasPrefix(issueSays, tc.want) {
				t.Errorf("issue decides\n %s\nwant\n %s", issueSays, tc.want)
			}

			// What check predicts, with the strategy handed over (as the
			// command does) and built from the target alone.
			eps := Endpoints(context.Background(), rs, "example.com.")
			for _, given := range []propagation.Strategy{issueStrategy, nil} {
				tg := Target{Identifiers: []string{"example.com"}, Strategy: tc.strategy, Resolvers: rs, Providers: set, Propagation: given}
				routes := Routes(context.Background(), tg)
				row := StrategyRow(tg, eps, Port53(context.Background(), tg, eps, routes), routes)
				if row.Status != OK || !strings.Contains(row.Detail, issueSays) {
					t.Errorf("check (strategy given: %t) predicts\n %s\nissue decides\n %s", given != nil, row.Detail, issueSays)
				}
			}
		})
	}
}

// TestCheckCountsTheDefaultFallback: with no resolver answering, doh
// cannot work; issue then falls back to the provider read-back when the
// provider can read back, so check warns instead of failing, and fails
// only when no fallback exists.
func TestCheckCountsTheDefaultFallback(t *testing.T) {
	blocked := &fakeResolver{spec: "https://a/dns-query", err: &resolver.Error{Endpoint: "https://a/dns-query", Reason: "HTTP 403 Forbidden", Kind: resolver.KindHTTPStatus, HTTPStatus: 403}}
	rs := []resolver.Resolver{blocked}
	eps := Endpoints(context.Background(), rs, "example.com.")
	for _, tc := range []struct {
		p    zoneProvider
		want Status
	}{{zoneProvider{reads: true}, Warn}, {zoneProvider{}, Fail}} {
		set, err := providers.NewSet(providers.Entry{Name: "p", Zone: "example.com", Provider: tc.p.provider()})
		if err != nil {
			t.Fatal(err)
		}
		tg := Target{Identifiers: []string{"example.com"}, Strategy: "doh", Resolvers: rs, Providers: set}
		routes := Routes(context.Background(), tg)
		row := StrategyRow(tg, eps, Row{}, routes)
		if row.Status != tc.want || (tc.want == Warn && !strings.Contains(row.Detail, "the fallback provider works")) {
			t.Errorf("provider reads back: %t: %+v", tc.p.reads, row)
		}
	}
}
