package testworld

import (
	"context"
	"testing"
	"time"

	"github.com/libdns/libdns"
	"github.com/miekg/dns"
)

// TestServingLagAcceptsAtOnceServesLater: with a serving lag the API
// confirms and lists a write at once, the authoritative server answers
// NXDOMAIN until the lag has passed on the world's clock and the record
// after it, and the caching resolver keeps the early NXDOMAIN for the
// zone's negative TTL; it records when each question came.
func TestServingLagAcceptsAtOnceServesLater(t *testing.T) {
	w := Start(t, Options{FreezeClock: true, SOATTL: 3601, SOAMinimum: 3601})
	w.API.SetServingLag(time.Minute)
	p := w.Provider()
	ctx := context.Background()
	const fqdn = "_acme-challenge.example.com."
	if _, err := p.AppendRecords(ctx, "example.com.", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "v", TTL: time.Minute}}); err != nil {
		t.Fatal(err)
	}
	written := w.Clock.Now()
	recs, err := p.GetRecords(ctx, "example.com.")
	listed := false
	for _, r := range recs {
		listed = listed || (r.RR().Type == "TXT" && r.RR().Name == "_acme-challenge" && r.RR().Data == "v")
	}
	if err != nil || !listed {
		t.Fatalf("API lists %v, %v; want the accepted record at once", recs, err)
	}
	if m := exchange(t, w.AuthAddr, rd(fqdn, dns.TypeTXT)); m.Rcode != dns.RcodeNameError {
		t.Fatalf("authoritative answer before the lag: %s", dns.RcodeToString[m.Rcode])
	}
	if m := exchange(t, w.ResolverAddr, rd(fqdn, dns.TypeTXT)); m.Rcode != dns.RcodeNameError {
		t.Fatalf("resolver answer before the lag: %s", dns.RcodeToString[m.Rcode])
	}
	<-w.Clock.After(time.Minute)
	if m := exchange(t, w.AuthAddr, rd(fqdn, dns.TypeTXT)); m.Rcode != dns.RcodeSuccess || len(m.Answer) != 1 {
		t.Fatalf("authoritative answer after the lag: %v", m)
	}
	if from, ok := w.DNS.ServedFrom(fqdn, dns.TypeTXT); !ok || !from.Equal(written.Add(time.Minute)) {
		t.Errorf("ServedFrom = %s, %v; want the write time plus the lag", from, ok)
	}
	if m := exchange(t, w.ResolverAddr, rd(fqdn, dns.TypeTXT)); m.Rcode != dns.RcodeNameError {
		t.Errorf("the caching resolver forgot its negative answer after a minute: %s", dns.RcodeToString[m.Rcode])
	}
	times := w.Recursive.QueryTimes(fqdn, dns.TypeTXT)
	if len(times) != 2 || !times[0].Equal(written) || !times[1].Equal(written.Add(time.Minute)) {
		t.Errorf("QueryTimes = %v; want the two questions at the write and a minute later", times)
	}
	// A delete before the name servers serve the write removes it for good.
	w.API.SetServingLag(time.Hour)
	if _, err := p.AppendRecords(ctx, "example.com.", []libdns.Record{libdns.TXT{Name: "late", Text: "x", TTL: time.Minute}}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.DeleteRecords(ctx, "example.com.", []libdns.Record{libdns.TXT{Name: "late", Text: "x", TTL: time.Minute}}); err != nil {
		t.Fatal(err)
	}
	<-w.Clock.After(2 * time.Hour)
	if m := exchange(t, w.AuthAddr, rd("late.example.com.", dns.TypeTXT)); m.Rcode != dns.RcodeNameError {
		t.Errorf("a record deleted before it was served appeared later: %v", m)
	}
}
