package persist

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mholt/acmez/v3/acme"
	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/names"
	"github.com/strictacme/strictacme/internal/providers"
	"github.com/strictacme/strictacme/internal/resolver"
	"github.com/strictacme/strictacme/internal/testworld"
)

func ids(t *testing.T, in ...string) []names.Identifier {
	t.Helper()
	out, err := names.ParseAll(in)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

var now = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func TestBuildSharesOneRecordPerBaseName(t *testing.T) {
	recs, err := Build(ids(t, "www.example.com", "example.com", "*.example.com"), "Authority.Example.", "https://ca.example/acct/123", Options{}, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 {
		t.Fatalf("records = %+v, want two (example.com shared by the apex and the wildcard)", recs)
	}
	apex, www := recs[0], recs[1]
	if apex.FQDN != "_validation-persist.example.com." || !apex.Wildcard || len(apex.Identifiers) != 2 {
		t.Errorf("apex record = %+v", apex)
	}
	if apex.Value != "authority.example; accounturi=https://ca.example/acct/123; policy=wildcard" {
		t.Errorf("apex value = %q", apex.Value)
	}
	if www.FQDN != "_validation-persist.www.example.com." || www.Wildcard || www.Value != "authority.example; accounturi=https://ca.example/acct/123" {
		t.Errorf("www record = %+v", www)
	}
}

func TestBuildOptions(t *testing.T) {
	until := now.Add(90 * 24 * time.Hour)
	recs, err := Build(ids(t, "example.net"), "authority.example", "https://ca.example/acct/123", Options{Wildcard: true, PersistUntil: until}, now)
	if err != nil {
		t.Fatal(err)
	}
	want := "authority.example; accounturi=https://ca.example/acct/123; policy=wildcard; persistUntil=" + strconv.FormatInt(until.Unix(), 10)
	if recs[0].Value != want || recs[0].PersistUntil == nil || !recs[0].PersistUntil.Equal(until) {
		t.Fatalf("record = %+v, want value %q", recs[0], want)
	}
	_, err = Build(ids(t, "example.net"), "authority.example", "https://ca.example/acct/123", Options{PersistUntil: now.Add(-time.Minute)}, now)
	if err == nil || !strings.Contains(err.Error(), "not in the future") {
		t.Fatalf("persistUntil in the past: err = %v", err)
	}
}

func TestZoneLine(t *testing.T) {
	r := Record{FQDN: "_validation-persist.example.com.", Value: "authority.example; accounturi=https://ca.example/acct/123"}
	want := `_validation-persist.example.com. 3600 IN TXT "authority.example; accounturi=https://ca.example/acct/123"`
	if got := r.ZoneLine(0); got != want {
		t.Fatalf("ZoneLine = %s\nwant        %s", got, want)
	}
	// A value over 255 octets becomes several character-strings that a
	// zone-file parser joins back to the same value.
	r.Value = "authority.example; accounturi=https://ca.example/acct/" + strings.Repeat("x", 300)
	line := r.ZoneLine(time.Minute)
	rr, err := dns.NewRR(line)
	if err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	txt := rr.(*dns.TXT)
	if len(txt.Txt) != 2 || strings.Join(txt.Txt, "") != r.Value || rr.Header().Ttl != 60 {
		t.Fatalf("parsed back: %d strings, ttl %d", len(txt.Txt), rr.Header().Ttl)
	}
}

// world is a test world with a registered account.
type world struct {
	w      *testworld.World
	client *acme.Client
	acct   acme.Account
	set    *providers.Set
	doh    resolver.Resolver
}

func newWorld(t *testing.T, opts ...testworld.Options) *world {
	t.Helper()
	w := testworld.Start(t, opts...)
	c := &acme.Client{Directory: w.DirectoryURL, HTTPClient: w.HTTPClient()}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	acct, err := c.NewAccount(context.Background(), acme.Account{PrivateKey: key, TermsOfServiceAgreed: true})
	if err != nil {
		t.Fatal(err)
	}
	set, err := providers.NewSet(providers.Entry{Name: "world", Provider: w.Provider()})
	if err != nil {
		t.Fatal(err)
	}
	doh, err := resolver.New(w.DoHURL, resolver.Options{RootCAs: w.RootPool()})
	if err != nil {
		t.Fatal(err)
	}
	return &world{w: w, client: c, acct: acct, set: set, doh: doh}
}

func TestDiscoverFromDirectory(t *testing.T) {
	tw := newWorld(t, testworld.Options{CAAIdentities: []string{"Authority.Example", "ca.example.net"}})
	iss, err := Discover(context.Background(), tw.client, tw.acct, ids(t, "example.com"), SourceAuto)
	if err != nil {
		t.Fatal(err)
	}
	if iss.Source != SourceDirectory || strings.Join(iss.Names, ",") != "authority.example,ca.example.net" {
		t.Fatalf("issuers = %+v", iss)
	}
	if n := tw.w.CA.Requests(testworld.PathNewOrder); n != 0 {
		t.Errorf("%d orders created; the directory was enough", n)
	}
}

// TestDiscoverFromChallenge reads the issuer domain names from the
// challenge of a new order and leaves no authorization pending.
func TestDiscoverFromChallenge(t *testing.T) {
	tw := newWorld(t)
	ctx := context.Background()
	iss, err := Discover(ctx, tw.client, tw.acct, ids(t, "example.com", "*.example.com", "www.example.net"), SourceChallenge)
	if err != nil {
		t.Fatal(err)
	}
	if iss.Source != SourceChallenge || len(iss.Names) != 1 || iss.Names[0] != testworld.DefaultCAAIdentity {
		t.Fatalf("issuers = %+v", iss)
	}
	if iss.Deactivated != 3 {
		t.Errorf("deactivated %d authorizations, want 3", iss.Deactivated)
	}
	// The order is no longer waiting for anything.
	if n := tw.w.CA.Requests(testworld.PathChallenge); n != 0 {
		t.Errorf("%d challenge requests; none should be initiated", n)
	}
}

// TestApplyIsIdempotent: the first Apply writes once for the zone, the
// second finds identical records and writes nothing.
func TestApplyIsIdempotent(t *testing.T) {
	tw := newWorld(t)
	ctx := context.Background()
	recs, err := Build(ids(t, "example.com", "*.example.com", "www.example.com"), "authority.example", tw.acct.Location, Options{}, now)
	if err != nil {
		t.Fatal(err)
	}
	tw.w.API.ResetCounts()
	got, err := Apply(ctx, recs, ApplyOptions{Providers: tw.set})
	if err != nil {
		t.Fatal(err)
	}
	if tw.w.API.Writes() != 1 || !got[0].Created || !got[1].Created || got[0].Zone != "example.com." {
		t.Fatalf("first apply: writes %d, result %+v", tw.w.API.Writes(), got)
	}
	got, err = Apply(ctx, recs, ApplyOptions{Providers: tw.set})
	if err != nil {
		t.Fatal(err)
	}
	if tw.w.API.Writes() != 1 || got[0].Created || got[1].Created {
		t.Fatalf("second apply wrote again: writes %d, result %+v", tw.w.API.Writes(), got)
	}
	if _, err := Apply(ctx, recs, ApplyOptions{}); exitcode.Of(err) != exitcode.Usage {
		t.Errorf("no provider: err = %v", err)
	}
}

// lookupOnly hides the provider's record listing so Apply must use Lookup.
type lookupOnly struct{ providers.Provider }

func TestApplyWithoutListingUsesLookup(t *testing.T) {
	tw := newWorld(t)
	ctx := context.Background()
	set, _ := providers.NewSet(providers.Entry{Name: "blind", Provider: lookupOnly{tw.w.Provider()}})
	recs, _ := Build(ids(t, "a.example.net"), "authority.example", tw.acct.Location, Options{}, now)
	if err := tw.w.DNS.Add(recs[0].FQDN, dns.TypeTXT, 60, recs[0].Value); err != nil {
		t.Fatal(err)
	}
	var asked []string
	lookup := func(_ context.Context, fqdn string) ([]string, error) {
		asked = append(asked, fqdn)
		return []string{"unrelated", recs[0].Value}, nil
	}
	tw.w.API.ResetCounts()
	got, err := Apply(ctx, recs, ApplyOptions{Providers: set, Lookup: lookup})
	if err != nil || got[0].Created || tw.w.API.Writes() != 0 || len(asked) != 1 {
		t.Fatalf("apply = %+v, %v; writes %d; lookups %v", got, err, tw.w.API.Writes(), asked)
	}
}

// TestCheck shows what a resolver sees and why it does or does not
// authorize: absent, other account, wildcard without policy, persistUntil
// passed, and finally a good record.
func TestCheck(t *testing.T) {
	tw := newWorld(t)
	ctx := context.Background()
	issuers := []string{testworld.DefaultCAAIdentity}
	opts := CheckOptions{Resolvers: []resolver.Resolver{tw.doh}, Issuers: issuers, AccountURI: tw.acct.Location, Now: now}
	type step struct {
		name, published string
		ids             []string
		code            int
		reason          string
	}
	good := testworld.DefaultCAAIdentity + "; accounturi=" + tw.acct.Location
	steps := []step{
		{"absent", "", []string{"absent.example.com"}, exitcode.Missing, "no TXT record"},
		{"other account", testworld.DefaultCAAIdentity + "; accounturi=https://elsewhere.example/acct/1", []string{"other.example.com"}, exitcode.Missing, "is not this account"},
		{"wildcard without policy", good, []string{"*.wild.example.com"}, exitcode.Missing, "policy=wildcard"},
		{"persistUntil passed", good + "; persistUntil=" + strconv.FormatInt(now.Add(-time.Hour).Unix(), 10), []string{"old.example.com"}, exitcode.Missing, "in the past"},
		{"good", good + "; policy=wildcard", []string{"good.example.com", "*.good.example.com"}, exitcode.OK, ""},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			recs, err := Build(ids(t, s.ids...), testworld.DefaultCAAIdentity, tw.acct.Location, Options{}, now)
			if err != nil {
				t.Fatal(err)
			}
			if s.published != "" {
				if err := tw.w.DNS.Add(recs[0].FQDN, dns.TypeTXT, 60, s.published); err != nil {
					t.Fatal(err)
				}
			}
			got, err := Check(ctx, recs, opts)
			if exitcode.Of(err) != s.code {
				t.Fatalf("exit code %d (%v), want %d", exitcode.Of(err), err, s.code)
			}
			v := got[0].Views[0]
			if s.reason != "" && (!strings.Contains(v.Reason, s.reason) || !strings.Contains(err.Error(), s.reason)) {
				t.Errorf("reason %q / error %q, want %q", v.Reason, err, s.reason)
			}
			if s.published != "" && (len(v.Values) != 1 || v.Values[0] != s.published) {
				t.Errorf("values seen = %q", v.Values)
			}
			if got[0].OK != (s.code == exitcode.OK) || v.Authorizes != got[0].OK {
				t.Errorf("checked = %+v", got[0])
			}
		})
	}
}

// A record is in place only when every resolver that answers sees it: a
// resolver still holding the NXDOMAIN from before the record was published
// (RFC 2308) keeps it "not in place", for persist --check and for the
// order flow alike, since the CA's resolver may hold the same.
func TestLookWantsEveryAnsweringResolver(t *testing.T) {
	tw := newWorld(t)
	ctx := context.Background()
	recs, err := Build(ids(t, "cached.example.com"), testworld.DefaultCAAIdentity, tw.acct.Location, Options{}, now)
	if err != nil {
		t.Fatal(err)
	}
	fqdn := recs[0].FQDN
	if _, err := tw.w.Recursive.Prime(fqdn, dns.TypeTXT); err != nil {
		t.Fatal(err)
	}
	if err := tw.w.DNS.Add(fqdn, dns.TypeTXT, 60, testworld.DefaultCAAIdentity+"; accounturi="+tw.acct.Location); err != nil {
		t.Fatal(err)
	}
	auth, err := resolver.New("udp://"+tw.w.AuthAddr, resolver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	authorizes := func(values []string) string {
		return verdict(values, recs[0], []string{testworld.DefaultCAAIdentity}, tw.acct.Location, now)
	}
	if c := Look(ctx, []resolver.Resolver{auth}, fqdn, authorizes); !c.OK {
		t.Fatalf("the authoritative server alone: %+v", c)
	}
	c := Look(ctx, []resolver.Resolver{auth, tw.doh}, fqdn, authorizes)
	if c.OK || !strings.Contains(c.Reasons(), "no TXT record") || !c.Answered() {
		t.Fatalf("with the cached NXDOMAIN: %+v", c)
	}
}

// persistUntil is given as RFC 3339, a date (midnight UTC) or UNIX
// seconds; the same instant in each form is the same time.
func TestParseUntilAcceptsTheDocumentedForms(t *testing.T) {
	for in, want := range map[string]int64{
		"1721952000":                1721952000,
		"2024-07-26T00:00:00Z":      1721952000,
		"2024-07-26":                1721952000,
		"2024-07-26T02:00:00+02:00": 1721952000,
		" 2024-07-26 ":              1721952000,
	} {
		got, err := ParseUntil(in)
		if err != nil || got.Unix() != want {
			t.Errorf("ParseUntil(%q) = %v, %v", in, got, err)
		}
	}
	if got, err := ParseUntil(""); err != nil || !got.IsZero() {
		t.Errorf("empty: %v %v", got, err)
	}
	if _, err := ParseUntil("next week"); err == nil || !strings.Contains(err.Error(), "RFC 3339") {
		t.Errorf("bad value: %v", err)
	}
}

// The lookup Apply falls back to sees what the DoH resolver serves.
func TestResolverLookupReadsTheServedValues(t *testing.T) {
	tw := newWorld(t)
	if ResolverLookup(nil) != nil {
		t.Error("a lookup without resolvers")
	}
	if err := tw.w.DNS.Add("_validation-persist.a.example.net.", dns.TypeTXT, 60, "authority.example; accounturi=x"); err != nil {
		t.Fatal(err)
	}
	got, err := ResolverLookup([]resolver.Resolver{tw.doh})(context.Background(), "_validation-persist.a.example.net.")
	if err != nil || len(got) != 1 || got[0] != "authority.example; accounturi=x" {
		t.Fatalf("lookup = %q, %v", got, err)
	}
}
