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

// namecheapNegativeTTL is the negative TTL of Namecheap zones (SOA MINIMUM
// and TTL 3601 s): how long a public resolver keeps an NXDOMAIN it got
// before the name servers served the record.
const namecheapNegativeTTL = 3601

// laggingWorld is a world on a frozen test clock whose authoritative server
// serves every write of the provider API lag late, and whose caching DoH
// resolver keeps negative answers for an hour (the SOA says 3601 s).
func laggingWorld(t *testing.T, lag time.Duration) *testworld.World {
	t.Helper()
	w := testworld.Start(t, testworld.Options{FreezeClock: true, SOATTL: namecheapNegativeTTL, SOAMinimum: namecheapNegativeTTL})
	w.API.SetServingLag(lag)
	return w
}

// withDefaultCheck makes the issuer run the check the command line builds
// with no propagation flags (propagation.Build with an empty Choice), with
// the world's caching DoH resolver as the only resolver, on the world's
// clock.
func withDefaultCheck(t *testing.T, w *testworld.World) fixtureOpt {
	return func(f *fixture, c *Config) {
		set, err := providers.NewSet(providers.Entry{Name: "world", Provider: f.provider})
		if err != nil {
			t.Fatal(err)
		}
		r, err := resolver.New(w.DoHURL, resolver.Options{RootCAs: w.RootPool(), Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		cfg := propagation.Config{Resolvers: []resolver.Resolver{r}, Clock: w.Clock}.WithProviders(set)
		s, err := propagation.Build(propagation.Choice{}, cfg)
		if err != nil {
			t.Fatal(err)
		}
		c.Propagation = s
		c.Now = w.Clock.Now
	}
}

// writeOnly is a provider that cannot read records back (no GetRecords),
// like a DNS script, but declares its name servers' lag.
type writeOnly struct{ p *testworld.Provider }

func (o writeOnly) AppendRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return o.p.AppendRecords(ctx, zone, recs)
}

func (o writeOnly) DeleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return o.p.DeleteRecords(ctx, zone, recs)
}

func (o writeOnly) ServingLag() time.Duration { return o.p.ServingLag() }

// assertNoEarlyQuestion fails when the caching resolver got a question
// about fqdn before the authoritative server could answer it, and returns
// how many it got.
func assertNoEarlyQuestion(t *testing.T, w *testworld.World, fqdn string) int {
	t.Helper()
	served, ok := w.DNS.ServedFrom(fqdn, dns.TypeTXT)
	if !ok {
		t.Fatalf("the authoritative server never served %s TXT", fqdn)
	}
	times := w.Recursive.QueryTimes(fqdn, dns.TypeTXT)
	for i, at := range times {
		if at.Before(served) {
			t.Errorf("question %d about %s reached the caching resolver %s before the authoritative server served it", i+1, fqdn, served.Sub(at))
		}
	}
	return len(times)
}

func logHas(f *fixture, s string) bool {
	for _, l := range f.log {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

// TestLaggingNameServersWithHourLongNegativeCacheIssueWithDefaults: the
// provider's API accepts the write at once, its authoritative servers
// serve it 60 s later, and the caching DoH resolver keeps negative answers
// for an hour. With the default check, the write is confirmed through the
// provider's read-back, the declared lag is waited out on the clock, and
// only then is the resolver asked: it never sees a question about the
// challenge name before the authoritative servers can answer it, and the
// certificate is issued. The decision is one line before the first
// question.
//
// Cases PR10 (no question before the record can be served), PR11 (a
// resolver that caches the first NXDOMAIN), PR12 (the lag is measured from
// the last write).
func TestLaggingNameServersWithHourLongNegativeCacheIssueWithDefaults(t *testing.T) {
	const lag = 60 * time.Second
	w := laggingWorld(t, lag)
	p := w.Provider()
	p.Lag = lag
	f := newFixture(t, w, withProvider(p), withDefaultCheck(t, w))
	start := w.Clock.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if _, err := f.obtain(t, ctx, "example.com", "*.example.com"); err != nil {
		t.Fatalf("Obtain: %v\n%s", err, strings.Join(f.log, "\n"))
	}
	if n := assertNoEarlyQuestion(t, w, "_acme-challenge.example.com."); n == 0 {
		t.Errorf("the resolver was never asked: the check did not poll\n%s", strings.Join(f.log, "\n"))
	}
	if !logHas(f, "propagation: confirm the write through the provider's read-back, wait out the provider's 1m0s serving lag from the last write, then doh at 127.0.0.1:") ||
		!logHas(f, "(quorum: a majority of those that answer); fallback: provider read-back, then settle 1m0s more") {
		t.Errorf("no one-line decision in the log:\n%s", strings.Join(f.log, "\n"))
	}
	if logHas(f, "falling back") {
		t.Errorf("fell back although the resolver was never poisoned:\n%s", strings.Join(f.log, "\n"))
	}
	if took := w.Clock.Now().Sub(start); took < lag || took > lag+time.Minute {
		t.Errorf("order took %s on the test clock; want the %s lag and a few polls", took, lag)
	}
}

// TestLaggingNameServersWithoutReadBackWaitOutTheLagThenPoll: the same
// world with a provider that cannot read records back (a script): the
// check waits the declared lag from the write, then polls; no question
// reaches the resolver early. Cases PR10, PR12.
func TestLaggingNameServersWithoutReadBackWaitOutTheLagThenPoll(t *testing.T) {
	const lag = 60 * time.Second
	w := laggingWorld(t, lag)
	p := w.Provider()
	p.Lag = lag
	f := newFixture(t, w, withProvider(writeOnly{p}), withDefaultCheck(t, w))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if _, err := f.obtain(t, ctx, "example.com"); err != nil {
		t.Fatalf("Obtain: %v\n%s", err, strings.Join(f.log, "\n"))
	}
	if n := assertNoEarlyQuestion(t, w, "_acme-challenge.example.com."); n == 0 {
		t.Errorf("the resolver was never asked\n%s", strings.Join(f.log, "\n"))
	}
	if !logHas(f, "propagation: wait out the provider's 1m0s serving lag from the last write, then doh at ") || logHas(f, "fallback") || logHas(f, "read-back") {
		t.Errorf("decision line: want the lag then doh, no read-back, no fallback:\n%s", strings.Join(f.log, "\n"))
	}
}

// TestNegativeAnswerAlreadyCachedSwitchesToProviderReadBack: someone asked
// the caching resolver about the challenge name before this run (an
// earlier run of another client, a curious operator), so it holds NXDOMAIN
// for an hour. After the lag the check sees that answer, knows it outlives
// the time left, switches to the provider read-back plus settle delay at
// once (no waiting to the deadline), gives the name servers the settle
// delay once more, says so, and the certificate is issued. Cases PR10,
// PR11.
func TestNegativeAnswerAlreadyCachedSwitchesToProviderReadBack(t *testing.T) {
	const lag = 60 * time.Second
	w := laggingWorld(t, lag)
	p := w.Provider()
	p.Lag = lag
	f := newFixture(t, w, withProvider(p), withDefaultCheck(t, w))
	const fqdn = "_acme-challenge.example.com."
	if rcode, err := w.Recursive.Prime(fqdn, dns.TypeTXT); err != nil || rcode != dns.RcodeNameError {
		t.Fatalf("Prime: rcode %d, %v", rcode, err)
	}
	start := w.Clock.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if _, err := f.obtain(t, ctx, "example.com"); err != nil {
		t.Fatalf("Obtain: %v\n%s", err, strings.Join(f.log, "\n"))
	}
	assertNoEarlyQuestion(t, w, fqdn)
	if !logHas(f, "giving up with") || !logHas(f, "negative answers stay cached longer") || !logHas(f, "falling back to provider") ||
		!logHas(f, "provider: zone example.com. has all 1 record(s)") || !logHas(f, "provider: settle: waiting 1m0s more") {
		t.Errorf("the log does not say the check switched to the provider read-back:\n%s", strings.Join(f.log, "\n"))
	}
	// The lag, then the read-back and one more settle delay: the
	// resolvers said the record is not there, so the name servers get
	// the declared lag again before the CA asks them.
	if took := w.Clock.Now().Sub(start); took < 2*lag || took > 2*lag+time.Minute {
		t.Errorf("order took %s on the test clock; want the lag, the switch, and one settle delay (%s)", took, 2*lag)
	}
}

// TestNamecheapNameServersLagWithDefaults: end to end through the fake
// Namecheap API, whose name servers publish a setHosts 60 s late while the
// caching DoH resolver keeps negative answers for an hour. The Namecheap
// provider declares its default serving lag (2 minutes), so the default
// check reads the zone back with getHosts, waits two minutes from the
// write, then asks the resolver once, after the name servers have the
// record. Cases PR10, PR11.
func TestNamecheapNameServersLagWithDefaults(t *testing.T) {
	w := testworld.Start(t, testworld.Options{FreezeClock: true, SOATTL: namecheapNegativeTTL, SOAMinimum: namecheapNegativeTTL})
	_, _, p := namecheapWorldLagging(t, w, 60*time.Second)
	f := newFixture(t, w, withProvider(p), withDefaultCheck(t, w))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if _, err := f.obtain(t, ctx, "example.com", "*.example.com"); err != nil {
		t.Fatalf("Obtain: %v\n%s", err, strings.Join(f.log, "\n"))
	}
	if n := assertNoEarlyQuestion(t, w, "_acme-challenge.example.com."); n != 1 {
		t.Errorf("the resolver got %d question(s) about the challenge name; want exactly one, after the lag\n%s", n, strings.Join(f.log, "\n"))
	}
	if !logHas(f, "wait out the provider's 2m0s serving lag from the last write") {
		t.Errorf("decision line does not wait Namecheap's lag:\n%s", strings.Join(f.log, "\n"))
	}
}

// TestNameServersLaterThanDeclaredGetOneMoreSettleDelay: the provider
// declares 60 s but its name servers take 90 s. The first question, after
// 60 s, gets NXDOMAIN straight from the authoritative servers, which the
// resolver will keep for an hour; the check switches to the provider
// read-back and waits the settle delay once more from there, so the CA
// asks at 120 s, after the name servers serve the record, and the order
// succeeds instead of failing validation. Cases PR10, PR11.
func TestNameServersLaterThanDeclaredGetOneMoreSettleDelay(t *testing.T) {
	w := laggingWorld(t, 90*time.Second)
	p := w.Provider()
	p.Lag = 60 * time.Second
	f := newFixture(t, w, withProvider(p), withDefaultCheck(t, w))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if _, err := f.obtain(t, ctx, "example.com"); err != nil {
		t.Fatalf("Obtain: %v\n%s", err, strings.Join(f.log, "\n"))
	}
	if !logHas(f, "falling back to provider") || !logHas(f, "provider: settle: waiting 1m0s more") {
		t.Errorf("the log does not show the switch and the second settle delay:\n%s", strings.Join(f.log, "\n"))
	}
}
