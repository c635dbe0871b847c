package testworld

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/libdns/libdns"
	"github.com/miekg/dns"
)

func TestProviderAppendsAndDeletesExactly(t *testing.T) {
	w := Start(t)
	p := w.Provider()
	ctx := context.Background()

	zones, err := p.ListZones(ctx)
	must(t, err)
	if len(zones) != 3 {
		t.Fatalf("zones: %v", zones)
	}
	recs := []libdns.Record{
		libdns.TXT{Name: "_acme-challenge", Text: "one", TTL: time.Minute},
		libdns.TXT{Name: "_acme-challenge", Text: "two", TTL: time.Minute},
		libdns.TXT{Name: "_acme-challenge.www", Text: `quote " and \ backslash`, TTL: time.Minute},
		libdns.Address{Name: "@", IP: mustAddr("192.0.2.7"), TTL: time.Hour},
	}
	got, err := p.AppendRecords(ctx, "example.com.", recs)
	must(t, err)
	if len(got) != 4 {
		t.Fatalf("appended %v", got)
	}
	if w.API.Writes() != 1 || w.API.WritesFor("example.com") != 1 {
		t.Errorf("writes %d, want one batch", w.API.Writes())
	}
	m := exchange(t, w.AuthAddr, rd("_acme-challenge.www.example.com.", dns.TypeTXT))
	if len(m.Answer) != 1 || txtText(m.Answer[0].(*dns.TXT)) != `quote " and \ backslash` {
		t.Fatalf("TXT on the wire: %v", m.Answer)
	}

	// Delete only "one"; "two" stays.
	del, err := p.DeleteRecords(ctx, "example.com.", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "one", TTL: time.Minute}})
	must(t, err)
	if len(del) != 1 {
		t.Fatalf("deleted %v", del)
	}
	m = exchange(t, w.AuthAddr, rd("_acme-challenge.example.com.", dns.TypeTXT))
	if len(m.Answer) != 1 || txtText(m.Answer[0].(*dns.TXT)) != "two" {
		t.Fatalf("after delete: %v", m.Answer)
	}
	// Deleting what is not there deletes nothing.
	del, err = p.DeleteRecords(ctx, "example.com.", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "absent", TTL: time.Minute}})
	if err != nil || len(del) != 0 {
		t.Fatalf("absent: %v, %v", del, err)
	}
	// libdns wildcard delete: empty Data matches any value.
	del, err = p.DeleteRecords(ctx, "example.com.", []libdns.Record{libdns.RR{Name: "_acme-challenge", Type: "TXT"}})
	if err != nil || len(del) != 1 {
		t.Fatalf("wildcard delete: %v, %v", del, err)
	}
	all, err := p.GetRecords(ctx, "example.com.")
	must(t, err)
	var txt, a int
	for _, r := range all {
		switch r.(type) {
		case libdns.TXT:
			txt++
		case libdns.Address:
			a++
		}
	}
	if txt != 1 || a != 3-1 { // the apex A we added + ns1's A
		t.Errorf("left: %v", all)
	}
	if w.API.CallsByMethod("DELETE") != 3 || w.API.Calls() != 1+1+3+1+1 {
		t.Errorf("calls: DELETE %d, total %d", w.API.CallsByMethod("DELETE"), w.API.Calls())
	}
}

func TestAPIFaultsAndAuth(t *testing.T) {
	w := Start(t)
	ctx := context.Background()
	rec := []libdns.Record{libdns.TXT{Name: "x", Text: "v", TTL: time.Minute}}

	bad := NewProvider(w.APIURL, "wrong", w.HTTPClient())
	var apiErr *APIError
	if _, err := bad.GetRecords(ctx, "example.com."); !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnauthorized {
		t.Fatalf("wrong token: %v", err)
	}

	p := w.Provider()
	w.API.FailWrites(2, http.StatusTooManyRequests, 30*time.Second)
	for range 2 {
		_, err := p.AppendRecords(ctx, "example.com.", rec)
		if !errors.As(err, &apiErr) || apiErr.Status != 429 || apiErr.RetryAfter != 30*time.Second {
			t.Fatalf("want 429 with Retry-After 30 s, got %v", err)
		}
	}
	if _, err := p.AppendRecords(ctx, "example.com.", rec); err != nil {
		t.Fatalf("third write: %v", err)
	}
	w.API.FailWrites(1, 0, 0)
	if _, err := p.DeleteRecords(ctx, "example.com.", rec); !errors.As(err, &apiErr) || apiErr.Status != 500 {
		t.Fatalf("want 500, got %v", err)
	}
	if w.API.Writes() != 4 {
		t.Errorf("writes %d, want 4", w.API.Writes())
	}
	if _, err := p.GetRecords(ctx, "nowhere.test."); !errors.As(err, &apiErr) || apiErr.Status != 404 {
		t.Errorf("unknown zone: %v", err)
	}
	if _, err := p.AppendRecords(ctx, "example.com.", []libdns.Record{libdns.RR{Name: "x", Type: "BOGUS", Data: "1"}}); !errors.As(err, &apiErr) || apiErr.Status != 400 {
		t.Errorf("bad type: %v", err)
	}

	w.API.SetLatency(200 * time.Millisecond)
	start := time.Now()
	if _, err := p.ListZones(ctx); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("latency %v", d)
	}
	w.API.ResetCounts()
	if w.API.Calls() != 0 {
		t.Error("ResetCounts")
	}
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
