package issue

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/internal/testworld"
	"github.com/strictacme/strictacme/provider/cloudflare"
	"github.com/strictacme/strictacme/provider/cloudflare/cloudflaretest"
)

// cloudflareWorld is a test world whose example.com zone is kept in a
// fake Cloudflare account (HTTPS): after every batch the zone's challenge
// TXT records are copied to the authoritative server Pebble validates
// against, as Cloudflare's edge would serve them. The account holds the
// operator's records and another client's value at the apex challenge
// name. The provider never waits for real: a 429's retry-after passes
// at once.
func cloudflareWorld(t *testing.T) (*testworld.World, *cloudflaretest.Server, *cloudflare.Provider) {
	t.Helper()
	w := testworld.Start(t)
	s := cloudflaretest.NewServer(cloudflaretest.Options{TLS: true, MaxPerPage: 5})
	t.Cleanup(s.Close)
	s.AddZone("example.com",
		cloudflaretest.Record{Name: "example.com", Type: "A", Content: "192.0.2.10", TTL: 1, Proxied: true},
		cloudflaretest.Record{Name: "example.com", Type: "MX", Content: "mx1.example.net", TTL: 3600},
		cloudflaretest.Record{Name: "example.com", Type: "TXT", Content: `"v=spf1 include:mail.example.net ~all"`, TTL: 3600},
		cloudflaretest.Record{Name: "www.example.com", Type: "CNAME", Content: "example.com", TTL: 1, Proxied: true},
		cloudflaretest.Record{Name: "_acme-challenge.example.com", Type: "TXT", Content: "another-clients-value", TTL: 120},
	)
	s.OnChange(func(zone string) {
		var rrs []dns.RR
		for _, r := range s.Records(zone) {
			if r.Type == "TXT" && strings.HasPrefix(r.Name, "_acme-challenge") {
				rrs = append(rrs, challengeTXT(r.Name, cloudflaretest.Unquote(r.Content)))
			}
		}
		republishChallenges(t, w, 0, rrs)
	})
	p := &cloudflare.Provider{
		APIToken: cloudflaretest.DefaultToken, BaseURL: s.URL(), HTTPClient: s.Client(), Lag: -1,
		Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() },
	}
	return w, s, p
}

// TestCloudflareEndToEnd: apex + wildcard + a subdomain through the
// cloudflare provider and Pebble, with the fixture's check and with the
// provider read-back: the zone is found through the API, the three values
// go in one batch and out in one batch, and afterwards every other record
// is as before, another client's value at the apex challenge name
// included, and nothing of ours is left. The first batch meets a 429,
// which is waited out as asked.
func TestCloudflareEndToEnd(t *testing.T) {
	for _, strategy := range []string{"recording", "provider"} {
		t.Run(strategy, func(t *testing.T) {
			w, s, p := cloudflareWorld(t)
			before := s.Records("example.com")
			f := newFixture(t, w, withProvider(p), withPropagation(t, w, "cloudflare", strategy))
			s.InjectFault("POST batch", cloudflaretest.Fault{Status: 429, Code: 971, Message: "Please wait and consider throttling your request speed", RetryAfter: "2"})
			s.ResetRequests()
			f.obtainApexWildcardSub(t)
			checkRecordsUnchanged(t, before, s.Records("example.com"))
			f.checkJournalEmpty(t)
			// One batch to add (sent twice: the 429, then the write) and one
			// to delete; the zone look-up asks by name, never DNS.
			var posts, deletes int
			for _, r := range s.Requests() {
				posts += r.Posts
				deletes += r.Deletes
			}
			if n := s.Count("POST batch"); n != 3 || posts != 3 || deletes != 3 {
				t.Errorf("%d batches with %d posts and %d deletes; want 3 (one throttled), 3, 3", n, posts, deletes)
			}
		})
	}
}

// A run killed between the batch and the clean-up leaves its value in the
// zone; the next run's sweep deletes exactly the journaled value, and
// another client's value at the same name stays.
func TestCloudflareSweepAfterACrashDeletesOnlyTheJournaledValue(t *testing.T) {
	w, s, p := cloudflareWorld(t)
	f := newFixture(t, w, withProvider(p))
	f.leaveAKilledRunsValue(t, p)
	s.ResetRequests()
	f.sweepOne(t)
	if got := s.TXT("_acme-challenge.example.com"); len(got) != 1 || got[0] != "another-clients-value" {
		t.Fatalf("TXT after the sweep: %q", got)
	}
	if reqs := s.Requests(); s.Count("POST batch") != 1 || reqs[len(reqs)-1].Deletes != 1 {
		t.Fatalf("sweep sent %+v; want one batch deleting one record", reqs)
	}
	f.checkJournalEmpty(t)
}

// Two orders at once in one zone, both with a value at
// _acme-challenge.example.com: each batch adds and deletes only its own
// records, so neither clean-up removes the other's value while the CA
// may still ask for it, and both certificates are issued.
func TestCloudflareConcurrentOrdersInOneZone(t *testing.T) {
	w, s, p := cloudflareWorld(t)
	obtainConcurrently(t, w, p)
	if got := s.TXT("_acme-challenge.example.com"); len(got) != 1 || got[0] != "another-clients-value" {
		t.Errorf("TXT after both orders: %q", got)
	}
	if got := s.TXT("_acme-challenge.sub.example.com"); len(got) != 0 {
		t.Errorf("left behind: %q", got)
	}
}
