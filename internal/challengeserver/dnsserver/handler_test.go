package dnsserver

import (
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// fakeView is a Lookup over a map (label → values; nil slice = registered,
// no values).
type fakeView struct {
	mu sync.Mutex
	m  map[string][]string
}

func (f *fakeView) Lookup(label string) ([]string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.m[label]
	return v, ok
}

// AppendLive makes the fake a LiveAppender, so that questions over a
// socket take the fast path.
func (f *fakeView) AppendLive(dst []byte, ends []int, label string) ([]byte, []int, bool) {
	txt, ok := f.Lookup(label)
	for _, t := range txt {
		dst = append(dst, t...)
		ends = append(ends, len(dst))
	}
	return dst, ends, ok
}

const sub = "d420c923-bbd7-4056-ab64-c3ca54c9b3cf"

var testRecords = []string{
	"@ NS ns1",
	"@ NS ns2.auth.example.org.",
	"ns1 A 192.0.2.53",
	"ns1 AAAA 2001:db8::53",
	"ns2 300 A 192.0.2.54",
	"@ CAA 0 issue \"letsencrypt.org\"",
	"@ A 192.0.2.80",
	"www CNAME auth.example.org.",
	"a.deep.name TXT \"x\"",
}

func newTestHandler(t testing.TB, vals map[string][]string) *Handler {
	t.Helper()
	if vals == nil {
		vals = map[string][]string{sub: {"one", "two", "three"}, "fresh": nil}
	}
	h, err := NewHandler(Config{Zone: "Auth.Example.org", Admin: "hostmaster@example.org", Records: testRecords}, &fakeView{m: vals})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func ask(h *Handler, name string, qtype uint16) *dns.Msg {
	q := new(dns.Msg)
	q.SetQuestion(name, qtype)
	return h.Answer(q, true)
}

func TestTXTManyValuesCasePreserved(t *testing.T) {
	h := newTestHandler(t, nil)
	name := strings.ToUpper(sub[:4]) + sub[4:] + ".aUtH.example.ORG."
	m := ask(h, name, dns.TypeTXT)
	if m.Rcode != dns.RcodeSuccess || !m.Authoritative || len(m.Answer) != 3 {
		t.Fatalf("%v", m)
	}
	for _, rr := range m.Answer {
		if rr.Header().Name != name || rr.Header().Ttl != DefaultTXTTTL {
			t.Fatalf("owner/ttl %v", rr)
		}
	}
	if m.Question[0].Name != name {
		t.Fatal("question case changed")
	}
}

func TestNegativeAnswers(t *testing.T) {
	h := newTestHandler(t, nil)
	for _, tc := range []struct {
		name  string
		qtype uint16
		rcode int
		aa    bool
		soa   bool
		n     int
	}{
		{"fresh.auth.example.org.", dns.TypeTXT, dns.RcodeSuccess, true, true, 0}, // before the first update
		{sub + ".auth.example.org.", dns.TypeA, dns.RcodeSuccess, true, true, 0},
		{sub + ".auth.example.org.", dns.TypeAAAA, dns.RcodeSuccess, true, true, 0},
		{sub + ".auth.example.org.", dns.TypeCAA, dns.RcodeSuccess, true, true, 0},
		{sub + ".auth.example.org.", dns.TypeSOA, dns.RcodeSuccess, true, true, 0},
		{sub + ".auth.example.org.", dns.TypeCNAME, dns.RcodeSuccess, true, true, 0},
		{sub + ".auth.example.org.", dns.TypeANY, dns.RcodeSuccess, true, false, 1}, // RFC 8482 HINFO
		{"auth.example.org.", dns.TypeTXT, dns.RcodeSuccess, true, true, 0},
		{"deep.name.auth.example.org.", dns.TypeA, dns.RcodeSuccess, true, true, 0}, // empty non-terminal
		{"unknown.auth.example.org.", dns.TypeTXT, dns.RcodeNameError, true, true, 0},
		{"x." + sub + ".auth.example.org.", dns.TypeTXT, dns.RcodeNameError, true, true, 0},
		{sub + ".example.com.", dns.TypeTXT, dns.RcodeRefused, false, false, 0}, // first label matches, other zone
		{"www.example.com.", dns.TypeA, dns.RcodeRefused, false, false, 0},
		{"example.org.", dns.TypeNS, dns.RcodeRefused, false, false, 0},
		{"auth.example.org.", dns.TypeAXFR, dns.RcodeRefused, false, false, 0},
	} {
		m := ask(h, tc.name, tc.qtype)
		hasSOA := len(m.Ns) == 1 && m.Ns[0].Header().Rrtype == dns.TypeSOA
		if m.Rcode != tc.rcode || m.Authoritative != tc.aa || hasSOA != tc.soa || len(m.Answer) != tc.n {
			t.Errorf("%s %s: got %s aa=%v soa=%v answers=%d", tc.name, dns.TypeToString[tc.qtype], dns.RcodeToString[m.Rcode], m.Authoritative, hasSOA, len(m.Answer))
		}
		if hasSOA && (m.Ns[0].Header().Ttl != DefaultNegativeTTL || m.Ns[0].(*dns.SOA).Minttl != DefaultNegativeTTL) {
			t.Errorf("%s: negative TTL %v", tc.name, m.Ns[0])
		}
	}
}

func TestStaticRecords(t *testing.T) {
	h := newTestHandler(t, nil)
	m := ask(h, "AUTH.example.org.", dns.TypeNS)
	if len(m.Answer) != 2 || len(m.Extra) != 3 || m.Answer[0].Header().Name != "AUTH.example.org." {
		t.Fatalf("NS: %v", m)
	}
	m = ask(h, "auth.example.org.", dns.TypeSOA)
	soa, ok := m.Answer[0].(*dns.SOA)
	if !ok || soa.Ns != "ns1.auth.example.org." || soa.Mbox != "hostmaster.example.org." || soa.Serial == 0 {
		t.Fatalf("SOA: %v", m)
	}
	for _, tc := range []struct {
		name  string
		qtype uint16
		want  string
	}{
		{"auth.example.org.", dns.TypeCAA, "letsencrypt.org"},
		{"auth.example.org.", dns.TypeA, "192.0.2.80"},
		{"ns1.auth.example.org.", dns.TypeAAAA, "2001:db8::53"},
		{"www.auth.example.org.", dns.TypeA, "CNAME"},
	} {
		m := ask(h, tc.name, tc.qtype)
		if len(m.Answer) != 1 || !strings.Contains(m.Answer[0].String(), tc.want) {
			t.Errorf("%s: %v", tc.name, m.Answer)
		}
	}
	// Same config, same serial (several instances agree).
	h2 := newTestHandler(t, nil)
	if h2.SOA().Serial != h.SOA().Serial {
		t.Fatal("serial differs between instances")
	}
}

func TestEDNSAndOpcodes(t *testing.T) {
	h := newTestHandler(t, nil)
	q := new(dns.Msg)
	q.SetQuestion(sub+".auth.example.org.", dns.TypeTXT)
	q.SetEdns0(4096, true)
	m := h.Answer(q, true)
	opt := m.IsEdns0()
	if opt == nil || !opt.Do() || opt.UDPSize() != UDPSize || m.Rcode != dns.RcodeSuccess {
		t.Fatalf("EDNS: %v", m)
	}
	q.IsEdns0().SetVersion(1)
	m = h.Answer(q, true)
	if m.Rcode != dns.RcodeBadVers || m.IsEdns0() == nil {
		t.Fatalf("BADVERS: %v", m)
	}
	if _, err := m.Pack(); err != nil {
		t.Fatal(err)
	}
	for _, op := range []int{dns.OpcodeUpdate, dns.OpcodeNotify, dns.OpcodeStatus} {
		q := new(dns.Msg)
		q.SetQuestion("auth.example.org.", dns.TypeSOA)
		q.Opcode = op
		if m := h.Answer(q, true); m.Rcode != dns.RcodeNotImplemented {
			t.Errorf("opcode %d: %s", op, dns.RcodeToString[m.Rcode])
		}
	}
	q = new(dns.Msg)
	q.SetQuestion("version.bind.", dns.TypeTXT)
	q.Question[0].Qclass = dns.ClassCHAOS
	if m := h.Answer(q, true); m.Rcode != dns.RcodeRefused {
		t.Errorf("CHAOS: %s", dns.RcodeToString[m.Rcode])
	}
}

func TestTruncation(t *testing.T) {
	many := make([]string, 40)
	for i := range many {
		many[i] = strings.Repeat(string(rune('a'+i%26)), 43)
	}
	h := newTestHandler(t, map[string][]string{sub: many})
	q := new(dns.Msg)
	q.SetQuestion(sub+".auth.example.org.", dns.TypeTXT)
	if m := h.Answer(q, true); !m.Truncated || m.Len() > 512 {
		t.Fatalf("UDP without EDNS: tc=%v len=%d", m.Truncated, m.Len())
	}
	if m := h.Answer(q, false); m.Truncated || len(m.Answer) != 40 {
		t.Fatalf("TCP: tc=%v answers=%d", m.Truncated, len(m.Answer))
	}
}

func TestBadConfig(t *testing.T) {
	for _, rec := range []string{"@ SOA a. b. 1 2 3 4 5", "www.example.com. A 192.0.2.1", "@ A notanip", "x CNAME y\nx A 192.0.2.1"} {
		if _, err := NewHandler(Config{Zone: "auth.example.org", Records: strings.Split(rec, "\n")}, &fakeView{}); err == nil {
			t.Errorf("%q accepted", rec)
		}
	}
}

// Real listeners on IPv4 and IPv6 loopback, UDP and TCP.
func TestServeUDPAndTCP(t *testing.T) {
	h := newTestHandler(t, nil)
	addrs := []string{"127.0.0.1:0", "[::1]:0"}
	srv, err := Listen(addrs, h)
	if err != nil {
		if strings.Contains(err.Error(), "::1") {
			srv, err = Listen(addrs[:1], h)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	defer srv.Shutdown(t.Context())
	for _, a := range srv.Addrs() {
		c := &dns.Client{Net: a.Network()}
		q := new(dns.Msg)
		q.SetQuestion(sub+".auth.example.org.", dns.TypeTXT)
		m, _, err := c.Exchange(q, a.String())
		if err != nil || len(m.Answer) != 3 {
			t.Fatalf("%s %s: %v %v", a.Network(), a, m, err)
		}
	}
}

// AD01: a resolver asked SOA/CNAME/TXT at a registered name before any
// update; the answer must be NOERROR/NODATA (cacheable for the short negative
// TTL only), never NXDOMAIN.
func TestCase_AD01(t *testing.T) {
	h := newTestHandler(t, map[string][]string{sub: nil})
	for _, qt := range []uint16{dns.TypeSOA, dns.TypeCNAME, dns.TypeTXT, dns.TypeA, dns.TypeAAAA, dns.TypeCAA, dns.TypeNS} {
		m := ask(h, sub+".auth.example.org.", qt)
		if m.Rcode != dns.RcodeSuccess || len(m.Answer) != 0 || len(m.Ns) != 1 || m.Ns[0].Header().Ttl > 60 {
			t.Errorf("%s: %s %v", dns.TypeToString[qt], dns.RcodeToString[m.Rcode], m.Ns)
		}
	}
}

// AD02: the negative TTL is configurable and low (default 60 s); NXDOMAIN
// and NODATA carry an SOA whose TTL and MINIMUM are that value.
func TestCase_AD02(t *testing.T) {
	h, err := NewHandler(Config{Zone: "auth.example.org", NegativeTTL: 5}, &fakeView{m: map[string][]string{sub: nil}})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"nope.auth.example.org.", sub + ".auth.example.org."} {
		m := ask(h, name, dns.TypeTXT)
		soa := m.Ns[0].(*dns.SOA)
		if soa.Hdr.Ttl != 5 || soa.Minttl != 5 {
			t.Errorf("%s: %v", name, soa)
		}
	}
	if def := newTestHandler(t, nil).SOA(); def.Minttl != 60 || def.Hdr.Ttl != 60 {
		t.Errorf("default negative TTL %v", def)
	}
}
