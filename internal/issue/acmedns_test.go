package issue

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/internal/challengeserver/challengeservertest"
	"github.com/strictacme/strictacme/internal/testworld"
	"github.com/strictacme/strictacme/provider/acmedns"
)

// TestAcmeDNSEndToEnd: ten names (apex and wildcard included) of
// example.com are delegated by CNAME to one account of our own challenge
// server; Pebble validates through that server's DNS while the client only
// talks HTTPS to the CA and HTTP to the server's API: no DNS query from the
// client at all, and no propagation wait (the server is authoritative).
// Ten values live at one subdomain at once need txt.limit = 10 (the
// server serves the newest 4 by default).
func TestAcmeDNSEndToEnd(t *testing.T) {
	w := testworld.Start(t)
	srv := challengeservertest.Start(t, challengeservertest.Config(t, "")+"\n[txt]\nlimit = 10\n")
	w.Forward(challengeservertest.Zone+".", srv.DNSAddr)
	apiURL := srv.APIURL

	acct, err := acmedns.Register(context.Background(), apiURL, acmedns.RegisterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"example.com", "*.example.com"}
	for i := 0; len(names) < 10; i++ {
		names = append(names, fmt.Sprintf("n%d.example.com", i))
	}
	creds := acmedns.Credentials{}
	for _, n := range names {
		creds[acmedns.Key(n)] = acct
		if strings.HasPrefix(n, "*.") {
			continue // shares _acme-challenge.example.com with the apex
		}
		if err := w.DNS.Add("_acme-challenge."+n+".", dns.TypeCNAME, 300, dns.Fqdn(acct.FullDomain)); err != nil {
			t.Fatal(err)
		}
	}
	p := &acmedns.Provider{ServerURL: apiURL, Credentials: creds}
	f := newFixture(t, w, withProvider(p))
	w.Recursive.ResetCounts()
	res, err := f.obtain(t, context.Background(), names...)
	if err != nil {
		t.Fatalf("Obtain: %v\n%s", err, strings.Join(f.log, "\n"))
	}
	if len(res.Certificate.Leaf.DNSNames) != 10 {
		t.Fatalf("SANs: %v", res.Certificate.Leaf.DNSNames)
	}
	if n := w.Recursive.Queries(); n != 0 {
		t.Errorf("the client sent %d DNS queries; want none", n)
	}
	if f.strategy.calls != 0 {
		t.Errorf("propagation wait ran %d time(s); the challenge server is authoritative", f.strategy.calls)
	}
	// Clean-up removed every value: the server answers NODATA, not NXDOMAIN.
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(acct.FullDomain), dns.TypeTXT)
	in, err := dns.Exchange(m, srv.DNSAddr)
	if err != nil {
		t.Fatal(err)
	}
	if in.Rcode != dns.RcodeSuccess || len(in.Answer) != 0 {
		t.Errorf("after clean-up: %s with %d answers, want NOERROR/NODATA", dns.RcodeToString[in.Rcode], len(in.Answer))
	}
}
