package authlookup

import (
	"context"
	"net"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/internal/challengeserver/dnsserver"
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
