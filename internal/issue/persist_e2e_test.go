package issue

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/internal/challenge"
	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/persist"
	"github.com/strictacme/strictacme/internal/providers"
	"github.com/strictacme/strictacme/internal/resolver"
	"github.com/strictacme/strictacme/internal/testworld"
)

// countingChecker is a PersistChecker that counts its calls and passes
// them to next (nil: every check fails).
type countingChecker struct {
	next  PersistChecker
	mu    sync.Mutex
	fqdns []string
}

func (c *countingChecker) CheckPersist(ctx context.Context, fqdn string, want func([]string) error) error {
	c.mu.Lock()
	c.fqdns = append(c.fqdns, fqdn)
	c.mu.Unlock()
	if c.next == nil {
		return want(nil)
	}
	return c.next.CheckPersist(ctx, fqdn, want)
}

func (c *countingChecker) calls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.fqdns)
}

// withWorldPersist checks dns-persist-01 records through the world's DoH
// resolver, as the CLI does by default.
func withWorldPersist(t *testing.T, w *testworld.World, c *countingChecker) fixtureOpt {
	t.Helper()
	doh, err := resolver.New(w.DoHURL, resolver.Options{RootCAs: w.RootPool()})
	if err != nil {
		t.Fatal(err)
	}
	c.next = ResolverPersistChecker{Resolvers: []resolver.Resolver{doh}}
	return func(_ *fixture, cfg *Config) { cfg.Persist = c }
}

func (f *fixture) obtainWith(t *testing.T, types []challenge.Type, in ...string) (*Result, error) {
	t.Helper()
	return f.is.Obtain(context.Background(), Request{Identifiers: ids(t, in...), KeyType: EC256, Challenges: types})
}

var persistOnly = []challenge.Type{challenge.DNSPersist01}

// TestPersistAppliedOnceThenNoWrites: the record is published once through
// the provider with the Go API behind "strictacme persist --apply" (issuer
// learnt from the CA's challenge), then three issuances, one of them with a
// wildcard, make no provider write, no propagation wait and no journal
// entry.
func TestPersistAppliedOnceThenNoWrites(t *testing.T) {
	w := testworld.Start(t)
	checker := &countingChecker{}
	f := newFixture(t, w, withWorldPersist(t, w, checker))
	ctx := context.Background()
	names := []string{"example.com", "*.example.com"}

	w.API.ResetCounts()
	iss, err := persist.Discover(ctx, f.is.Client(), f.is.account, ids(t, names...), persist.SourceChallenge)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := persist.Build(ids(t, names...), iss.Names[0], f.is.account.Location, persist.Options{}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	set, _ := providers.NewSet(providers.Entry{Name: "world", Provider: w.Provider()})
	if _, err := persist.Apply(ctx, recs, persist.ApplyOptions{Providers: set}); err != nil {
		t.Fatal(err)
	}
	if _, err := persist.Apply(ctx, recs, persist.ApplyOptions{Providers: set}); err != nil {
		t.Fatal(err)
	}
	if got := w.API.Writes(); got != 1 {
		t.Fatalf("provider writes to publish the record twice = %d, want 1", got)
	}

	w.API.ResetCounts()
	for i, in := range [][]string{names, {"example.com"}, names} {
		res, err := f.obtainWith(t, persistOnly, in...)
		if err != nil {
			t.Fatalf("issuance %d: %v\nlog:\n%s", i+1, err, strings.Join(f.log, "\n"))
		}
		if res.Stats.ProviderWrites != 0 || res.Stats.Records != 0 {
			t.Errorf("issuance %d stats = %+v", i+1, res.Stats)
		}
		for _, r := range res.Records {
			if r.Type != challenge.DNSPersist01 {
				t.Errorf("issuance %d used %s for %s", i+1, r.Type, r.Identifier)
			}
		}
	}
	if got := w.API.Writes(); got != 0 {
		t.Errorf("provider writes during three issuances = %d, want 0", got)
	}
	if f.strategy.calls != 0 {
		t.Errorf("propagation waits = %d, want 0 (nothing was written)", f.strategy.calls)
	}
	if es, _ := f.st.Journal().Entries(); len(es) != 0 {
		t.Errorf("journal: %v", es)
	}
	if checker.calls() == 0 {
		t.Error("the record was never checked before validation")
	}
	if !hasTXT(w, recs[0].FQDN, recs[0].Value) {
		t.Error("the persistent record was removed")
	}
}

// TestPersistWildcardNeedsPolicy: a record without policy=wildcard does not
// let the account get a wildcard; the refusal comes from the client's own
// check, before any challenge is initiated, and says what to add.
func TestPersistWildcardNeedsPolicy(t *testing.T) {
	w := testworld.Start(t)
	f := newFixture(t, w, withWorldPersist(t, w, &countingChecker{}))
	plain := testworld.DefaultCAAIdentity + "; accounturi=" + f.is.account.Location
	if err := w.DNS.Add("_validation-persist.wild.example.net.", dns.TypeTXT, 60, plain); err != nil {
		t.Fatal(err)
	}
	w.CA.ResetRequests()
	_, err := f.obtainWith(t, persistOnly, "*.wild.example.net")
	if exitcode.Of(err) != exitcode.Missing || !strings.Contains(err.Error(), "policy=wildcard") {
		t.Fatalf("err = %v (code %d), want Missing naming policy=wildcard", err, exitcode.Of(err))
	}
	if n := w.CA.Requests(testworld.PathChallenge); n != 0 {
		t.Errorf("%d challenge requests; nothing should be initiated", n)
	}

	// The same name with policy=wildcard: granted. (A fresh name, so the
	// resolver's cache of the first answer plays no part.)
	if err := w.DNS.Add("_validation-persist.wild2.example.net.", dns.TypeTXT, 60, plain+"; policy=wildcard"); err != nil {
		t.Fatal(err)
	}
	res, err := f.obtainWith(t, persistOnly, "*.wild2.example.net", "wild2.example.net")
	if err != nil {
		t.Fatalf("wildcard with policy=wildcard: %v", err)
	}
	if len(res.Certificate.Leaf.DNSNames) != 2 || w.API.Writes() != 0 {
		t.Errorf("SANs %v, provider writes %d", res.Certificate.Leaf.DNSNames, w.API.Writes())
	}
}

// TestPersistUntilPastRefusedBeforeValidation: an expired record stops the
// order with a message naming the date, before any challenge is sent to
// the CA.
func TestPersistUntilPastRefusedBeforeValidation(t *testing.T) {
	w := testworld.Start(t)
	f := newFixture(t, w, withWorldPersist(t, w, &countingChecker{}))
	past := time.Now().Add(-24 * time.Hour).Truncate(time.Second)
	v := testworld.DefaultCAAIdentity + "; accounturi=" + f.is.account.Location + "; persistUntil=" + strconv.FormatInt(past.Unix(), 10)
	if err := w.DNS.Add("_validation-persist.old.example.com.", dns.TypeTXT, 60, v); err != nil {
		t.Fatal(err)
	}
	w.CA.ResetRequests()
	_, err := f.obtainWith(t, persistOnly, "old.example.com")
	if exitcode.Of(err) != exitcode.Missing {
		t.Fatalf("err = %v (code %d), want Missing", err, exitcode.Of(err))
	}
	msg := err.Error()
	if !strings.Contains(msg, "persistUntil "+past.UTC().Format(time.RFC3339)+" is in the past") || strings.Contains(msg, "\n") {
		t.Errorf("message should be one line naming the date: %q", msg)
	}
	if n := w.CA.Requests(testworld.PathChallenge); n != 0 {
		t.Errorf("%d challenge requests; validation must not be attempted", n)
	}
}

// TestPersistWithoutProviders: only dns-persist-01 needs no DNS provider at
// all (the CLI does not require --dns then).
func TestPersistWithoutProviders(t *testing.T) {
	w := testworld.Start(t)
	f := newFixture(t, w, withWorldPersist(t, w, &countingChecker{}))
	f.is.cfg.Providers = nil // newFixture always configures one
	v := testworld.DefaultCAAIdentity + "; accounturi=" + f.is.account.Location
	if err := w.DNS.Add("_validation-persist.noprov.example.com.", dns.TypeTXT, 60, v); err != nil {
		t.Fatal(err)
	}
	if _, err := f.obtainWith(t, persistOnly, "noprov.example.com"); err != nil {
		t.Fatal(err)
	}
}

// TestPersistMissingFallsBackWhenAllowed: with --challenge
// dns-persist-01,dns-01 and no persistent record published, the order
// falls back to dns-01 for that name (one provider write) instead of
// failing; without the fallback it stops with exit code Missing.
func TestPersistMissingFallsBackWhenAllowed(t *testing.T) {
	w := testworld.Start(t)
	c := &countingChecker{}
	f := newFixture(t, w, withWorldPersist(t, w, c))
	w.API.ResetCounts()
	res, err := f.obtainWith(t, []challenge.Type{challenge.DNSPersist01, challenge.DNS01}, "nopersist.example.com")
	if err != nil {
		t.Fatalf("Obtain with fallback: %v\n%s", err, strings.Join(f.log, "\n"))
	}
	if len(res.Records) != 1 || res.Records[0].Type != challenge.DNS01 {
		t.Fatalf("records: %+v", res.Records)
	}
	if c.calls() != 1 || w.API.Writes() != 2 {
		t.Errorf("persist checks %d (want 1), provider writes %d (want 2: present and clean-up)", c.calls(), w.API.Writes())
	}
	if !strings.Contains(strings.Join(f.log, "\n"), "falling back to dns-01") {
		t.Errorf("log does not say it fell back:\n%s", strings.Join(f.log, "\n"))
	}
	_, err = f.obtainWith(t, persistOnly, "nopersist2.example.com")
	if exitcode.Of(err) != exitcode.Missing {
		t.Fatalf("without fallback: %v (exit %d), want Missing", err, exitcode.Of(err))
	}
}
