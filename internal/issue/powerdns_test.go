package issue

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/internal/testworld"
	"github.com/strictacme/strictacme/provider/powerdns"
	"github.com/strictacme/strictacme/provider/powerdns/powerdnstest"
)

// powerdnsWorld is a test world whose example.com zone is kept in a fake
// PowerDNS API: after every PATCH the zone's challenge TXT RRsets are
// copied to the authoritative server Pebble validates against, as
// PowerDNS serves what its backend holds.
func powerdnsWorld(t *testing.T) (*testworld.World, *powerdnstest.Server, *powerdns.Provider) {
	t.Helper()
	w := testworld.Start(t)
	s := powerdnstest.New(powerdnstest.Options{})
	t.Cleanup(s.Close)
	s.AddZone("example.com", "Native",
		powerdnstest.RRset{Name: "example.com.", Type: "A", TTL: 3600, Records: []powerdnstest.Record{{Content: "192.0.2.10"}}},
		powerdnstest.RRset{Name: "example.com.", Type: "MX", TTL: 3600, Records: []powerdnstest.Record{{Content: "10 mx1.example.net."}}},
		powerdnstest.RRset{Name: "example.com.", Type: "TXT", TTL: 3600, Records: []powerdnstest.Record{{Content: `"v=spf1 include:mail.example.net ~all"`}}},
		powerdnstest.RRset{Name: "www.example.com.", Type: "CNAME", TTL: 300, Records: []powerdnstest.Record{{Content: "example.com."}}},
		powerdnstest.RRset{Name: "_acme-challenge.example.com.", Type: "TXT", TTL: 600,
			Records:  []powerdnstest.Record{{Content: `"another-clients-value"`}},
			Comments: []powerdnstest.Comment{{Content: "the other client's", Account: "ops", ModifiedAt: 1767225600}}},
	)
	var mu sync.Mutex // one publication at a time, each of the latest state
	s.OnPatch(func(string) {
		mu.Lock()
		defer mu.Unlock()
		var rrs []dns.RR
		for _, set := range s.RRsets("example.com.") {
			if set.Type != "TXT" || !strings.HasPrefix(set.Name, "_acme-challenge") {
				continue
			}
			for _, v := range s.TXT(set.Name) {
				rrs = append(rrs, &dns.TXT{Hdr: dns.RR_Header{Name: set.Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: uint32(set.TTL)}, Txt: []string{v}})
			}
		}
		republishChallenges(t, w, 0, rrs)
	})
	p := &powerdns.Provider{ServerURL: s.URL(), APIKey: s.APIKey(), HTTPClient: s.Client()}
	return w, s, p
}

func powerdnsDump(s *powerdnstest.Server) string {
	b, _ := json.MarshalIndent(s.RRsets("example.com."), "", " ")
	return string(b)
}

// TestPowerDNSEndToEnd: apex + wildcard + a subdomain through the
// PowerDNS provider and Pebble. Presenting is one GET and one PATCH of the
// zone, cleaning up another, and the zone list is asked once for all
// names; afterwards the zone is byte-identical to
// before, another client's TXT at the apex challenge name included with
// its TTL and comment, and nothing of ours is left.
func TestPowerDNSEndToEnd(t *testing.T) {
	w, s, p := powerdnsWorld(t)
	before := powerdnsDump(s)
	f := newFixture(t, w, withProvider(p))
	s.ResetRequests()
	f.obtainApexWildcardSub(t)
	if after := powerdnsDump(s); after != before {
		t.Errorf("zone changed:\nbefore %s\nafter %s", before, after)
	}
	lists := 0
	for _, r := range s.Requests() {
		if r.Method == http.MethodGet && strings.HasSuffix(r.Path, "/zones") {
			lists++
		}
	}
	if g, pa := s.Count(http.MethodGet)-lists, s.Count(http.MethodPatch); lists != 1 || g != 2 || pa != 2 {
		t.Errorf("%d zone lists, %d zone GET and %d PATCH for the order; want 1, 2 and 2 (one list for all names, a GET and a PATCH to present and to clean up)", lists, g, pa)
	}
	for _, r := range s.Requests() {
		if !strings.HasPrefix(r.UserAgent, "strictacme/") {
			t.Errorf("User-Agent %q", r.UserAgent)
		}
	}
	f.checkJournalEmpty(t)
}

// A run killed between present and clean-up leaves its TXT in the zone;
// the next run's sweep removes exactly the journaled value, and another
// client's value at the same name stays with its TTL.
func TestPowerDNSSweepAfterACrashDeletesOnlyTheJournaledValue(t *testing.T) {
	w, s, p := powerdnsWorld(t)
	f := newFixture(t, w, withProvider(p))
	before := powerdnsDump(s)
	f.leaveAKilledRunsValue(t, p)
	f.sweepOne(t)
	if after := powerdnsDump(s); after != before {
		t.Errorf("zone after the sweep:\n%s\nwant\n%s", after, before)
	}
	f.checkJournalEmpty(t)
}

// Two orders at once in one zone, both with a value at
// _acme-challenge.example.com: each read-modify-write keeps the other's
// value, so neither clean-up removes a value the CA may still be asking
// for, and both certificates are issued.
func TestPowerDNSConcurrentOrdersInOneZone(t *testing.T) {
	w, s, p := powerdnsWorld(t)
	before := powerdnsDump(s)
	obtainConcurrently(t, w, p)
	if after := powerdnsDump(s); after != before {
		t.Errorf("zone after both orders:\n%s\nwant\n%s", after, before)
	}
}
