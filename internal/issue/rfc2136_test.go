package issue

import (
	"testing"

	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/internal/testworld"
	"github.com/strictacme/strictacme/provider/rfc2136"
	"github.com/strictacme/strictacme/provider/rfc2136/rfc2136test"
)

const (
	rfc2136Key    = "acme-update."
	rfc2136Secret = "c2VjcmV0LWtleS1mb3ItdGhlLXRlc3Qtb25seS0wMDE="
)

// rfc2136World is a test world in which example.com is served by a
// BIND-like primary that takes TSIG-signed updates: the world's resolvers
// and the CA's are sent there (the world's own authoritative server holds
// no example.com), so the CA validates what the primary serves. The key
// may change TXT at the challenge names of the apex and of sub only, and
// transfer the zone.
func rfc2136World(t *testing.T) (*testworld.World, *rfc2136test.Server) {
	t.Helper()
	w := testworld.Start(t, testworld.Options{Zones: []string{"example.net."}})
	s := rfc2136test.Start(t, rfc2136test.Options{
		Keys: []rfc2136test.Key{{Name: rfc2136Key, Algorithm: dns.HmacSHA256, Secret: rfc2136Secret}},
		Grants: []rfc2136test.Grant{
			{Key: rfc2136Key, Match: "name", Name: "_acme-challenge.example.com.", Types: []uint16{dns.TypeTXT}},
			{Key: rfc2136Key, Match: "name", Name: "_acme-challenge.sub.example.com.", Types: []uint16{dns.TypeTXT}},
		},
		Transfer: []string{rfc2136Key},
	})
	err := s.AddZone("example.com.",
		"@ 3600 IN A 192.0.2.10",
		"@ 3600 IN MX 10 mx1.example.net.",
		`@ 3600 IN TXT "v=spf1 include:mail.example.net ~all"`,
		"www 300 IN CNAME example.com.",
		"sub 600 IN A 192.0.2.11",
		`_acme-challenge 3600 IN TXT "another-clients-value"`,
	)
	if err != nil {
		t.Fatal(err)
	}
	w.Forward("example.com.", s.Addr())
	return w, s
}

// TestRFC2136EndToEnd: apex + wildcard + a subdomain through the rfc2136
// provider and Pebble, with each propagation check that can confirm a
// write at the primary: the provider read-back (a signed zone transfer
// from the primary) and DoH (the world's caching resolver, which asks the
// primary). Afterwards every record of the zone is byte-identical to
// before, another client's TXT at the same name included, and nothing of
// ours is left. Every message the provider sent reached the primary, and
// the world's own authoritative server heard nothing.
func TestRFC2136EndToEnd(t *testing.T) {
	for _, strategy := range []string{"provider", "doh"} {
		t.Run(strategy, func(t *testing.T) {
			w, s := rfc2136World(t)
			p := &rfc2136.Provider{Server: s.Addr(), KeyName: "acme-update", KeySecret: rfc2136Secret}
			before := s.Records("example.com.")
			f := newFixture(t, w, withProvider(p), withPropagation(t, w, "rfc2136", strategy))
			w.DNS.ResetCounts()
			f.obtainApexWildcardSub(t)
			after := s.Records("example.com.")
			if len(after) != len(before) {
				t.Fatalf("zone has %d records after clean-up, had %d:\n%v", len(after), len(before), after)
			}
			for i := range before {
				if before[i].Header().Rrtype == dns.TypeSOA {
					continue
				}
				if before[i].String() != after[i].String() {
					t.Errorf("record changed:\n before %s\n after  %s", before[i], after[i])
				}
			}
			if got := s.TXT("_acme-challenge.example.com."); len(got) != 1 || got[0] != "another-clients-value" {
				t.Errorf("TXT at the challenge name after clean-up: %q", got)
			}
			if got := s.TXT("_acme-challenge.sub.example.com."); len(got) != 0 {
				t.Errorf("left behind: %q", got)
			}
			f.checkJournalEmpty(t)
			// The provider's messages are the signed ones (the CA's
			// resolvers ask unsigned): one SOA and one TXT question per
			// challenge name, one UPDATE to add and one to delete, and for
			// the read-back the transfers.
			kinds := map[string]int{}
			for _, m := range s.Messages() {
				if m.Key == "" {
					continue
				}
				if m.Prereqs != 0 {
					t.Errorf("an UPDATE with %d prerequisites", m.Prereqs)
				}
				kinds[dns.OpcodeToString[m.Opcode]+" "+dns.TypeToString[m.Type]]++
			}
			if kinds["QUERY SOA"] != 2 || kinds["QUERY TXT"] != 2 || kinds["UPDATE SOA"] != 2 {
				t.Errorf("signed messages at the primary: %v", kinds)
			}
			if (kinds["QUERY AXFR"] > 0) != (strategy == "provider") {
				t.Errorf("zone transfers: %d with --propagation %s", kinds["QUERY AXFR"], strategy)
			}
			if n := w.DNS.Queries(); n != 0 {
				t.Errorf("the world's authoritative server got %d questions", n)
			}
			t.Logf("signed messages at the primary: %v", kinds)
		})
	}
}

// A run killed between the UPDATE and the clean-up leaves its TXT at the
// primary; the next run's sweep deletes exactly the journaled value (one
// class-NONE record), and another client's value at the same name stays.
func TestRFC2136SweepAfterACrashDeletesOnlyTheJournaledValue(t *testing.T) {
	w, s := rfc2136World(t)
	p := &rfc2136.Provider{Server: s.Addr(), KeyName: rfc2136Key, KeySecret: rfc2136Secret}
	f := newFixture(t, w, withProvider(p))
	f.leaveAKilledRunsValue(t, p)
	s.ResetLog()
	f.sweepOne(t)
	if got := s.TXT("_acme-challenge.example.com."); len(got) != 1 || got[0] != "another-clients-value" {
		t.Fatalf("TXT after the sweep: %q", got)
	}
	ups := s.Updates()
	if len(ups) != 1 || len(ups[0].Updates) != 1 || ups[0].Updates[0].Header().Class != dns.ClassNONE {
		t.Fatalf("sweep sent %+v; want one UPDATE deleting one value", ups)
	}
	f.checkJournalEmpty(t)
}

// Two orders at once in one zone, both with a value at
// _acme-challenge.example.com: each UPDATE adds and deletes only its own
// values, so neither order's clean-up removes the other's value while the
// CA may still be asking for it, and both certificates are issued.
func TestRFC2136ConcurrentOrdersInOneZone(t *testing.T) {
	w, s := rfc2136World(t)
	p := &rfc2136.Provider{Server: s.Addr(), KeyName: rfc2136Key, KeySecret: rfc2136Secret}
	obtainConcurrently(t, w, p)
	if got := s.TXT("_acme-challenge.example.com."); len(got) != 1 || got[0] != "another-clients-value" {
		t.Errorf("TXT after both orders: %q", got)
	}
	for _, u := range s.Updates() {
		for _, rr := range u.Updates {
			if c := rr.Header().Class; c != dns.ClassINET && c != dns.ClassNONE {
				t.Errorf("an UPDATE deleted an RRset or a name: %s", rr)
			}
		}
	}
}
