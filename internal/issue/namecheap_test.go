package issue

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/time/rate"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/testworld"
	"github.com/strictacme/strictacme/provider/namecheap"
	"github.com/strictacme/strictacme/provider/namecheap/namecheaptest"
)

// namecheapWorld is a test world whose example.com zone is served from a
// fake Namecheap account: after every setHosts the zone's TXT rows are
// copied to the authoritative server Pebble validates against, as
// Namecheap's own name servers would publish them.
func namecheapWorld(t *testing.T) (*testworld.World, *namecheaptest.Server, *namecheap.Provider) {
	t.Helper()
	return namecheapWorldLagging(t, testworld.Start(t), 0)
}

// namecheapWorldLagging is namecheapWorld on w whose name servers publish
// each setHosts lag late on w's clock.
func namecheapWorldLagging(t *testing.T, w *testworld.World, lag time.Duration) (*testworld.World, *namecheaptest.Server, *namecheap.Provider) {
	t.Helper()
	nc := namecheaptest.NewServer(namecheaptest.Options{})
	t.Cleanup(nc.Close)
	const clientIP = "203.0.113.7"
	nc.Whitelist(clientIP)
	nc.AddZone("example.com", namecheaptest.ZoneOptions{EmailType: "MX", Hosts: []namecheaptest.Host{
		{Name: "@", Type: "A", Address: "192.0.2.10", TTL: "1799", IsActive: true},
		{Name: "@", Type: "MX", Address: "mx1.example.net.", MXPref: "10", TTL: "1800", IsActive: true},
		{Name: "@", Type: "TXT", Address: "v=spf1 include:mail.example.net ~all", TTL: "1799", IsActive: true},
		{Name: "www", Type: "CNAME", Address: "parkingpage.namecheap.com.", TTL: "1800", IsActive: true},
	}})
	nc.OnCall(func(cmd string) {
		if !strings.EqualFold(cmd, namecheaptest.SetHosts) {
			return
		}
		rrs, _ := w.DNS.Records("example.com.")
		for _, rr := range rrs {
			if rr.Header().Rrtype == dns.TypeTXT && strings.HasPrefix(rr.Header().Name, "_acme-challenge") {
				w.DNS.RemoveRR(rr)
			}
		}
		for _, h := range nc.Hosts("example.com") {
			if h.Type == "TXT" && strings.HasPrefix(h.Name, "_acme-challenge") {
				rr := &dns.TXT{Hdr: dns.RR_Header{Name: h.Name + ".example.com.", Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60}, Txt: []string{h.Address}}
				if _, err := w.DNS.AddRRLate(lag, rr); err != nil {
					t.Errorf("publishing %s: %v", h.Name, err)
				}
			}
		}
	})
	p, err := namecheap.New(namecheap.Config{
		APIUser: nc.APIUser(), APIKey: nc.APIKey(), ClientIP: clientIP, Endpoint: nc.URL(),
		LockDir: t.TempDir(), Limiter: rate.NewLimiter(rate.Inf, 1),
	})
	if err != nil {
		t.Fatal(err)
	}
	return w, nc, p
}

// TestNamecheapEndToEnd: apex + wildcard + 10 subdomains of one zone
// through the Namecheap provider and Pebble. The API calls of the whole
// order (zone check, present, verify, clean up) are the same for 1 name as
// for 12, and every other record of the zone survives unchanged.
func TestNamecheapEndToEnd(t *testing.T) {
	calls := map[int]int{}
	for _, n := range []int{1, 12} {
		t.Run(fmt.Sprintf("names=%d", n), func(t *testing.T) {
			w, nc, p := namecheapWorld(t)
			before := nc.Hosts("example.com")
			f := newFixture(t, w, withProvider(p))
			names := []string{"example.com", "*.example.com"}
			for i := 0; len(names) < n; i++ {
				names = append(names, fmt.Sprintf("s%d.example.com", i))
			}
			names = names[:n]
			nc.ResetCalls()
			res, err := f.obtain(t, context.Background(), names...)
			if err != nil {
				t.Fatalf("Obtain: %v\n%s", err, strings.Join(f.log, "\n"))
			}
			if len(res.Certificate.Leaf.DNSNames) != n {
				t.Fatalf("SANs %v", res.Certificate.Leaf.DNSNames)
			}
			calls[n] = nc.TotalCalls()
			after := nc.Hosts("example.com")
			if len(after) != len(before) {
				t.Fatalf("zone has %d hosts after clean-up, had %d", len(after), len(before))
			}
			for i := range before {
				b, a := before[i], after[i]
				b.HostId, a.HostId = 0, 0 // regenerated on each setHosts, as the real API does
				if a != b {
					t.Errorf("host changed:\n before %+v\n after  %+v", b, a)
				}
			}
			if nc.EmailType("example.com") != "MX" {
				t.Errorf("EmailType = %q", nc.EmailType("example.com"))
			}
		})
	}
	if calls[1] == 0 || calls[1] != calls[12] {
		t.Fatalf("API calls per order: %v; want the same for 1 and 12 names", calls)
	}
	t.Logf("Namecheap API calls per order: %d (1 name) and %d (12 names)", calls[1], calls[12])
}

// TestCase_NC07: a run killed between present and clean-up leaves its TXT
// in the Namecheap zone; the next run removes exactly the journaled value
// (by name and value, never by TTL), and another order's value at the same
// name stays.
func TestCase_NC07(t *testing.T) {
	w, nc, p := namecheapWorld(t)
	f := newFixture(t, w, withProvider(p))
	nc.AddHosts("example.com",
		namecheaptest.Host{Name: "_acme-challenge", Type: "TXT", Address: "left-by-a-killed-run", TTL: "60", IsActive: true},
		namecheaptest.Host{Name: "_acme-challenge", Type: "TXT", Address: "another-orders-value", TTL: "60", IsActive: true},
	)
	if err := f.st.Journal().Add(journalEntryFor("world", "example.com.", "_acme-challenge.example.com.", "left-by-a-killed-run")); err != nil {
		t.Fatal(err)
	}
	n, err := f.is.Sweep(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v", n, err)
	}
	var values []string
	for _, h := range nc.Hosts("example.com") {
		if h.Type == "TXT" && h.Name == "_acme-challenge" {
			values = append(values, h.Address)
		}
	}
	if len(values) != 1 || values[0] != "another-orders-value" {
		t.Fatalf("challenge TXT values after the sweep: %v", values)
	}
	if es, _ := f.st.Journal().Entries(); len(es) != 0 {
		t.Fatalf("journal: %v", es)
	}
	// And a whole order after it still works and leaves nothing.
	if _, err := f.obtain(t, context.Background(), "example.com", "*.example.com"); err != nil {
		t.Fatal(err)
	}
}

// TestNamecheapZoneHoldingOnlyOurRecordKeepsItInTheJournal: in a zone
// that holds nothing but the challenge record, removing it would send
// Namecheap an empty host list, which is never sent. The certificate is
// stored, but the run fails with the clean-up error naming the record and
// the fix, the record stays in the journal, and no "cleaned up" line is
// logged. Once the record is gone from the zone, the next sweep forgets it.
func TestNamecheapZoneHoldingOnlyOurRecordKeepsItInTheJournal(t *testing.T) {
	w, nc, p := namecheapWorld(t)
	nc.SetZoneHosts("example.com", nil)
	f := newFixture(t, w, withProvider(p))
	res, err := f.obtain(t, context.Background(), "example.com")
	if err == nil || res != nil && res.Certificate == nil {
		t.Fatalf("Obtain = %v, %v; want the certificate and a clean-up error", res, err)
	}
	if code := exitcode.Of(err); code != exitcode.DNS {
		t.Errorf("exit code %d, want %d (DNS)", code, exitcode.DNS)
	}
	for _, want := range []string{"clean-up failed", "_acme-challenge TXT", "no host records", "dashboard", "kept in the journal"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q: %v", want, err)
		}
	}
	log := strings.Join(f.log, "\n")
	if strings.Contains(log, "cleaned up") {
		t.Errorf("log claims a clean-up:\n%s", log)
	}
	es, _ := f.st.Journal().Entries()
	if len(es) != 1 || es[0].FQDN != "_acme-challenge.example.com." {
		t.Fatalf("journal: %+v", es)
	}
	if len(nc.Hosts("example.com")) != 1 || nc.Calls("setHosts") != 1 {
		t.Fatalf("zone %+v after %d setHosts", nc.Hosts("example.com"), nc.Calls("setHosts"))
	}
	if n, err := f.is.Sweep(context.Background()); n != 0 || err == nil {
		t.Fatalf("Sweep = %d, %v; want the same refusal", n, err)
	}
	// The user deletes the record in the dashboard (another record is
	// added there too): the next sweep finds nothing to remove and
	// forgets the entry.
	nc.SetZoneHosts("example.com", []namecheaptest.Host{{Name: "@", Type: "A", Address: "192.0.2.10", TTL: "1799", IsActive: true}})
	if n, err := f.is.Sweep(context.Background()); err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v", n, err)
	}
	if es, _ := f.st.Journal().Entries(); len(es) != 0 {
		t.Fatalf("journal: %+v", es)
	}
}
