package delegation

import (
	"context"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/providers"
	"github.com/strictacme/strictacme/internal/testworld"
)

// asked counts every question the caching resolver got about name, of any
// type.
func asked(w *testworld.World, name string) int {
	n := 0
	for _, t := range []uint16{dns.TypeTXT, dns.TypeCNAME, dns.TypeSOA, dns.TypeA, dns.TypeAAAA, dns.TypeNS} {
		n += w.Recursive.QueriesFor(name, t)
	}
	return n
}

// A public CNAME at _acme-challenge (lego / acme-dns style) into a zone a
// configured provider serves is followed without any flag: the provider of
// the challenge name's zone reads its own records, so no resolver hears
// about the challenge name, the write location is printed before the
// write, and the CA validates through the CNAME.
func TestPublicCNAMEIntoServedZoneFollowed(t *testing.T) {
	w := testworld.Start(t)
	cname(t, w, "_acme-challenge.cn.example.com.", "_acme-challenge.acme.example.net.")
	set := twoProviders(t, w)
	d, err := New(Rules{})
	if err != nil {
		t.Fatal(err)
	}
	d.Providers, d.Resolvers = set, doh(t, w)
	var order logBuf
	d.Log = func(l string) { order.add("D " + l) }
	w.Recursive.ResetCounts()
	recs, log, err := obtain(t, w, set, d, "cn.example.com")
	if err != nil {
		t.Fatalf("Obtain: %v\n%s", err, log)
	}
	if len(recs) != 1 || recs[0].Target != "_acme-challenge.acme.example.net." || recs[0].Provider != "challenges" {
		t.Fatalf("record: %+v", recs)
	}
	if !strings.Contains(order.String(), "D delegation: _acme-challenge.cn.example.com. -> CNAME _acme-challenge.acme.example.net. (CNAME chain read from provider primary") {
		t.Errorf("delegation not printed:\n%s", order.String())
	}
	if !strings.Contains(log, "write TXT _acme-challenge.acme.example.net. (for _acme-challenge.cn.example.com.)") {
		t.Errorf("write location not printed:\n%s", log)
	}
	if n := asked(w, "_acme-challenge.cn.example.com."); n != 0 {
		t.Errorf("the caching resolver was asked %d question(s) about the challenge name", n)
	}
	if w.API.WritesFor("example.com.") != 0 {
		t.Errorf("%d write(s) to example.com, want none", w.API.WritesFor("example.com."))
	}
}

// The same CNAME in a zone no configured provider serves (the user's DNS
// host has no API): the resolvers are asked type CNAME at the challenge
// name, which is safe because nothing is ever written there, and never
// anything about the name the record is written at before the write.
func TestPublicCNAMEFromUnservedZoneFollowed(t *testing.T) {
	w := testworld.Start(t)
	cname(t, w, "_acme-challenge.cn.example.com.", "_acme-challenge.acme.example.net.")
	only, err := providers.NewSet(providers.Entry{Name: "challenges", Suffix: "example.net", Provider: w.Provider()})
	if err != nil {
		t.Fatal(err)
	}
	d, _ := New(Rules{})
	d.Providers, d.Resolvers = only, doh(t, w)
	w.Recursive.ResetCounts()
	got, err := d.Delegate(context.Background(), "_acme-challenge.cn.example.com.")
	if err != nil || got != "_acme-challenge.acme.example.net." {
		t.Fatalf("Delegate = %q, %v", got, err)
	}
	if q := w.Recursive.QueriesFor("_acme-challenge.cn.example.com.", dns.TypeCNAME); q != 1 {
		t.Errorf("%d CNAME question(s) at the challenge name, want 1", q)
	}
	if q := w.Recursive.QueriesFor("_acme-challenge.cn.example.com.", dns.TypeTXT); q != 0 {
		t.Errorf("%d TXT question(s) at the challenge name before the write", q)
	}
	if n := asked(w, "_acme-challenge.acme.example.net."); n != 0 {
		t.Errorf("the name the record is written at was asked about %d time(s) before the write", n)
	}
}

// A public CNAME at _acme-challenge into a zone no configured provider
// serves: the order stops before any write (and before the order is
// placed) with exit code 6, naming the CNAME, the target zone and the
// config keys that fix it.
func TestPublicCNAMEIntoUnservedZoneStoppedBeforeWrite(t *testing.T) {
	w := testworld.Start(t)
	cname(t, w, "_acme-challenge.www.example.com.", "_acme-challenge.www.example.net.")
	only, err := providers.NewSet(providers.Entry{Name: "primary", Suffix: "example.com", Provider: w.Provider()})
	if err != nil {
		t.Fatal(err)
	}
	d, _ := New(Rules{})
	d.Providers, d.Resolvers = only, doh(t, w)
	w.API.ResetCounts()
	_, log, err := obtain(t, w, only, d, "www.example.com")
	if code := exitcode.Of(err); code != exitcode.Missing {
		t.Fatalf("exit code %d (%v), want %d\n%s", code, err, exitcode.Missing, log)
	}
	for _, want := range []string{"_acme-challenge.www.example.com. -> CNAME _acme-challenge.www.example.net.", "zone example.net", `zones = ["example.net"]`, "nothing was written"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if n := w.API.Writes(); n != 0 {
		t.Errorf("%d provider write(s), want none", n)
	}
	if strings.Contains(log, "order ") {
		t.Errorf("an order was placed:\n%s", log)
	}
}

// A wildcard CNAME beside a zone the provider can read is not followed:
// the provider holds no record at the challenge name, and once the TXT is
// written there the name exists and the wildcard no longer applies to it
// (RFC 4592 §2.2.1), so the CA sees the TXT.
func TestWildcardCNAMEBesideReadableZoneIgnored(t *testing.T) {
	w := testworld.Start(t)
	cname(t, w, "*.example.com.", "catchall.example.net.")
	set := twoProviders(t, w)
	d, _ := New(Rules{})
	d.Providers, d.Resolvers = set, doh(t, w)
	recs, log, err := obtain(t, w, set, d, "www.example.com")
	if err != nil {
		t.Fatalf("Obtain: %v\n%s", err, log)
	}
	if recs[0].Target != "_acme-challenge.www.example.com." {
		t.Fatalf("record: %+v", recs[0])
	}
}
