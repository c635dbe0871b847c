package dnsserver

import (
	"testing"

	"github.com/miekg/dns"
)

// zoneView adds the server's own TXT values at zone names to fakeView.
type zoneView struct {
	fakeView
	zone map[string][]string
}

func (z *zoneView) ZoneTXT(name string) []string { return z.zone[name] }

// The server's own values (its API certificate's dns-01 challenges) are
// answered at any name inside the zone: at a new name, at the apex next to
// its static records, and below a static name.
func TestZoneTXT(t *testing.T) {
	zv := &zoneView{fakeView: fakeView{m: map[string][]string{}}, zone: map[string][]string{
		"_acme-challenge":     {"tok1", "tok2"},
		"@":                   {"apex"},
		"_acme-challenge.ns1": {"tok3"},
	}}
	h, err := NewHandler(Config{Zone: "auth.example.org", Records: testRecords}, zv)
	if err != nil {
		t.Fatal(err)
	}
	txts := func(m *dns.Msg) []string {
		var out []string
		for _, rr := range m.Answer {
			if t, ok := rr.(*dns.TXT); ok {
				out = append(out, t.Txt...)
			}
		}
		return out
	}
	m := ask(h, "_ACME-challenge.auth.example.org.", dns.TypeTXT)
	if got := txts(m); m.Rcode != dns.RcodeSuccess || !m.Authoritative || len(got) != 2 || got[0] != "tok1" || m.Answer[0].Header().Name != "_ACME-challenge.auth.example.org." {
		t.Fatalf("own TXT: %v", m)
	}
	if m := ask(h, "_acme-challenge.auth.example.org.", dns.TypeA); m.Rcode != dns.RcodeSuccess || len(m.Answer) != 0 || len(m.Ns) != 1 {
		t.Fatalf("own name, other type: want NODATA, got %v", m)
	}
	if got := txts(ask(h, "_acme-challenge.ns1.auth.example.org.", dns.TypeTXT)); len(got) != 1 || got[0] != "tok3" {
		t.Fatalf("below a static name: %v", got)
	}
	if got := txts(ask(h, "auth.example.org.", dns.TypeTXT)); len(got) != 1 || got[0] != "apex" {
		t.Fatalf("apex TXT: %v", got)
	}
	if m := ask(h, "auth.example.org.", dns.TypeSOA); len(m.Answer) != 1 {
		t.Fatalf("apex SOA still answered: %v", m)
	}
	delete(zv.zone, "_acme-challenge")
	if m := ask(h, "_acme-challenge.auth.example.org.", dns.TypeTXT); m.Rcode != dns.RcodeNameError {
		t.Fatalf("without values the name does not exist: %v", m)
	}
}
