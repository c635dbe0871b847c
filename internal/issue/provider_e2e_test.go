package issue

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/libdns/libdns"
	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/internal/propagation"
	"github.com/strictacme/strictacme/internal/providers"
	"github.com/strictacme/strictacme/internal/resolver"
	"github.com/strictacme/strictacme/internal/testworld"
)

// The steps every DNS provider's end-to-end tests share: a fake API
// whose challenge TXT records are served by the world's authoritative
// server, the propagation check built as the configuration builds it,
// one order for the apex, a wildcard and a subdomain, a crash followed
// by a sweep, and two orders at once in one zone.

// leftByAKilledRun is the challenge value a run killed between present
// and clean-up leaves at _acme-challenge.example.com.
const leftByAKilledRun = "left-by-a-killed-run-0000000000000000000000"

// republishChallenges replaces the _acme-challenge TXT records of
// example.com. on the world's authoritative server with rrs, as a
// provider's name servers serve what its API holds: at once when lag is
// 0, lag late on the world's clock otherwise.
func republishChallenges(t testing.TB, w *testworld.World, lag time.Duration, rrs []dns.RR) {
	t.Helper()
	old, _ := w.DNS.Records("example.com.")
	for _, rr := range old {
		if rr.Header().Rrtype == dns.TypeTXT && strings.HasPrefix(rr.Header().Name, "_acme-challenge") {
			w.DNS.RemoveRR(rr)
		}
	}
	for _, rr := range rrs {
		var err error
		if lag == 0 {
			err = w.DNS.AddRR(rr)
		} else {
			_, err = w.DNS.AddRRLate(lag, rr)
		}
		if err != nil {
			t.Errorf("publishing %s: %v", rr.Header().Name, err)
		}
	}
}

// challengeTXT is the TXT record value at fqdn as the world serves it
// (TTL 60).
func challengeTXT(fqdn, value string) dns.RR {
	return &dns.TXT{Hdr: dns.RR_Header{Name: dns.Fqdn(fqdn), Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60}, Txt: []string{value}}
}

// withPropagation gives the fixture the propagation check strategy as
// the configuration builds it, over a provider set holding the fixture's
// provider under name; "doh" asks the world's DoH resolver, and
// "recording" keeps the fixture's own check.
func withPropagation(t testing.TB, w *testworld.World, name, strategy string) fixtureOpt {
	return func(f *fixture, c *Config) {
		if strategy == "recording" {
			return
		}
		set, err := providers.NewSet(providers.Entry{Name: name, Provider: f.provider})
		if err != nil {
			t.Fatal(err)
		}
		cfg := propagation.Config{Clock: w.Clock}
		if strategy == "doh" {
			r, err := resolver.New(w.DoHURL, resolver.Options{RootCAs: w.RootPool(), Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			cfg.Resolvers = []resolver.Resolver{r}
		}
		st, err := propagation.Build(propagation.Choice{Strategy: strategy}, cfg.WithProviders(set))
		if err != nil {
			t.Fatal(err)
		}
		c.Propagation, c.Now = st, w.Clock.Now
	}
}

// obtainApexWildcardSub has f obtain one certificate for example.com,
// *.example.com and sub.example.com, and fails t unless it names all
// three.
func (f *fixture) obtainApexWildcardSub(t *testing.T) {
	t.Helper()
	res, err := f.obtain(t, context.Background(), "example.com", "*.example.com", "sub.example.com")
	if err != nil {
		t.Fatalf("Obtain: %v\n%s", err, strings.Join(f.log, "\n"))
	}
	if len(res.Certificate.Leaf.DNSNames) != 3 {
		t.Fatalf("SANs %v", res.Certificate.Leaf.DNSNames)
	}
}

// checkJournalEmpty fails t if f's journal still lists a record.
func (f *fixture) checkJournalEmpty(t *testing.T) {
	t.Helper()
	if es, _ := f.st.Journal().Entries(); len(es) != 0 {
		t.Errorf("journal not empty: %v", es)
	}
}

// checkRecordsUnchanged fails t unless after holds exactly the records
// of before, in order.
func checkRecordsUnchanged[R comparable](t *testing.T, before, after []R) {
	t.Helper()
	if len(after) != len(before) {
		t.Fatalf("zone has %d records after clean-up, had %d:\n%+v", len(after), len(before), after)
	}
	for i := range before {
		if before[i] != after[i] {
			t.Errorf("record changed:\n before %+v\n after  %+v", before[i], after[i])
		}
	}
}

// leaveAKilledRunsValue journals leftByAKilledRun at the apex challenge
// name in f, as a run killed before its clean-up leaves it; with p set,
// the value is first written through p, otherwise the caller has put it
// into the fake API itself.
func (f *fixture) leaveAKilledRunsValue(t *testing.T, p libdns.RecordAppender) {
	t.Helper()
	if p != nil {
		if _, err := p.AppendRecords(context.Background(), "example.com.", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: leftByAKilledRun}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.st.Journal().Add(journalEntryFor("world", "example.com.", "_acme-challenge.example.com.", leftByAKilledRun)); err != nil {
		t.Fatal(err)
	}
}

// sweepOne has f sweep and fails t unless exactly one record was
// removed.
func (f *fixture) sweepOne(t *testing.T) {
	t.Helper()
	if n, err := f.is.Sweep(context.Background()); err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v", n, err)
	}
}

// obtainConcurrently runs two orders at once through p, one for
// example.com and *.example.com, one for example.com and
// sub.example.com, so both present a value at
// _acme-challenge.example.com, and fails t unless both are issued.
func obtainConcurrently(t *testing.T, w *testworld.World, p providers.Provider) {
	t.Helper()
	a := newFixture(t, w, withProvider(p))
	b := newFixture(t, w, withProvider(p))
	errs := make(chan error, 2)
	go func() {
		_, err := a.is.Obtain(context.Background(), Request{Identifiers: ids(t, "example.com", "*.example.com"), KeyType: EC256})
		errs <- err
	}()
	go func() {
		_, err := b.is.Obtain(context.Background(), Request{Identifiers: ids(t, "example.com", "sub.example.com"), KeyType: EC256})
		errs <- err
	}()
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatalf("Obtain: %v\n%s\n%s", err, strings.Join(a.log, "\n"), strings.Join(b.log, "\n"))
		}
	}
}
