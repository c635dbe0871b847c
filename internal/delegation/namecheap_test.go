package delegation_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"
	"golang.org/x/time/rate"

	"github.com/strictacme/strictacme/internal/delegation"
	"github.com/strictacme/strictacme/internal/preflight"
	"github.com/strictacme/strictacme/internal/providers"
	"github.com/strictacme/strictacme/internal/resolver"
	"github.com/strictacme/strictacme/provider/namecheap"
	"github.com/strictacme/strictacme/provider/namecheap/namecheaptest"
)

// mute is a resolver that must not be asked: it counts and refuses.
type mute struct{ n atomic.Int32 }

func (m *mute) String() string { return "mute" }
func (m *mute) Exchange(_ context.Context, q *dns.Msg) (*dns.Msg, error) {
	m.n.Add(1)
	r := new(dns.Msg)
	r.SetRcode(q, dns.RcodeRefused)
	return r, nil
}

// A Namecheap zone holding a CNAME at _acme-challenge (the user delegated
// the challenge to another zone of the account): the provider's own host
// list shows it, so the record goes to the CNAME's target with no DNS
// question at all and one getHosts per zone; `check` shows the same chain.
func TestNamecheapZoneWithCNAMEAtChallengeName(t *testing.T) {
	nc := namecheaptest.NewServer(namecheaptest.Options{})
	t.Cleanup(nc.Close)
	const clientIP = "203.0.113.7"
	nc.Whitelist(clientIP)
	nc.AddZone("example.com", namecheaptest.ZoneOptions{EmailType: "MX", Hosts: []namecheaptest.Host{
		{Name: "@", Type: "A", Address: "192.0.2.10", TTL: "1799", IsActive: true},
		{Name: "_acme-challenge", Type: "CNAME", Address: "_acme-challenge.acme.example.net.", TTL: "1799", IsActive: true},
		{Name: "_acme-challenge.www", Type: "CNAME", Address: "www.acme.example.net.", TTL: "1799", IsActive: true},
	}})
	nc.AddZone("example.net", namecheaptest.ZoneOptions{EmailType: "MX", Hosts: []namecheaptest.Host{
		{Name: "@", Type: "A", Address: "192.0.2.11", TTL: "1799", IsActive: true},
	}})
	p, err := namecheap.New(namecheap.Config{
		APIUser: nc.APIUser(), APIKey: nc.APIKey(), ClientIP: clientIP, Endpoint: nc.URL(),
		LockDir: t.TempDir(), Limiter: rate.NewLimiter(rate.Inf, 1),
	})
	if err != nil {
		t.Fatal(err)
	}
	set, err := providers.NewSet(providers.Entry{Name: "namecheap", Provider: p})
	if err != nil {
		t.Fatal(err)
	}
	r := &mute{}
	d, _ := delegation.New(delegation.Rules{})
	d.Providers, d.Resolvers = set, []resolver.Resolver{r}
	var log []string
	d.Log = func(l string) { log = append(log, l) }
	nc.ResetCalls()
	for in, want := range map[string]string{
		"_acme-challenge.example.com.":     "_acme-challenge.acme.example.net.",
		"_acme-challenge.www.example.com.": "www.acme.example.net.",
	} {
		got, err := d.Delegate(context.Background(), in)
		if err != nil || got != want {
			t.Errorf("Delegate(%s) = %q, %v; want %q\n%q", in, got, err, want, log)
		}
	}
	if n := r.n.Load(); n != 0 {
		t.Errorf("%d DNS question(s) sent", n)
	}
	// Reads only: per zone the provider's zone check and one host list,
	// the host list read once for both names.
	if n, all := nc.Calls(namecheaptest.GetHosts), nc.TotalCalls(); n != all || n > 4 {
		t.Errorf("%d API calls, %d of them getHosts; want at most 4, all getHosts", all, n)
	}

	routes := preflight.Routes(context.Background(), preflight.Target{
		Identifiers: []string{"example.com", "www.example.com"}, Providers: set, Resolvers: []resolver.Resolver{r}, Delegate: d,
	})
	rows := preflight.DelegationRows(routes)
	if len(rows) != 2 || rows[0].Detail != "_acme-challenge.example.com → _acme-challenge.acme.example.net [_acme-challenge.example.com. -> CNAME _acme-challenge.acme.example.net.] (zone example.net via provider namecheap)" {
		t.Errorf("check rows: %+v", rows)
	}
	if n := r.n.Load(); n != 0 {
		t.Errorf("check sent %d DNS question(s)", n)
	}
}
