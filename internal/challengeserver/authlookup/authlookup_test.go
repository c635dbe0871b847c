package authlookup

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/internal/challengeserver/dnsserver"
	"github.com/strictacme/strictacme/internal/testworld"
)

type vals map[string][]string

func (v vals) Lookup(l string) ([]string, bool) { x, ok := v[l]; return x, ok }

// Two authoritative servers for one zone on one port (127.0.0.1 and ::1)
// with different data: each one's answer is reported.
func TestLookupAsksEveryServer(t *testing.T) {
	recs := []string{"@ NS ns1", "@ NS ns2", "ns1 A 127.0.0.1", "ns2 AAAA ::1"}
	h1, _ := dnsserver.NewHandler(dnsserver.Config{Zone: "zone.test", Records: recs}, vals{"sub": {"new"}})
	h2, _ := dnsserver.NewHandler(dnsserver.Config{Zone: "zone.test", Records: recs}, vals{"sub": {}})
	s1, err := dnsserver.Listen([]string{"127.0.0.1:0"}, h1)
	if err != nil {
		t.Fatal(err)
	}
	defer s1.Shutdown(context.Background())
	_, port, _ := net.SplitHostPort(s1.UDPAddr(0))
	s2, err := dnsserver.Listen([]string{"[::1]:" + port}, h2)
	if err != nil {
		t.Skipf("no IPv6 loopback on port %s: %v", port, err)
	}
	defer s2.Shutdown(context.Background())

	r := &Resolver{Recursive: []string{s1.UDPAddr(0)}, Port: port}
	res, err := r.Lookup(context.Background(), "Sub.zone.test", dns.TypeTXT)
	if err != nil {
		t.Fatal(err)
	}
	if res.Zone != "zone.test." || len(res.Servers) != 2 {
		t.Fatalf("%+v", res)
	}
	got := map[string]string{}
	for _, s := range res.Servers {
		got[s.NS] = s.Rcode + ":" + strings.Join(s.TXT, ",")
		if !s.Authoritative {
			t.Errorf("%s: AA not set", s.NS)
		}
	}
	if got["ns1.zone.test."] != "NOERROR:new" || got["ns2.zone.test."] != "NOERROR:" {
		t.Fatalf("%v", got)
	}
	if _, err := r.Lookup(context.Background(), "other.invalid", dns.TypeTXT); err == nil {
		t.Fatal("out-of-zone name: want an error (the server REFUSES)")
	}
}

// _acme-challenge.example.com is a CNAME into the challenge zone (the
// acme-dns set-up). A recursive answer for it carries the challenge zone's
// SOA in its authority section; the zone to ask is still example.com, the
// one that holds the CNAME, and its servers answer with the CNAME. The
// challenge zone's name server address is unreachable, so asking it (the
// wrong zone) cannot pass.
func TestLookupThroughCNAME(t *testing.T) {
	w := testworld.Start(t)
	h, err := dnsserver.NewHandler(dnsserver.Config{Zone: "auth.example.org", Records: []string{"@ NS ns1", "ns1 A 127.0.0.2"}}, vals{"sub": {"v"}})
	if err != nil {
		t.Fatal(err)
	}
	cs, err := dnsserver.Listen([]string{"127.0.0.1:0"}, h)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Shutdown(context.Background())
	w.Forward("auth.example.org.", cs.UDPAddr(0))
	if err := w.DNS.Add("_acme-challenge.example.com.", dns.TypeCNAME, 300, "sub.auth.example.org."); err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(w.AuthAddr)
	r := &Resolver{Recursive: []string{w.ResolverAddr}, Port: port, Timeout: 500 * time.Millisecond}

	for _, qtype := range []uint16{dns.TypeCNAME, dns.TypeTXT} {
		res, err := r.Lookup(t.Context(), "_acme-challenge.example.com", qtype)
		if err != nil {
			t.Fatal(err)
		}
		if res.Zone != "example.com." || len(res.Servers) != 1 {
			t.Fatalf("%s: zone %q, %d servers; want example.com. and its one server", dns.TypeToString[qtype], res.Zone, len(res.Servers))
		}
		s := res.Servers[0]
		want := "_acme-challenge.example.com.\t300\tIN\tCNAME\tsub.auth.example.org."
		if s.NS != "ns1.example.com." || s.Error != "" || s.Rcode != "NOERROR" || !s.Authoritative || len(s.Answer) != 1 || s.Answer[0] != want {
			t.Fatalf("%s: %+v, want the CNAME from ns1.example.com.", dns.TypeToString[qtype], s)
		}
	}
	// The name inside the challenge zone: its own zone.
	if z, err := r.Zone(t.Context(), "sub.auth.example.org"); err != nil || z.Apex != "auth.example.org." {
		t.Fatalf("zone of sub.auth.example.org: %+v %v", z, err)
	}
}
