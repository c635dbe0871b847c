package issue

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/internal/testworld"
	"github.com/strictacme/strictacme/provider/hetzner"
	"github.com/strictacme/strictacme/provider/hetzner/hetznertest"
)

// hetznerWorld is a test world whose example.com zone lives in a fake
// Hetzner DNS account (pages of 2 items): after every create or delete
// the zone's challenge TXT records are published to the authoritative
// server Pebble validates against; then each of also is called.
func hetznerWorld(t *testing.T, also ...func()) (*testworld.World, *hetznertest.Server, *hetzner.Provider) {
	t.Helper()
	return hetznerWorldFor(t, false, also...)
}

// hetznerWorldFor is hetznerWorld spoken to through the Cloud API when
// cloud is set (TXT values stored quoted, as that API keeps them; the
// pauses between looks at a running action skipped, the looks made).
func hetznerWorldFor(t *testing.T, cloud bool, also ...func()) (*testworld.World, *hetznertest.Server, *hetzner.Provider) {
	t.Helper()
	w := testworld.Start(t)
	api := hetznertest.NewServer(hetznertest.Options{MaxPerPage: 2})
	t.Cleanup(api.Close)
	api.AddZone("example.com",
		hetznertest.Record{Type: "A", Name: "@", Value: "192.0.2.10"},
		hetznertest.Record{Type: "MX", Name: "@", Value: "10 mx1.example.net.", TTL: 3600},
		hetznertest.Record{Type: "TXT", Name: "@", Value: "v=spf1 include:mail.example.net ~all"},
		hetznertest.Record{Type: "CNAME", Name: "www", Value: "example.com."},
		hetznertest.Record{Type: "A", Name: "sub", Value: "192.0.2.11"},
	)
	api.AddZone("example.net")
	api.OnWrite(func() {
		var rrs []dns.RR
		for _, r := range api.Records("example.com") {
			if r.Type == "TXT" && strings.HasPrefix(r.Name, "_acme-challenge") {
				rrs = append(rrs, challengeTXT(r.Name+".example.com", strings.Trim(r.Value, `"`)))
			}
		}
		republishChallenges(t, w, 0, rrs)
		for _, f := range also {
			f()
		}
	})
	if cloud {
		return w, api, &hetzner.Provider{APIToken: api.Token(), Endpoint: api.CloudURL(), Sleep: func(context.Context, time.Duration) error { return nil }}
	}
	return w, api, &hetzner.Provider{APIKey: api.Token(), Endpoint: api.URL()}
}

func hetznerTXT(api *hetznertest.Server, name string) []string {
	var out []string
	for _, r := range api.Records("example.com") {
		if r.Type == "TXT" && r.Name == name {
			out = append(out, strings.Trim(r.Value, `"`))
		}
	}
	return out
}

// TestHetznerEndToEnd: apex + wildcard + a subdomain through the hetzner
// provider and Pebble, with the provider read-back as the check. The
// zone is found from the paginated zone list; the three values (two at
// one name, beside another client's) are created in one bulk call;
// afterwards every record is as before, IDs included, and nothing of
// ours is left.
func TestHetznerEndToEnd(t *testing.T) {
	var sawBoth bool
	var api *hetznertest.Server
	w, api, p := hetznerWorld(t, func() { sawBoth = sawBoth || len(hetznerTXT(api, "_acme-challenge")) == 3 })
	api.AddRecord("example.com", hetznertest.Record{Type: "TXT", Name: "_acme-challenge", Value: "another-clients-value", TTL: 120})
	before := fmt.Sprint(api.Records("example.com"))
	f := newFixture(t, w, withProvider(p), withPropagation(t, w, "hetzner", "provider"))
	api.ResetRequests()
	f.obtainApexWildcardSub(t)
	if !sawBoth {
		t.Error("the apex challenge name never held the apex and wildcard values beside the foreign one")
	}
	if after := fmt.Sprint(api.Records("example.com")); after != before {
		t.Errorf("records changed:\nbefore %s\nafter  %s", before, after)
	}
	if n := api.Count("POST", "/records/bulk"); n != 1 {
		t.Errorf("%d bulk creates; want 1", n)
	}
	if n := api.Count("DELETE", ""); n != 3 {
		t.Errorf("%d DELETEs; want 3 (one per record: the API has no bulk delete)", n)
	}
	f.checkJournalEmpty(t)
}

// A run killed between present and clean-up leaves its record; the next
// run's sweep deletes exactly the journaled value, and another client's
// value at the same name stays.
func TestHetznerSweepAfterACrashDeletesOnlyTheJournaledValue(t *testing.T) {
	w, api, p := hetznerWorld(t)
	f := newFixture(t, w, withProvider(p))
	api.AddRecord("example.com", hetznertest.Record{Type: "TXT", Name: "_acme-challenge", Value: "another-clients-value", TTL: 120})
	api.AddRecord("example.com", hetznertest.Record{Type: "TXT", Name: "_acme-challenge", Value: leftByAKilledRun, TTL: 120})
	f.leaveAKilledRunsValue(t, nil)
	f.sweepOne(t)
	if got := hetznerTXT(api, "_acme-challenge"); len(got) != 1 || got[0] != "another-clients-value" {
		t.Fatalf("after the sweep: %q", got)
	}
}

// Two orders at once in one zone, both with a value at the apex
// challenge name: records are individual, so neither order's clean-up
// removes the other's value, and both certificates are issued.
func TestHetznerConcurrentOrdersInOneZone(t *testing.T) {
	w, api, p := hetznerWorld(t)
	api.AddRecord("example.com", hetznertest.Record{Type: "TXT", Name: "_acme-challenge", Value: "another-clients-value", TTL: 120})
	obtainConcurrently(t, w, p)
	if got := hetznerTXT(api, "_acme-challenge"); len(got) != 1 || got[0] != "another-clients-value" {
		t.Errorf("TXT after both orders: %q", got)
	}
	if got := hetznerTXT(api, "_acme-challenge.sub"); len(got) != 0 {
		t.Errorf("left at sub: %q", got)
	}
}

// TestHetznerCloudEndToEnd: apex + wildcard + a subdomain through the
// hetzner provider on the Cloud API and Pebble, with the provider
// read-back as the check. The apex and wildcard values go into the
// RRset that already holds another client's value, in one add_records
// action; the subdomain's in another; each action is looked at until it
// reports success. Afterwards every record is as before, IDs included,
// and nothing of ours is left.
func TestHetznerCloudEndToEnd(t *testing.T) {
	var sawBoth bool
	var api *hetznertest.Server
	w, api, p := hetznerWorldFor(t, true, func() { sawBoth = sawBoth || len(hetznerTXT(api, "_acme-challenge")) == 3 })
	api.AddRecord("example.com", hetznertest.Record{Type: "TXT", Name: "_acme-challenge", Value: `"another-clients-value"`, TTL: 120})
	before := fmt.Sprint(api.Records("example.com"))
	f := newFixture(t, w, withProvider(p), withPropagation(t, w, "hetzner", "provider"))
	api.ResetRequests()
	f.obtainApexWildcardSub(t)
	if !sawBoth {
		t.Error("the apex challenge name never held the apex and wildcard values beside the foreign one")
	}
	if after := fmt.Sprint(api.Records("example.com")); after != before {
		t.Errorf("records changed:\nbefore %s\nafter  %s", before, after)
	}
	adds, removes := api.Count("POST", "/actions/add_records"), api.Count("POST", "/actions/remove_records")
	if adds != 2 || removes != 2 {
		t.Errorf("%d add_records and %d remove_records; want 2 each (one per name)", adds, removes)
	}
	polls := 0
	for _, r := range api.Requests() {
		if r.Method == "GET" && strings.HasPrefix(r.Path, "/v1/actions/") {
			polls++
		}
		if strings.HasPrefix(r.Path, "/api/") {
			t.Errorf("a DNS Console API request with a Cloud API token: %s %s", r.Method, r.Path)
		}
	}
	if polls != 8 {
		t.Errorf("%d action looks; want 8 (each of 4 actions running for 2)", polls)
	}
	f.checkJournalEmpty(t)
}

// A run killed between present and clean-up leaves its value; the next
// run's sweep removes exactly the journaled value from the RRset through
// the Cloud API, and another client's value in it stays.
func TestHetznerCloudSweepAfterACrashRemovesOnlyTheJournaledValue(t *testing.T) {
	w, api, p := hetznerWorldFor(t, true)
	f := newFixture(t, w, withProvider(p))
	api.AddRecord("example.com", hetznertest.Record{Type: "TXT", Name: "_acme-challenge", Value: `"another-clients-value"`, TTL: 120})
	api.AddRecord("example.com", hetznertest.Record{Type: "TXT", Name: "_acme-challenge", Value: `"` + leftByAKilledRun + `"`, TTL: 120})
	f.leaveAKilledRunsValue(t, nil)
	f.sweepOne(t)
	if got := hetznerTXT(api, "_acme-challenge"); len(got) != 1 || got[0] != "another-clients-value" {
		t.Fatalf("after the sweep: %q", got)
	}
}

// Two orders at once in one zone through the Cloud API, both with a
// value at the apex challenge name: add_records and remove_records name
// exact values, so neither order's clean-up removes the other's value,
// and both certificates are issued.
func TestHetznerCloudConcurrentOrdersInOneZone(t *testing.T) {
	w, api, p := hetznerWorldFor(t, true)
	api.AddRecord("example.com", hetznertest.Record{Type: "TXT", Name: "_acme-challenge", Value: `"another-clients-value"`, TTL: 120})
	obtainConcurrently(t, w, p)
	if got := hetznerTXT(api, "_acme-challenge"); len(got) != 1 || got[0] != "another-clients-value" {
		t.Errorf("TXT after both orders: %q", got)
	}
	if got := hetznerTXT(api, "_acme-challenge.sub"); len(got) != 0 {
		t.Errorf("left at sub: %q", got)
	}
}
