package issue

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/propagation"
	"github.com/strictacme/strictacme/internal/resolver"
	"github.com/strictacme/strictacme/internal/testworld"
)

// TestIssuanceWithTwoOfThreeDoHEndpointsBlocked: of three DoH endpoints
// one refuses connections and one accepts them but never answers, as on a
// network that blocks two public resolvers. Under the default quorum the
// one that answers carries the check and the certificate is issued; the
// log names what each blocked endpoint did (cases PR08, PR09).
func TestIssuanceWithTwoOfThreeDoHEndpointsBlocked(t *testing.T) {
	w := testworld.Start(t)
	var rs []resolver.Resolver
	for _, k := range []testworld.DoHKind{testworld.DoHConnRefused, testworld.DoHHang} {
		u, err := w.AddDoHEndpoint(k)
		if err != nil {
			t.Fatal(err)
		}
		r, err := resolver.New(u, resolver.Options{RootCAs: w.RootPool(), Timeout: 300 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	good, err := resolver.New(w.DoHURL, resolver.Options{RootCAs: w.RootPool(), Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	rs = append(rs, good)
	s, err := propagation.ByName("doh", propagation.Config{Resolvers: rs, PollInitial: 20 * time.Millisecond, PollMax: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, w, func(_ *fixture, c *Config) { c.Propagation = s })
	start := time.Now()
	if _, err := f.obtain(t, context.Background(), "blocked.example.com", "*.blocked.example.com"); err != nil {
		t.Fatalf("%v\n%s", err, strings.Join(f.log, "\n"))
	}
	t.Logf("issued in %s", time.Since(start).Round(time.Millisecond))
	log := strings.Join(f.log, "\n")
	for _, want := range []string{"connection refused", "timeout after 300ms", "visible at 1 of 3 resolvers"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}

// TestIssuanceWithEveryDoHEndpointBlocked: when no endpoint can be used
// the order stops after the bounded tries, not at --timeout, with exit 4,
// each endpoint's reason and the fix, and the records removed (cases PR08,
// PR09).
func TestIssuanceWithEveryDoHEndpointBlocked(t *testing.T) {
	w := testworld.Start(t)
	var rs []resolver.Resolver
	for _, k := range []testworld.DoHKind{testworld.DoHConnRefused, testworld.DoHReset} {
		u, err := w.AddDoHEndpoint(k)
		if err != nil {
			t.Fatal(err)
		}
		r, err := resolver.New(u, resolver.Options{RootCAs: w.RootPool(), Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	s, err := propagation.ByName("doh", propagation.Config{Resolvers: rs, Timeout: 10 * time.Minute, PollInitial: 20 * time.Millisecond, PollMax: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, w, func(_ *fixture, c *Config) { c.Propagation = s })
	_, err = f.obtain(t, context.Background(), "allblocked.example.com")
	if code := exitcode.Of(err); code != exitcode.DNS {
		t.Fatalf("exit %d (%v), want %d", code, err, exitcode.DNS)
	}
	for _, want := range []string{"no resolver can be used", "connection refused", "reset", "use a --resolver that is reachable"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if rrs, _ := w.DNS.Records("example.com."); strings.Contains(fmt.Sprint(rrs), "_acme-challenge.allblocked") {
		t.Errorf("challenge record left behind: %v", rrs)
	}
}
