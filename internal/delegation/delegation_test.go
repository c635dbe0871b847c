package delegation

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/internal/issue"
	"github.com/strictacme/strictacme/internal/names"
	"github.com/strictacme/strictacme/internal/propagation"
	"github.com/strictacme/strictacme/internal/providers"
	"github.com/strictacme/strictacme/internal/resolver"
	"github.com/strictacme/strictacme/internal/store"
	"github.com/strictacme/strictacme/internal/testworld"
)

var _ issue.Delegator = (*Delegator)(nil)

func doh(t testing.TB, w *testworld.World) []resolver.Resolver {
	t.Helper()
	r, err := resolver.New(w.DoHURL, resolver.Options{RootCAs: w.RootPool(), Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return []resolver.Resolver{r}
}

func cname(t testing.TB, w *testworld.World, from, to string) {
	t.Helper()
	if err := w.DNS.Set(from, dns.TypeCNAME, 300, to); err != nil {
		t.Fatal(err)
	}
}

// twoProviders serves example.com through "primary" and example.net through
// "challenges", both the world's API under different names.
func twoProviders(t testing.TB, w *testworld.World) *providers.Set {
	t.Helper()
	s, err := providers.NewSet(
		providers.Entry{Name: "primary", Suffix: "example.com", Provider: w.Provider()},
		providers.Entry{Name: "challenges", Suffix: "example.net", Provider: w.Provider()},
	)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// blind hides the world provider's GetRecords: a provider that can write
// but not read its zone (as exec scripts).
type blind struct{ providers.Provider }

// blindProviders is twoProviders with providers that cannot read records.
func blindProviders(t testing.TB, w *testworld.World) *providers.Set {
	t.Helper()
	s, err := providers.NewSet(
		providers.Entry{Name: "primary", Suffix: "example.com", Provider: blind{w.Provider()}},
		providers.Entry{Name: "challenges", Suffix: "example.net", Provider: blind{w.Provider()}},
	)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type logBuf struct {
	mu    sync.Mutex
	lines []string
}

func (l *logBuf) add(s string) { l.mu.Lock(); l.lines = append(l.lines, s); l.mu.Unlock() }
func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

func follower(t testing.TB, w *testworld.World, set *providers.Set, log *logBuf) *Delegator {
	d, err := New(Rules{})
	if err != nil {
		t.Fatal(err)
	}
	d.Follow, d.Resolvers, d.Providers = true, doh(t, w), set
	if log != nil {
		d.Log = log.add
	}
	return d
}

// obtain runs a whole order through the issuer with d and the world's DoH
// propagation check, and returns the issuer's log.
func obtain(t *testing.T, w *testworld.World, set *providers.Set, d issue.Delegator, domains ...string) ([]issue.Record, string, error) {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	strategy, err := propagation.ByName("doh", propagation.Config{Resolvers: doh(t, w), PollInitial: 20 * time.Millisecond, PollMax: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var log logBuf
	is, err := issue.New(issue.Config{
		Directory: w.DirectoryURL, HTTPClient: w.HTTPClient(), Store: st, Providers: set,
		Propagation: strategy, Delegate: d, Log: log.add, PollInterval: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, _, err := is.Account(ctx, issue.AccountOptions{Email: "ops@example.com", AcceptTOS: true}); err != nil {
		t.Fatal(err)
	}
	ids, err := names.ParseAll(domains)
	if err != nil {
		t.Fatal(err)
	}
	res, err := is.Obtain(ctx, issue.Request{Identifiers: ids, KeyType: issue.EC256})
	if res == nil {
		return nil, log.String(), err
	}
	return res.Records, log.String(), err
}

// A CNAME from the certificate's zone into another zone served by a second
// provider: the record is written there, through that provider, and the CA
// validates it through the CNAME.
func TestCNAMEIntoZoneOfSecondProvider(t *testing.T) {
	w := testworld.Start(t)
	cname(t, w, "_acme-challenge.www.example.com.", "www.acme.example.net.")
	set := twoProviders(t, w)
	var dlog logBuf
	d := follower(t, w, set, &dlog)
	recs, log, err := obtain(t, w, set, d, "www.example.com")
	if err != nil {
		t.Fatalf("Obtain: %v\n%s", err, log)
	}
	if len(recs) != 1 || recs[0].Target != "www.acme.example.net." || recs[0].Provider != "challenges" || recs[0].Zone != "example.net." {
		t.Fatalf("record: %+v", recs)
	}
	if !strings.Contains(log, "write TXT www.acme.example.net. (for _acme-challenge.www.example.com.) in zone example.net. via challenges") {
		t.Errorf("write location not printed:\n%s", log)
	}
	if w.API.WritesFor("example.net.") == 0 || w.API.WritesFor("example.com.") != 0 {
		t.Errorf("writes: example.net %d, example.com %d", w.API.WritesFor("example.net."), w.API.WritesFor("example.com."))
	}
	if !strings.Contains(dlog.String(), "_acme-challenge.www.example.com. -> CNAME www.acme.example.net.") {
		t.Errorf("delegation log: %s", dlog.String())
	}
}

func TestChainOfThree(t *testing.T) {
	w := testworld.Start(t)
	cname(t, w, "_acme-challenge.a.example.com.", "hop1.example.com.")
	cname(t, w, "hop1.example.com.", "hop2.example.net.")
	cname(t, w, "hop2.example.net.", "final.example.net.")
	d := follower(t, w, twoProviders(t, w), nil)
	got, err := d.Delegate(context.Background(), "_acme-challenge.a.example.com.")
	if err != nil || got != "final.example.net." {
		t.Fatalf("Delegate = %q, %v", got, err)
	}
	ch, err := Discover(context.Background(), doh(t, w), "_acme-challenge.a.example.com.", nil)
	if err != nil || len(ch.Hops) != 3 {
		t.Fatalf("chain %v, %v", ch, err)
	}
}

func TestLoopRefused(t *testing.T) {
	w := testworld.Start(t)
	cname(t, w, "_acme-challenge.a.example.com.", "b.example.net.")
	cname(t, w, "b.example.net.", "_acme-challenge.a.example.com.")
	d := follower(t, w, twoProviders(t, w), nil)
	_, err := d.Delegate(context.Background(), "_acme-challenge.a.example.com.")
	var le *LoopError
	if !errors.As(err, &le) || !strings.Contains(err.Error(), "CNAME loop") {
		t.Fatalf("err = %v, want a loop", err)
	}
}

func TestChainLongerThanMaxHopsRefused(t *testing.T) {
	w := testworld.Start(t)
	prev := "_acme-challenge.a.example.com."
	for i := range MaxHops + 1 {
		next := "h" + string(rune('a'+i)) + ".example.net."
		cname(t, w, prev, next)
		prev = next
	}
	_, err := follower(t, w, twoProviders(t, w), nil).Delegate(context.Background(), "_acme-challenge.a.example.com.")
	var te *TooLongError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v, want too long", err)
	}
}

// A wildcard CNAME covering _acme-challenge: the CNAME is synthesized, the
// sibling probe gets the same, and the write is refused with the reason.
//
// The provider here cannot read its zone, so only --follow-cname's DNS
// question sees the CNAME (a readable provider shows no record at the
// name: see TestWildcardCNAMEBesideReadableZoneIgnored).
func TestWildcardCNAMERefused(t *testing.T) {
	w := testworld.Start(t)
	cname(t, w, "*.example.com.", "catchall.example.net.")
	d := follower(t, w, blindProviders(t, w), nil)
	_, err := d.Delegate(context.Background(), "_acme-challenge.www.example.com.")
	var we *WildcardError
	if !errors.As(err, &we) {
		t.Fatalf("err = %v, want a wildcard refusal", err)
	}
	if !strings.Contains(err.Error(), "comes from a wildcard") || !strings.Contains(err.Error(), ProbePrefix) {
		t.Errorf("message: %v", err)
	}
	// An explicit CNAME next to the same wildcard is followed.
	cname(t, w, "_acme-challenge.api.example.com.", "api.acme.example.net.")
	got, err := follower(t, w, blindProviders(t, w), nil).Delegate(context.Background(), "_acme-challenge.api.example.com.")
	if err != nil || got != "api.acme.example.net." {
		t.Fatalf("explicit CNAME beside a wildcard: %q, %v", got, err)
	}
}

// A wildcard below the challenge name's parent (*.www.example.com covers
// _acme-challenge.www.example.com when www exists).
func TestWildcardUnderExistingParentRefused(t *testing.T) {
	w := testworld.Start(t)
	if err := w.DNS.Set("www.example.com.", dns.TypeA, 300, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	cname(t, w, "*.www.example.com.", "catchall.example.net.")
	_, err := follower(t, w, blindProviders(t, w), nil).Delegate(context.Background(), "_acme-challenge.www.example.com.")
	var we *WildcardError
	if !errors.As(err, &we) {
		t.Fatalf("err = %v, want a wildcard refusal", err)
	}
}

func TestChainIntoUnservedZoneRefused(t *testing.T) {
	w := testworld.Start(t)
	cname(t, w, "_acme-challenge.www.example.com.", "www.example.net.")
	only, err := providers.NewSet(providers.Entry{Name: "primary", Suffix: "example.com", Provider: w.Provider()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = follower(t, w, only, nil).Delegate(context.Background(), "_acme-challenge.www.example.com.")
	var fe *ForeignZoneError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "no configured provider serves") {
		t.Fatalf("err = %v", err)
	}
}

// TestCase_DL01: one alias for many subdomains, acme.sh style, sends no DNS
// query at all (counted at the caching resolver and the authoritative
// server), also with discovery switched on.
func TestCase_DL01(t *testing.T) {
	w := testworld.Start(t)
	d, err := New(Rules{Alias: "acme.example.net", Aliases: map[string]string{"special.example.com": "other.example.net"}})
	if err != nil {
		t.Fatal(err)
	}
	d.Follow, d.Resolvers = true, doh(t, w)
	w.Recursive.ResetCounts()
	w.DNS.ResetCounts()
	cases := map[string]string{
		"_acme-challenge.a.example.com.":                   "_acme-challenge.acme.example.net.",
		"_acme-challenge.b.example.com.":                   "_acme-challenge.acme.example.net.",
		"_acme-challenge.special.example.com.":             "_acme-challenge.other.example.net.",
		"_ujmmovf2vn55tgye._acme-challenge.c.example.com.": "_ujmmovf2vn55tgye._acme-challenge.acme.example.net.",
	}
	for in, want := range cases {
		got, err := d.Delegate(context.Background(), in)
		if err != nil || got != want {
			t.Errorf("Delegate(%s) = %q, %v; want %q", in, got, err, want)
		}
	}
	if q, a := w.Recursive.Queries(), w.DNS.Queries(); q != 0 || a != 0 {
		t.Fatalf("explicit alias sent DNS queries: resolver %d, authoritative %d", q, a)
	}

	// End to end: the alias zone gets the records, the CA validates through
	// the user's CNAME, and the DoH resolver is never asked (propagation none).
	cname(t, w, "_acme-challenge.a.example.com.", "_acme-challenge.acme.example.net.")
	cname(t, w, "_acme-challenge.b.example.com.", "_acme-challenge.acme.example.net.")
	st, _ := store.Open(t.TempDir())
	set := twoProviders(t, w)
	static, _ := New(Rules{Alias: "acme.example.net"})
	var log logBuf
	is, err := issue.New(issue.Config{Directory: w.DirectoryURL, HTTPClient: w.HTTPClient(), Store: st, Providers: set,
		Propagation: propagation.None{}, Delegate: static, Log: log.add, PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, _, err := is.Account(ctx, issue.AccountOptions{AcceptTOS: true}); err != nil {
		t.Fatal(err)
	}
	w.Recursive.ResetCounts()
	ids, _ := names.ParseAll([]string{"a.example.com", "b.example.com"})
	if _, err := is.Obtain(ctx, issue.Request{Identifiers: ids, KeyType: issue.EC256}); err != nil {
		t.Fatalf("Obtain: %v\n%s", err, log.String())
	}
	if q := w.Recursive.Queries(); q != 0 {
		t.Errorf("the caching resolver got %d queries", q)
	}
	if !strings.Contains(log.String(), "write TXT _acme-challenge.acme.example.net. (for _acme-challenge.a.example.com.) in zone example.net. via challenges") {
		t.Errorf("log:\n%s", log.String())
	}
}

// TestCase_DL02: delegation is opt-in. Without a rule and with discovery
// off, an existing CNAME is not followed (and not even looked up); with
// discovery on, the decision is printed before the write.
func TestCase_DL02(t *testing.T) {
	w := testworld.Start(t)
	cname(t, w, "_acme-challenge.www.example.com.", "www.acme.example.net.")
	off, _ := New(Rules{})
	off.Resolvers = doh(t, w)
	w.Recursive.ResetCounts()
	got, err := off.Delegate(context.Background(), "_acme-challenge.www.example.com.")
	if err != nil || got != "_acme-challenge.www.example.com." || w.Recursive.Queries() != 0 {
		t.Fatalf("discovery off: %q, %v, %d queries", got, err, w.Recursive.Queries())
	}

	set := twoProviders(t, w)
	var order logBuf
	d := follower(t, w, set, nil)
	d.Log = func(l string) { order.add("D " + l) }
	st, _ := store.Open(t.TempDir())
	is, err := issue.New(issue.Config{Directory: w.DirectoryURL, HTTPClient: w.HTTPClient(), Store: st, Providers: set,
		Propagation: propagation.None{}, Delegate: d, Log: func(l string) { order.add("I " + l) }, PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, _, err := is.Account(ctx, issue.AccountOptions{AcceptTOS: true}); err != nil {
		t.Fatal(err)
	}
	ids, _ := names.ParseAll([]string{"www.example.com"})
	if _, err := is.Obtain(ctx, issue.Request{Identifiers: ids, KeyType: issue.EC256}); err != nil {
		t.Fatalf("Obtain: %v\n%s", err, order.String())
	}
	log := order.String()
	di := strings.Index(log, "D delegation: _acme-challenge.www.example.com. -> CNAME www.acme.example.net.")
	wi := strings.Index(log, "write TXT www.acme.example.net. (for _acme-challenge.www.example.com.)")
	if di < 0 || wi < 0 || di > wi {
		t.Fatalf("delegation must be printed before the write:\n%s", log)
	}
}

func TestNoCNAMEWritesAtOwnName(t *testing.T) {
	w := testworld.Start(t)
	var log logBuf
	got, err := follower(t, w, twoProviders(t, w), &log).Delegate(context.Background(), "_acme-challenge.plain.example.com.")
	if err != nil || got != "_acme-challenge.plain.example.com." {
		t.Fatalf("%q, %v", got, err)
	}
	if !strings.Contains(log.String(), "no CNAME at _acme-challenge.plain.example.com.") {
		t.Errorf("log: %s", log.String())
	}
}

func TestParseSpecs(t *testing.T) {
	m, all, err := ParseSpecs("--challenge-alias", []string{"acme.example.net", "www.example.com=other.example.net"}, true)
	if err != nil || all != "acme.example.net" || m["www.example.com"] != "other.example.net" {
		t.Fatalf("%v %q %v", m, all, err)
	}
	for _, bad := range [][]string{{"a", "b"}, {"x=y z"}, {"a.com=b.com", "a.com=c.com"}} {
		if _, _, err := ParseSpecs("--challenge-alias", bad, true); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, _, err := ParseSpecs("--challenge-target", []string{"example.net"}, false); err == nil {
		t.Error("target without DOMAIN= accepted")
	}
	if _, err := New(Rules{Aliases: map[string]string{"a.example.com": "x.example.net"}, Targets: map[string]string{"a.example.com": "y.example.net"}}); err == nil {
		t.Error("alias and target for one domain accepted")
	}
}
