package issue

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libdns/libdns"
	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/internal/challenge"
	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/names"
	"github.com/strictacme/strictacme/internal/propagation"
	"github.com/strictacme/strictacme/internal/providers"
	"github.com/strictacme/strictacme/internal/store"
	"github.com/strictacme/strictacme/internal/testworld"
)

// recordingStrategy is a propagation strategy that records how it was
// called and checks, at call time, that every record is already on the
// authoritative server (the write happened before the wait).
type recordingStrategy struct {
	w       *testworld.World
	mu      sync.Mutex
	calls   int
	written []time.Time
	recs    [][]propagation.Record
	missing []string
	block   chan struct{} // when set, Wait blocks until ctx ends
	entered chan struct{}
}

func (s *recordingStrategy) Name() string { return "recording" }

func (s *recordingStrategy) Wait(ctx context.Context, recs []propagation.Record, written time.Time, _ propagation.Observer) error {
	s.mu.Lock()
	s.calls++
	s.written = append(s.written, written)
	s.recs = append(s.recs, recs)
	for _, r := range recs {
		if !hasTXT(s.w, r.FQDN, r.Value) {
			s.missing = append(s.missing, r.FQDN)
		}
	}
	s.mu.Unlock()
	if s.block != nil {
		close(s.entered)
		<-ctx.Done()
		return ctx.Err()
	}
	return nil
}

func hasTXT(w *testworld.World, fqdn, value string) bool {
	for _, rr := range txtRRs(w, fqdn) {
		if strings.Join(rr.Txt, "") == value {
			return true
		}
	}
	return false
}

func txtRRs(w *testworld.World, fqdn string) []*dns.TXT {
	zone, err := w.DNS.ZoneOf(fqdn)
	if err != nil {
		return nil
	}
	rrs, _ := w.DNS.Records(zone)
	var out []*dns.TXT
	for _, rr := range rrs {
		if t, ok := rr.(*dns.TXT); ok && strings.EqualFold(t.Hdr.Name, dns.Fqdn(fqdn)) {
			out = append(out, t)
		}
	}
	return out
}

// challengeTXTs counts every TXT under _acme-challenge in every zone.
func challengeTXTs(t *testing.T, w *testworld.World) int {
	t.Helper()
	n := 0
	for _, z := range w.DNS.Zones() {
		rrs, err := w.DNS.Records(z)
		if err != nil {
			t.Fatal(err)
		}
		for _, rr := range rrs {
			if rr.Header().Rrtype == dns.TypeTXT && strings.Contains(rr.Header().Name, "_acme-challenge") {
				n++
			}
		}
	}
	return n
}

type fixture struct {
	w        *testworld.World
	st       *store.Store
	is       *Issuer
	strategy *recordingStrategy
	log      []string
	provider providers.Provider
}

type fixtureOpt func(*fixture, *Config)

func withProvider(p providers.Provider) fixtureOpt {
	return func(f *fixture, _ *Config) { f.provider = p }
}

func newFixture(t testing.TB, w *testworld.World, opts ...fixtureOpt) *fixture {
	t.Helper()
	if w == nil {
		w = testworld.Start(t)
	}
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{w: w, st: st, strategy: &recordingStrategy{w: w}, provider: w.Provider()}
	cfg := Config{
		Directory: w.DirectoryURL, HTTPClient: w.HTTPClient(), Store: st,
		Propagation: f.strategy, PollInterval: 50 * time.Millisecond,
	}
	for _, o := range opts {
		o(f, &cfg)
	}
	var mu sync.Mutex
	cfg.Log = func(l string) { mu.Lock(); f.log = append(f.log, l); mu.Unlock() }
	cfg.Providers, err = providers.NewSet(providers.Entry{Name: "world", Provider: f.provider})
	if err != nil {
		t.Fatal(err)
	}
	f.is, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.is.Account(context.Background(), AccountOptions{Email: "ops@example.com", AcceptTOS: true}); err != nil {
		t.Fatal(err)
	}
	return f
}

func ids(t testing.TB, in ...string) []names.Identifier {
	t.Helper()
	out, err := names.ParseAll(in)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (f *fixture) obtain(t *testing.T, ctx context.Context, in ...string) (*Result, error) {
	t.Helper()
	return f.is.Obtain(ctx, Request{Identifiers: ids(t, in...), KeyType: EC256})
}

func TestObtain(t *testing.T) {
	w := testworld.Start(t)
	tests := []struct {
		name  string
		names []string
	}{
		{"one name", []string{"one.example.com"}},
		{"apex and wildcard share one TXT name", []string{"example.com", "*.example.com"}},
		{"IDN in Unicode", []string{"bücher.example", "www.bücher.example"}},
		{"two zones", []string{"a.example.com", "a.example.net"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, w)
			res, err := f.obtain(t, context.Background(), tt.names...)
			if err != nil {
				t.Fatalf("Obtain: %v\nlog:\n%s", err, strings.Join(f.log, "\n"))
			}
			want := ids(t, tt.names...)
			leaf := res.Certificate.Leaf
			for _, id := range want {
				if !contains(leaf.DNSNames, id.ASCII) {
					t.Errorf("SAN %v lacks %s", leaf.DNSNames, id.ASCII)
				}
			}
			if len(f.strategy.missing) > 0 {
				t.Errorf("propagation wait started before records were written: %v", f.strategy.missing)
			}
			if f.strategy.calls != 1 {
				t.Errorf("propagation waits = %d, want 1", f.strategy.calls)
			}
			if n := challengeTXTs(t, w); n != 0 {
				t.Errorf("%d challenge TXT records left behind", n)
			}
			if es, _ := f.st.Journal().Entries(); len(es) != 0 {
				t.Errorf("journal not empty: %v", es)
			}
			got, err := f.st.LoadCertificate(res.Certificate.Name)
			if err != nil || got.Meta.Serial != res.Certificate.Meta.Serial || got.Meta.ARICertID == "" {
				t.Errorf("stored certificate: %+v, %v", got, err)
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestApexAndWildcardValuesCoexist checks that both dns-01 values for
// example.com and *.example.com are live at the same time (NC10 family).
func TestApexAndWildcardValuesCoexist(t *testing.T) {
	f := newFixture(t, nil)
	if _, err := f.obtain(t, context.Background(), "example.com", "*.example.com"); err != nil {
		t.Fatal(err)
	}
	if len(f.strategy.recs) != 1 || len(f.strategy.recs[0]) != 2 {
		t.Fatalf("records waited for: %v", f.strategy.recs)
	}
	r := f.strategy.recs[0]
	if r[0].FQDN != r[1].FQDN || r[0].Value == r[1].Value {
		t.Fatalf("want two values at one name, got %v", r)
	}
}

// TestCase_PR13: a 50-name certificate is one provider write per zone, one
// propagation wait, and every challenge initiated before any poll.
func TestCase_PR13(t *testing.T) {
	f := newFixture(t, nil)
	var in []string
	for i := 0; i < 50; i++ {
		in = append(in, fmt.Sprintf("host%02d.example.com", i))
	}
	f.w.API.ResetCounts()
	res, err := f.obtain(t, context.Background(), in...)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.w.API.Writes(); got != 2 { // one append, one delete
		t.Errorf("provider writes = %d, want 2 (one per zone to present, one to clean up)", got)
	}
	if res.Stats.ProviderWrites != 1 || res.Stats.Records != 50 {
		t.Errorf("stats = %+v", res.Stats)
	}
	if f.strategy.calls != 1 {
		t.Errorf("propagation waits = %d, want 1", f.strategy.calls)
	}
	if len(res.Certificate.Leaf.DNSNames) != 50 {
		t.Errorf("SANs = %d", len(res.Certificate.Leaf.DNSNames))
	}
}

// corruptingProvider writes a wrong value so the CA marks the challenge
// invalid, but deletes exactly what it wrote.
type corruptingProvider struct{ *testworld.Provider }

func (c corruptingProvider) AppendRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return c.Provider.AppendRecords(ctx, zone, corrupt(recs))
}

func (c corruptingProvider) DeleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return c.Provider.DeleteRecords(ctx, zone, corrupt(recs))
}

func corrupt(recs []libdns.Record) []libdns.Record {
	var out []libdns.Record
	for _, r := range recs {
		t := r.(libdns.TXT)
		t.Text = "wrong-" + t.Text[:10]
		out = append(out, t)
	}
	return out
}

func TestInvalidChallengeCleansUpAndStoresNothing(t *testing.T) {
	w := testworld.Start(t)
	f := newFixture(t, w, withProvider(corruptingProvider{w.Provider()}))
	_, err := f.obtain(t, context.Background(), "bad.example.com")
	if err == nil {
		t.Fatal("Obtain succeeded with wrong TXT values")
	}
	if code := exitcode.Of(err); code != exitcode.CA {
		t.Errorf("exit code = %d, want %d (CA)", code, exitcode.CA)
	}
	if !strings.Contains(err.Error(), "bad.example.com") || strings.Contains(err.Error(), "\n") {
		t.Errorf("error should be one line naming the identifier: %q", err)
	}
	if n := challengeTXTs(t, w); n != 0 {
		t.Errorf("%d challenge records left", n)
	}
	if names, _ := f.st.ListCertificates(); len(names) != 0 {
		t.Errorf("certificates stored after a failed order: %v", names)
	}
}

func TestProviderFailureMidOrder(t *testing.T) {
	w := testworld.Start(t)
	f := newFixture(t, w)
	w.API.FailWrites(1, 500, 0)
	_, err := f.obtain(t, context.Background(), "x.example.com", "y.example.net")
	if err == nil {
		t.Fatal("Obtain succeeded although a provider write failed")
	}
	if code := exitcode.Of(err); code != exitcode.DNS {
		t.Errorf("exit code = %d, want %d (DNS)", code, exitcode.DNS)
	}
	if f.strategy.calls != 0 {
		t.Error("propagation wait ran after a failed write")
	}
	if n := challengeTXTs(t, w); n != 0 {
		t.Errorf("%d challenge records left after a failed order", n)
	}
	if es, _ := f.st.Journal().Entries(); len(es) != 0 {
		t.Errorf("journal keeps %d entries although clean-up succeeded", len(es))
	}
}

// TestInterruptMidOrderLeavesNothing cancels the context (as SIGINT does)
// while the flow waits for propagation: the records must be removed.
func TestInterruptMidOrderLeavesNothing(t *testing.T) {
	w := testworld.Start(t)
	f := newFixture(t, w)
	f.strategy.block = make(chan struct{})
	f.strategy.entered = make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-f.strategy.entered; cancel() }()
	_, err := f.obtain(t, ctx, "example.com", "*.example.com")
	if !errors.Is(err, context.Canceled) || exitcode.Of(err) != exitcode.Canceled {
		t.Fatalf("err = %v (code %d), want cancellation", err, exitcode.Of(err))
	}
	if n := challengeTXTs(t, w); n != 0 {
		t.Errorf("%d challenge records left after interrupt", n)
	}
	if es, _ := f.st.Journal().Entries(); len(es) != 0 {
		t.Errorf("journal: %v", es)
	}
}

// TestSweepRemovesLeftoversOnly: a killed run leaves a journaled record;
// the next run removes exactly that value and leaves another order's.
func TestSweepRemovesLeftoversOnly(t *testing.T) {
	w := testworld.Start(t)
	f := newFixture(t, w)
	ours := store.JournalEntry{Provider: "world", Zone: "example.com.", FQDN: "_acme-challenge.example.com.", Type: "TXT", Value: "ours"}
	if err := f.st.Journal().Add(ours); err != nil {
		t.Fatal(err)
	}
	if err := w.DNS.Add("_acme-challenge.example.com.", dns.TypeTXT, 60, "ours", "someone-else"); err != nil {
		t.Fatal(err)
	}
	n, err := f.is.Sweep(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v", n, err)
	}
	if hasTXT(w, "_acme-challenge.example.com.", "ours") || !hasTXT(w, "_acme-challenge.example.com.", "someone-else") {
		t.Fatal("sweep removed the wrong values")
	}
}

func TestChallengeNotOffered(t *testing.T) {
	f := newFixture(t, nil)
	_, err := f.is.Obtain(context.Background(), Request{Identifiers: ids(t, "x.example.com"), Challenges: []challenge.Type{"dns-99" /* never offered */}})
	if err == nil || exitcode.Of(err) != exitcode.CA || !strings.Contains(err.Error(), "it offers") {
		t.Fatalf("err = %v", err)
	}
}

func journalEntryFor(provider, zone, fqdn, value string) store.JournalEntry {
	return store.JournalEntry{Provider: provider, Zone: zone, FQDN: fqdn, Type: "TXT", Value: value}
}
