package dnsserver

import (
	"testing"

	"github.com/miekg/dns"
)

// FuzzDNSHandler feeds any message miekg/dns can parse to the handler: it
// must not panic, the reply must pack, keep the ID, and fit the UDP size.
func FuzzDNSHandler(f *testing.F) {
	for _, q := range []struct {
		name  string
		qtype uint16
		edns  bool
	}{
		{sub + ".auth.example.org.", dns.TypeTXT, false},
		{"AUTH.example.org.", dns.TypeANY, true},
		{"nope.auth.example.org.", dns.TypeA, true},
		{"example.com.", dns.TypeNS, false},
		{"deep.name.auth.example.org.", dns.TypeAXFR, false},
	} {
		m := new(dns.Msg)
		m.SetQuestion(q.name, q.qtype)
		if q.edns {
			m.SetEdns0(4096, true)
		}
		b, _ := m.Pack()
		f.Add(b)
	}
	many := make([]string, 30)
	for i := range many {
		many[i] = "LHDhK3oGRvkiefQnx7OOczTY5Tic_xZ6HcMOc_gmtoM"
	}
	h := newTestHandler(f, map[string][]string{sub: many, "fresh": nil})
	f.Fuzz(func(t *testing.T, b []byte) {
		req := new(dns.Msg)
		if err := req.Unpack(b); err != nil {
			return
		}
		for _, udp := range []bool{true, false} {
			m := h.Answer(req, udp)
			out, err := m.Pack()
			if err != nil {
				t.Fatalf("reply does not pack: %v\n%v", err, m)
			}
			if m.Id != req.Id || !m.Response {
				t.Fatalf("bad header %v", m)
			}
			if udp {
				limit := dns.MinMsgSize
				if o := req.IsEdns0(); o != nil && o.Version() == 0 && int(o.UDPSize()) > limit {
					limit = min(int(o.UDPSize()), UDPSize)
				}
				if len(out) > limit {
					t.Fatalf("UDP reply of %d bytes exceeds %d", len(out), limit)
				}
			}
		}
	})
}
