package issue

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/internal/testworld"
	"github.com/strictacme/strictacme/provider/route53"
	"github.com/strictacme/strictacme/provider/route53/route53test"
)

// route53World is a test world whose example.com zone is a public hosted
// zone of a fake Route 53 account (with a private twin of the same name).
// Each change stays PENDING for two GetChange calls, and only when it
// turns INSYNC are the zone's challenge TXT RRsets copied to the
// authoritative server Pebble validates against, as Route 53's name
// servers serve a change only then: an order that did not wait for
// INSYNC fails validation.
func route53World(t *testing.T) (*testworld.World, *route53test.Server, string, *route53.Provider) {
	t.Helper()
	route53test.Isolate(t)
	w := testworld.Start(t)
	s := route53test.New(route53test.Options{PendingPolls: 2, PageSize: 1})
	t.Cleanup(s.Close)
	s.AddZone("example.com", true)
	id := s.AddZone("example.com", false,
		route53test.RRset{Name: "example.com.", Type: "A", TTL: 300, Values: []string{"192.0.2.10"}},
		route53test.RRset{Name: "example.com.", Type: "MX", TTL: 300, Values: []string{"10 mx1.example.net."}},
		route53test.RRset{Name: "example.com.", Type: "TXT", TTL: 300, Values: []string{`"v=spf1 include:mail.example.net ~all"`}},
		route53test.RRset{Name: "www.example.com.", Type: "CNAME", TTL: 300, Values: []string{"example.com."}},
		route53test.RRset{Name: "_acme-challenge.example.com.", Type: "TXT", TTL: 600, Values: []string{`"another-clients-value"`}},
	)
	var mu sync.Mutex // one publication at a time, each of the latest state
	s.OnInSync(func(zid string) {
		if zid != id {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		var rrs []dns.RR
		for _, set := range s.RRsets(id) {
			if set.Type != "TXT" || !strings.HasPrefix(set.Name, "_acme-challenge") {
				continue
			}
			for _, v := range s.TXT(id, set.Name) {
				rrs = append(rrs, &dns.TXT{Hdr: dns.RR_Header{Name: set.Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: uint32(set.TTL)}, Txt: []string{v}})
			}
		}
		republishChallenges(t, w, 0, rrs)
	})
	p := &route53.Provider{AccessKeyID: s.AccessKeyID(), SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		Endpoint: s.URL(), HTTPClient: s.Client(), SyncPoll: time.Millisecond}
	return w, s, id, p
}

func route53Dump(s *route53test.Server, id string) string {
	var lines []string
	for _, r := range s.RRsets(id) {
		lines = append(lines, fmt.Sprintf("%+v", r))
	}
	return strings.Join(lines, "\n")
}

// TestRoute53EndToEnd: apex + wildcard + a subdomain through the Route 53
// provider and Pebble. Presenting is one change batch, and the write
// returns once GetChange says INSYNC, which is the propagation signal: no
// other check runs. Cleaning up is one more batch; afterwards the hosted
// zone is as before, another client's TXT at the apex challenge name
// included with its TTL, and nothing of ours is left.
func TestRoute53EndToEnd(t *testing.T) {
	w, s, id, p := route53World(t)
	before := route53Dump(s, id)
	f := newFixture(t, w, withProvider(p))
	s.ResetRequests()
	f.obtainApexWildcardSub(t)
	if after := route53Dump(s, id); after != before {
		t.Errorf("zone changed:\nbefore\n%s\nafter\n%s", before, after)
	}
	if n := s.Count("ChangeResourceRecordSets"); n != 2 {
		t.Errorf("%d change batches for the order; want 2 (present, clean up)", n)
	}
	if n := s.Count("ListHostedZones"); n != 2 {
		t.Errorf("%d ListHostedZones calls; want one listing (two pages) for the three names", n)
	}
	if n := s.Count("GetChange"); n != 3 {
		t.Errorf("%d GetChange calls; want 3 (two PENDING, one INSYNC)", n)
	}
	if f.strategy.calls != 0 {
		t.Errorf("the propagation check ran %d times; INSYNC is the signal", f.strategy.calls)
	}
	for _, r := range s.Requests() {
		if !strings.Contains(r.UserAgent, "strictacme/") {
			t.Errorf("User-Agent %q", r.UserAgent)
			break
		}
	}
	f.checkJournalEmpty(t)
}

// A run killed between present and clean-up leaves its TXT in the hosted
// zone; the next run's sweep removes exactly the journaled value, and
// another client's value at the same name stays with its TTL.
func TestRoute53SweepAfterACrashDeletesOnlyTheJournaledValue(t *testing.T) {
	w, s, id, p := route53World(t)
	before := route53Dump(s, id)
	f := newFixture(t, w, withProvider(p))
	f.leaveAKilledRunsValue(t, p)
	f.sweepOne(t)
	if after := route53Dump(s, id); after != before {
		t.Errorf("zone after the sweep:\n%s\nwant\n%s", after, before)
	}
}

// Two orders at once in one hosted zone, both with a value at
// _acme-challenge.example.com: each batch keeps the other's value, so
// neither clean-up removes a value the CA may still be asking for, and
// both certificates are issued.
func TestRoute53ConcurrentOrdersInOneZone(t *testing.T) {
	w, s, id, p := route53World(t)
	before := route53Dump(s, id)
	obtainConcurrently(t, w, p)
	if after := route53Dump(s, id); after != before {
		t.Errorf("zone after both orders:\n%s\nwant\n%s", after, before)
	}
}
