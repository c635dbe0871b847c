package issue

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/internal/testworld"
	"github.com/strictacme/strictacme/provider/desec"
	"github.com/strictacme/strictacme/provider/desec/desectest"
)

// desecWorld is a test world whose example.com zone lives in a fake deSEC
// account (pages of 2 items, so listings span pages): after every write
// the zone's challenge TXT RRsets are published to the authoritative
// server Pebble validates against, desec.DefaultServingLag late on the
// world's clock, as deSEC's name servers pick changes up about once a
// minute.
// Each of also is called after the records are published.
func desecWorld(t *testing.T, also ...func()) (*testworld.World, *desectest.Server, *desec.Provider) {
	t.Helper()
	return desecWorldLagging(t, desec.DefaultServingLag, also...)
}

// desecWorldLagging is desecWorld whose name servers publish lag late.
func desecWorldLagging(t *testing.T, lag time.Duration, also ...func()) (*testworld.World, *desectest.Server, *desec.Provider) {
	t.Helper()
	w := testworld.Start(t)
	api := desectest.NewServer(desectest.Options{PageSize: 2})
	t.Cleanup(api.Close)
	api.AddDomain("example.com",
		desectest.RRset{Type: "A", TTL: 3600, Records: []string{"192.0.2.10"}},
		desectest.RRset{Type: "MX", TTL: 3600, Records: []string{"10 mx1.example.net."}},
		desectest.RRset{Type: "TXT", TTL: 3600, Records: []string{`"v=spf1 include:mail.example.net ~all"`}},
		desectest.RRset{Subname: "www", Type: "CNAME", TTL: 3600, Records: []string{"example.com."}},
		desectest.RRset{Subname: "sub", Type: "A", TTL: 3600, Records: []string{"192.0.2.11"}},
	)
	api.OnWrite(func(string) {
		var rrs []dns.RR
		for _, set := range api.RRsets("example.com") {
			if set.Type != "TXT" || !strings.HasPrefix(set.Subname, "_acme-challenge") {
				continue
			}
			for _, rec := range set.Records {
				rr, err := dns.NewRR(set.Subname + ".example.com. 60 IN TXT " + rec)
				if err != nil {
					t.Errorf("publishing %s: %v", rec, err)
					continue
				}
				rrs = append(rrs, rr)
			}
		}
		republishChallenges(t, w, lag, rrs)
		for _, f := range also {
			f()
		}
	})
	p := &desec.Provider{Token: api.Token(), Endpoint: api.URL()}
	return w, api, p
}

func desecTXT(api *desectest.Server, sub string) []string {
	r, _ := api.RRset("example.com", sub, "TXT")
	return r.Records
}

// TestDesecEndToEnd: apex + wildcard + a subdomain through the desec
// provider and Pebble, with the checks that wait for deSEC's name
// servers: the provider read-back (then its serving lag) and DoH (after
// the serving lag, on the world's clock). The apex and the wildcard share
// one TXT RRset with two values, beside another client's value whose
// TTL is kept; one bulk PATCH presents everything and one cleans up;
// afterwards every RRset is as before and nothing of ours is left.
func TestDesecEndToEnd(t *testing.T) {
	for _, strategy := range []string{"provider", "doh"} {
		t.Run(strategy, func(t *testing.T) {
			var sawBoth bool
			var api *desectest.Server
			w, api, p := desecWorld(t, func() { sawBoth = sawBoth || len(desecTXT(api, "_acme-challenge")) == 3 })
			api.SetRRset("example.com", desectest.RRset{Subname: "_acme-challenge", Type: "TXT", TTL: 7200, Records: []string{`"another-clients-value"`}})
			before := api.RRsets("example.com")
			f := newFixture(t, w, withProvider(p), withPropagation(t, w, "desec", strategy))
			api.ResetRequests()
			f.obtainApexWildcardSub(t)
			if !sawBoth {
				t.Error("the apex challenge RRset never held the two values of the apex and the wildcard beside the foreign one")
			}
			if after := api.RRsets("example.com"); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("RRsets changed:\nbefore %+v\nafter  %+v", before, after)
			}
			if _, ok := api.RRset("example.com", "_acme-challenge.sub", "TXT"); ok {
				t.Error("left behind at _acme-challenge.sub")
			}
			if n := api.Writes("example.com"); n != 2 {
				t.Errorf("%d bulk writes; want 2 (present, clean up)", n)
			}
			f.checkJournalEmpty(t)
		})
	}
}

// A run killed between present and clean-up leaves its value in deSEC;
// the next run's sweep rewrites the RRset without exactly the journaled
// value, and another client's value stays with its TTL.
func TestDesecSweepAfterACrashDeletesOnlyTheJournaledValue(t *testing.T) {
	w, api, p := desecWorld(t)
	f := newFixture(t, w, withProvider(p))
	api.SetRRset("example.com", desectest.RRset{Subname: "_acme-challenge", Type: "TXT", TTL: 7200, Records: []string{`"another-clients-value"`, `"` + leftByAKilledRun + `"`}})
	f.leaveAKilledRunsValue(t, nil)
	f.sweepOne(t)
	r, _ := api.RRset("example.com", "_acme-challenge", "TXT")
	if len(r.Records) != 1 || r.Records[0] != `"another-clients-value"` || r.TTL != 7200 {
		t.Fatalf("after the sweep: %+v", r)
	}
	f.checkJournalEmpty(t)
}

// Two orders at once in one zone, both with a value at
// _acme-challenge.example.com, through one provider: each change is a
// read-modify-write of the whole RRset under the zone lock, so neither
// order's write or clean-up drops the other's value while the CA may
// still ask for it, and both certificates are issued. (The name servers
// publish at once here: the fixture's check does not wait out a lag.)
func TestDesecConcurrentOrdersInOneZone(t *testing.T) {
	w, api, p := desecWorldLagging(t, 0)
	api.SetRRset("example.com", desectest.RRset{Subname: "_acme-challenge", Type: "TXT", TTL: 7200, Records: []string{`"another-clients-value"`}})
	obtainConcurrently(t, w, p)
	if got := desecTXT(api, "_acme-challenge"); len(got) != 1 || got[0] != `"another-clients-value"` {
		t.Errorf("TXT after both orders: %q", got)
	}
	if _, ok := api.RRset("example.com", "_acme-challenge.sub", "TXT"); ok {
		t.Error("left behind at _acme-challenge.sub")
	}
}
