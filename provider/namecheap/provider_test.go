package namecheap

import (
	"context"
	"testing"

	"github.com/libdns/libdns"

	"github.com/strictacme/strictacme/provider/namecheap/namecheaptest"
)

func TestPresentAndCleanUpKeepZone(t *testing.T) {
	w := newWorld(t, namecheaptest.Options{}, nil)
	w.srv.AddZone("example.org", namecheaptest.ZoneOptions{EmailType: "MX", Hosts: baseZone()})
	before := zoneKeys(w.srv.Hosts("example.org"))
	ctx := context.Background()

	zone, err := w.p.ZoneFor(ctx, "_acme-challenge.www.example.org.")
	if err != nil || zone != "example.org." {
		t.Fatalf("ZoneFor = %q, %v", zone, err)
	}
	recs := []libdns.Record{txt("_acme-challenge.www", "v1"), txt("_acme-challenge", "v2")}
	if _, err := w.p.AppendRecords(ctx, zone, recs); err != nil {
		t.Fatal(err)
	}
	hosts := w.srv.Hosts("example.org")
	if hasTXT(hosts, "_acme-challenge.www", "v1") != 1 || hasTXT(hosts, "_acme-challenge", "v2") != 1 {
		t.Fatalf("records not present: %+v", hosts)
	}
	if _, err := w.p.DeleteRecords(ctx, zone, recs); err != nil {
		t.Fatal(err)
	}
	if after := zoneKeys(w.srv.Hosts("example.org")); !sameKeys(before, after) {
		t.Fatalf("zone changed:\n%v\n%v", before, after)
	}
	if et := w.srv.EmailType("example.org"); et != "MX" {
		t.Fatalf("EmailType = %q", et)
	}
	if got := w.srv.TotalCalls(); got != 7 {
		t.Errorf("calls = %d, want 7 (1 probe + 3 present + 3 clean-up)", got)
	}
}
