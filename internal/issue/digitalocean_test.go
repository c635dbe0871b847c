package issue

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/internal/testworld"
	"github.com/strictacme/strictacme/provider/digitalocean"
	"github.com/strictacme/strictacme/provider/digitalocean/digitaloceantest"
)

// digitaloceanWorld is a test world whose example.com zone is kept in a
// fake DigitalOcean account (HTTPS): after every record created or
// deleted the domain's challenge TXT records are copied to the
// authoritative server Pebble validates against, as DigitalOcean's name
// servers would serve them. The account holds the operator's records and
// another client's value at the apex challenge name. The provider never
// waits for real: a 429's Retry-After passes at once.
func digitaloceanWorld(t *testing.T) (*testworld.World, *digitaloceantest.Server, *digitalocean.Provider) {
	t.Helper()
	w := testworld.Start(t)
	s := digitaloceantest.NewServer(digitaloceantest.Options{TLS: true})
	t.Cleanup(s.Close)
	s.AddDomain("example.com",
		digitaloceantest.Record{Type: "A", Name: "@", Data: "192.0.2.10", TTL: 3600},
		digitaloceantest.Record{Type: "MX", Name: "@", Data: "mx1.example.net", TTL: 1800},
		digitaloceantest.Record{Type: "TXT", Name: "@", Data: "v=spf1 include:mail.example.net ~all", TTL: 3600},
		digitaloceantest.Record{Type: "CNAME", Name: "www", Data: "@", TTL: 1800},
		digitaloceantest.Record{Type: "TXT", Name: "_acme-challenge", Data: "another-clients-value", TTL: 300},
	)
	s.OnChange(func(domain string) {
		var rrs []dns.RR
		for _, r := range s.Records(domain) {
			if r.Type == "TXT" && strings.HasPrefix(r.Name, "_acme-challenge") {
				rrs = append(rrs, challengeTXT(digitaloceantest.FQDN(r.Name, domain), r.Data))
			}
		}
		republishChallenges(t, w, 0, rrs)
	})
	p := &digitalocean.Provider{
		Token: digitaloceantest.DefaultToken, BaseURL: s.URL(), HTTPClient: s.Client(), Lag: -1,
		Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() },
	}
	return w, s, p
}

// TestDigitalOceanEndToEnd: apex + wildcard + a subdomain through the
// digitalocean provider and Pebble, with the fixture's check and with the
// provider read-back: the zone comes from the account's domains, the
// three values are three POSTs (the API has no batch) and three DELETEs,
// and afterwards every other record is as before, another client's value
// at the apex challenge name included, and nothing of ours is left. The
// first create meets a 429, which is waited out as asked.
func TestDigitalOceanEndToEnd(t *testing.T) {
	for _, strategy := range []string{"recording", "provider"} {
		t.Run(strategy, func(t *testing.T) {
			w, s, p := digitaloceanWorld(t)
			before := s.Records("example.com")
			f := newFixture(t, w, withProvider(p), withPropagation(t, w, "digitalocean", strategy))
			s.InjectFault("POST records", digitaloceantest.Fault{Status: 429, ID: "too_many_requests", Message: "API Rate limit exceeded.", RetryAfter: "2"})
			s.ResetRequests()
			f.obtainApexWildcardSub(t)
			checkRecordsUnchanged(t, before, s.Records("example.com"))
			f.checkJournalEmpty(t)
			// One POST per value (one throttled and sent again) and one
			// DELETE per value; never a DNS question for the zone.
			if n, m := s.Count("POST records"), s.Count("DELETE record"); n != 4 || m != 3 {
				t.Errorf("%d creates and %d deletes; want 4 (one throttled) and 3", n, m)
			}
		})
	}
}

// A run killed between the write and the clean-up leaves its value in the
// zone; the next run's sweep deletes exactly the journaled value, and
// another client's value at the same name stays.
func TestDigitalOceanSweepAfterACrashDeletesOnlyTheJournaledValue(t *testing.T) {
	w, s, p := digitaloceanWorld(t)
	f := newFixture(t, w, withProvider(p))
	f.leaveAKilledRunsValue(t, p)
	s.ResetRequests()
	f.sweepOne(t)
	if got := s.TXT("_acme-challenge.example.com"); len(got) != 1 || got[0] != "another-clients-value" {
		t.Fatalf("TXT after the sweep: %q", got)
	}
	if n, m := s.Count("DELETE record"), s.Count("POST records"); n != 1 || m != 0 {
		t.Fatalf("sweep sent %+v; want one DELETE", s.Requests())
	}
	f.checkJournalEmpty(t)
}

// Two orders at once in one zone, both with a value at
// _acme-challenge.example.com: each order creates and deletes only its
// own records, so neither clean-up removes the other's value while the CA
// may still ask for it, and both certificates are issued.
func TestDigitalOceanConcurrentOrdersInOneZone(t *testing.T) {
	w, s, p := digitaloceanWorld(t)
	obtainConcurrently(t, w, p)
	if got := s.TXT("_acme-challenge.example.com"); len(got) != 1 || got[0] != "another-clients-value" {
		t.Errorf("TXT after both orders: %q", got)
	}
	if got := s.TXT("_acme-challenge.sub.example.com"); len(got) != 0 {
		t.Errorf("left behind: %q", got)
	}
}
