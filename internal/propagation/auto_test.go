package propagation

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/libdns/libdns"
	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/internal/testworld"
)

func TestAutoPicksWorkingDoHWithoutPort53(t *testing.T) {
	w := testworld.Start(t)
	bad, err := w.AddDoHEndpoint(testworld.DoHForbidden)
	if err != nil {
		t.Fatal(err)
	}
	const fqdn = "_acme-challenge.auto.example.com."
	if err := w.DNS.Set(fqdn, dns.TypeTXT, 60, "v"); err != nil {
		t.Fatal(err)
	}
	a := &Auto{Config: Config{Resolvers: worldDoH(t, w, bad, w.DoHURL), Clock: newFakeClock()}}
	w.DNS.ResetCounts()
	var ev events
	if err := a.Wait(context.Background(), []Record{{FQDN: fqdn, Value: "v"}}, time.Now(), ev.obs()); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	first := ev.all()[0]
	if !strings.Contains(first, "propagation auto: using doh at ") || !strings.Contains(first, "(quorum: a majority of those that answer) (1 of 2 resolvers answer; left out") || !strings.Contains(first, "HTTP 403") {
		t.Errorf("choice line: %q", first)
	}
	findings, _, _ := a.Probe(context.Background(), nil)
	if last := findings[len(findings)-1]; last.What != "port 53" || last.OK || !strings.Contains(last.Detail, "not probed") {
		t.Errorf("port 53 finding: %+v", last)
	}
}

func TestAutoPrefersAuthoritativeWhenPort53Allowed(t *testing.T) {
	w := testworld.Start(t)
	const fqdn = "_acme-challenge.auto.example.com."
	if err := w.DNS.Set(fqdn, dns.TypeTXT, 60, "v"); err != nil {
		t.Fatal(err)
	}
	a := &Auto{Config: Config{Resolvers: worldDoH(t, w), Clock: newFakeClock()}, AllowPort53: true, Port: authPort(t, w)}
	s, why, err := a.Choose(context.Background(), []Record{{FQDN: fqdn, Value: "v"}})
	if err != nil || s.Name() != "authoritative" || !strings.Contains(why, "port 53") {
		t.Fatalf("chose %v (%s), %v", s, why, err)
	}
}

func TestAutoFallsBackToProviderThenWait(t *testing.T) {
	w := testworld.Start(t)
	hang, _ := w.AddDoHEndpoint(testworld.DoHForbidden)
	a := &Auto{Config: Config{Resolvers: worldDoH(t, w, hang)}}
	s, _, err := a.Choose(context.Background(), nil)
	if err != nil || s.Name() != "wait" {
		t.Fatalf("chose %v, %v", s, err)
	}
	a.Config.Getter = w.Provider()
	a.Config.ZoneOf = func(string) (string, error) { return "example.com.", nil }
	a.Config.ReadBack = true
	if s, _, _ := a.Choose(context.Background(), nil); s.Name() != "provider" {
		t.Fatalf("chose %s", s.Name())
	}
}

// The negative-caching trap (PR10/PR11) in the test world: the DoH
// resolver holds NXDOMAIN for the challenge name for 300 s before the
// write. The doh check says how long the answer stays cached and, with a
// shorter check timeout, gives up at once instead of letting validation
// start; with a fallback configured it confirms through the provider.
func TestNegativeCacheTrapFallsBackToProvider(t *testing.T) {
	w := testworld.Start(t)
	const fqdn = "_acme-challenge.trap.example.com."
	if rc, err := w.Recursive.Prime(fqdn, dns.TypeTXT); err != nil || rc != dns.RcodeNameError {
		t.Fatalf("prime: %v %v", rc, err)
	}
	prov := w.Provider()
	if _, err := prov.AppendRecords(context.Background(), "example.com.", []libdns.Record{libdns.TXT{Name: "_acme-challenge.trap", Text: "v"}}); err != nil {
		t.Fatal(err)
	}
	written := time.Now()
	clock := newFakeClock()
	poll := &Poll{Resolvers: worldDoH(t, w), Timeout: time.Minute, FailFast: true, Clock: clock}
	var ev events
	err := poll.Wait(context.Background(), []Record{{FQDN: fqdn, Value: "v"}}, written, ev.obs())
	if err == nil || !strings.Contains(err.Error(), "negative answers stay cached longer") {
		t.Fatalf("err = %v", err)
	}
	if log := strings.Join(ev.all(), "\n"); !strings.Contains(log, "NXDOMAIN for "+fqdn+" (negative answer may stay cached up to 5m0s") {
		t.Errorf("remaining cache time not reported:\n%s", log)
	}
	if len(clock.sleeps()) > 1 {
		t.Errorf("polled on after the answer was known hopeless: sleeps %v", clock.sleeps())
	}

	fb := Fallback{Strategies: []Strategy{
		&Poll{Resolvers: worldDoH(t, w), Timeout: time.Minute, FailFast: true, Clock: clock},
		&ProviderCheck{Getter: prov, ZoneOf: func(string) (string, error) { return "example.com.", nil }, Clock: clock},
	}}
	ev = events{}
	if err := fb.Wait(context.Background(), []Record{{FQDN: fqdn, Value: "v"}}, written, ev.obs()); err != nil {
		t.Fatalf("fallback: %v", err)
	}
	if log := strings.Join(ev.all(), "\n"); !strings.Contains(log, "falling back to provider") || fb.Name() != "doh,provider" {
		t.Errorf("log:\n%s", log)
	}
}
