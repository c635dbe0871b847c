package issue

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/libdns/libdns"
	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/propagation"
	"github.com/strictacme/strictacme/internal/resolver"
	"github.com/strictacme/strictacme/internal/testworld"
)

// dohStrategy is the real default strategy, pointed at the world's DoH
// resolver.
func dohStrategy(t testing.TB, w *testworld.World) propagation.Strategy {
	t.Helper()
	r, err := resolver.New(w.DoHURL, resolver.Options{RootCAs: w.RootPool(), Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	s, err := propagation.ByName("doh", propagation.Config{Resolvers: []resolver.Resolver{r}, PollInitial: 20 * time.Millisecond, PollMax: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// watchingProvider notes, at the moment of each write, how many queries
// the caching resolver had already received for the names being written,
// and when the last write returned.
type watchingProvider struct {
	*testworld.Provider
	w         *testworld.World
	mu        sync.Mutex
	before    map[string]int
	lastWrite time.Time
}

func (p *watchingProvider) AppendRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	p.mu.Lock()
	for _, r := range recs {
		fqdn := libdns.AbsoluteName(r.RR().Name, zone)
		p.before[fqdn] += p.w.Recursive.QueriesFor(fqdn, dns.TypeTXT)
	}
	p.mu.Unlock()
	time.Sleep(30 * time.Millisecond) // a provider API that takes its time
	out, err := p.Provider.AppendRecords(ctx, zone, recs)
	p.mu.Lock()
	p.lastWrite = time.Now()
	p.mu.Unlock()
	return out, err
}

// TestCase_PR10: with the DoH strategy, no query for a challenge name
// reaches the recursive resolver before its record is written (so no
// NXDOMAIN can be cached, RFC 2308), and the check does query it after.
func TestCase_PR10(t *testing.T) {
	w := testworld.Start(t)
	wp := &watchingProvider{Provider: w.Provider(), w: w, before: map[string]int{}}
	f := newFixture(t, w, withProvider(wp), func(_ *fixture, c *Config) { c.Propagation = dohStrategy(t, w) })
	if _, err := f.obtain(t, context.Background(), "pr10.example.com", "*.pr10.example.com", "pr10.example.net"); err != nil {
		t.Fatal(err)
	}
	if len(wp.before) != 2 {
		t.Fatalf("writes seen for %v", wp.before)
	}
	for fqdn, n := range wp.before {
		if n != 0 {
			t.Errorf("%s: %d queries reached the resolver before the write", fqdn, n)
		}
		if got := w.Recursive.QueriesFor(fqdn, dns.TypeTXT); got == 0 {
			t.Errorf("%s: never checked after the write", fqdn)
		}
	}
}

// TestCase_PR06: the world's recursive resolver refuses queries without
// RD (as the broken resolver of the report answered NXDOMAIN); issuance
// through it succeeds only because every query sets RD.
func TestCase_PR06(t *testing.T) {
	w := testworld.Start(t, testworld.Options{NoRD: testworld.NoRDNXDomain})
	f := newFixture(t, w, func(_ *fixture, c *Config) { c.Propagation = dohStrategy(t, w) })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := f.obtain(t, ctx, "pr06.example.com"); err != nil {
		t.Fatal(err)
	}
}

// TestCase_PR12: the wait is measured from the last successful write, not
// from the first: the strategy receives the time the slowest zone's write
// returned.
func TestCase_PR12(t *testing.T) {
	w := testworld.Start(t)
	wp := &watchingProvider{Provider: w.Provider(), w: w, before: map[string]int{}}
	f := newFixture(t, w, withProvider(wp))
	var names []string
	for i := 0; i < 5; i++ {
		names = append(names, fmt.Sprintf("n%d.example.com", i), fmt.Sprintf("n%d.example.net", i))
	}
	if _, err := f.obtain(t, context.Background(), names...); err != nil {
		t.Fatal(err)
	}
	if len(f.strategy.written) != 1 {
		t.Fatalf("waits: %d", len(f.strategy.written))
	}
	if got := f.strategy.written[0]; got.Before(wp.lastWrite) {
		t.Errorf("wait measured from %v, before the last write returned at %v", got, wp.lastWrite)
	}
}

// TestCase_PR02: the wait strategy sends zero DNS packets: the caching
// resolver (the only one the client could use) receives nothing.
func TestCase_PR02(t *testing.T) {
	w := testworld.Start(t)
	f := newFixture(t, w, func(_ *fixture, c *Config) { c.Propagation = propagation.FixedDelay{Delay: 10 * time.Millisecond} })
	w.Recursive.ResetCounts()
	if _, err := f.obtain(t, context.Background(), "pr02.example.com", "*.pr02.example.com"); err != nil {
		t.Fatal(err)
	}
	if n := w.Recursive.Queries(); n != 0 {
		t.Fatalf("%d DNS queries sent with the wait strategy, want 0", n)
	}
}

// TestPropagationLongerThanTimeout: a wait that cannot fit in --timeout
// fails at once with the timeout exit code, and the records are removed.
func TestPropagationLongerThanTimeout(t *testing.T) {
	w := testworld.Start(t)
	f := newFixture(t, w, func(_ *fixture, c *Config) { c.Propagation = propagation.FixedDelay{Delay: time.Hour} })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	_, err := f.obtain(t, ctx, "slow.example.com")
	if exitcode.Of(err) != exitcode.Timeout {
		t.Fatalf("err = %v (exit %d), want a timeout", err, exitcode.Of(err))
	}
	if time.Since(start) > 4*time.Second {
		t.Error("waited instead of failing at once")
	}
	if n := challengeTXTs(t, w); n != 0 {
		t.Errorf("%d records left", n)
	}
}
