package propagation

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/internal/resolver"
	"github.com/strictacme/strictacme/internal/testworld"
)

func worldDoH(t testing.TB, w *testworld.World, urls ...string) []resolver.Resolver {
	t.Helper()
	if len(urls) == 0 {
		urls = []string{w.DoHURL}
	}
	var rs []resolver.Resolver
	for _, u := range urls {
		r, err := resolver.New(u, resolver.Options{RootCAs: w.RootPool(), Timeout: 300 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	return rs
}

func authPort(t testing.TB, w *testworld.World) string {
	_, port, err := net.SplitHostPort(w.AuthAddr)
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// The authoritative strategy finds the zone's NS set and addresses through
// the DoH resolver and then asks the authoritative server itself.
func TestAuthoritativeAsksEveryServer(t *testing.T) {
	w := testworld.Start(t)
	const fqdn = "_acme-challenge.a.example.com."
	if err := w.DNS.Set(fqdn, dns.TypeTXT, 60, "v1"); err != nil {
		t.Fatal(err)
	}
	a := &AuthoritativeCheck{Resolvers: worldDoH(t, w), Port: authPort(t, w), Clock: newFakeClock()}
	var ev events
	w.DNS.ResetCounts()
	w.Recursive.ResetCounts()
	if err := a.Wait(context.Background(), []Record{{FQDN: fqdn, Value: "v1"}}, time.Now(), ev.obs()); err != nil {
		t.Fatalf("Wait: %v\n%v", err, ev.all())
	}
	if n := w.Recursive.QueriesFor(fqdn, dns.TypeTXT); n != 0 {
		t.Errorf("the recursive resolver was asked %d times for the TXT", n)
	}
	if w.DNS.QueriesFor(fqdn, dns.TypeTXT) == 0 {
		t.Error("the authoritative server was not asked")
	}
	if !strings.Contains(strings.Join(ev.all(), "\n"), "zone example.com., asking every name server directly on port "+authPort(t, w)+": ns1.example.com 127.0.0.1:") {
		t.Errorf("events: %v", ev.all())
	}
}

func TestAuthoritativeTimesOut(t *testing.T) {
	w := testworld.Start(t)
	a := &AuthoritativeCheck{Resolvers: worldDoH(t, w), Port: authPort(t, w), Timeout: time.Minute, Clock: newFakeClock()}
	err := a.Wait(context.Background(), []Record{{FQDN: "_acme-challenge.b.example.com.", Value: "v"}}, time.Now(), nil)
	if err == nil || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("err = %v", err)
	}
}

// DoH endpoints answering 403, presenting an untrusted certificate and
// hanging: each is named with its reason, and the working one carries the
// check within the per-request timeout (cases PR08, PR09 in the test world).
func TestDoHFailoverInTestWorld(t *testing.T) {
	w := testworld.Start(t)
	var urls []string
	for _, k := range []testworld.DoHKind{testworld.DoHForbidden, testworld.DoHUntrustedCert, testworld.DoHHang} {
		u, err := w.AddDoHEndpoint(k)
		if err != nil {
			t.Fatal(err)
		}
		urls = append(urls, u)
	}
	urls = append(urls, w.DoHURL)
	const fqdn = "_acme-challenge.f.example.com."
	if err := w.DNS.Set(fqdn, dns.TypeTXT, 60, "v"); err != nil {
		t.Fatal(err)
	}
	p := &Poll{Resolvers: worldDoH(t, w, urls...), Quorum: 1, Clock: newFakeClock()}
	var ev events
	start := time.Now()
	if err := p.Wait(context.Background(), []Record{{FQDN: fqdn, Value: "v"}}, time.Now(), ev.obs()); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %s; a hanging endpoint must cost at most its per-request timeout", d)
	}

	// With quorum 2 only one endpoint can answer: the failures are named.
	p = &Poll{Resolvers: worldDoH(t, w, urls...), Quorum: 2, Timeout: 30 * time.Second, Clock: newFakeClock()}
	ev = events{}
	err := p.Wait(context.Background(), []Record{{FQDN: fqdn, Value: "v"}}, time.Now(), ev.obs())
	if err == nil {
		t.Fatal("quorum 2 met with one working endpoint")
	}
	all := strings.Join(ev.all(), "\n") + "\n" + err.Error()
	for _, want := range []string{"HTTP 403", "TLS: ", "timeout after 300ms", strings.TrimPrefix(urls[0], "https://")[:9]} {
		if !strings.Contains(all, want) {
			t.Errorf("no %q in:\n%s", want, all)
		}
	}
}
