package testworld

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func rd(name string, qtype uint16) *dns.Msg {
	q := new(dns.Msg)
	q.SetQuestion(name, qtype)
	return q
}

func TestAuthoritativeNXDOMAINvsNODATA(t *testing.T) {
	w := Start(t)
	must(t, w.DNS.Set("a.b.example.com.", dns.TypeA, 60, "192.0.2.1"))

	for _, tc := range []struct {
		name  string
		qtype uint16
		rcode int
		n     int
	}{
		{"a.b.example.com.", dns.TypeA, dns.RcodeSuccess, 1},
		{"A.B.Example.COM.", dns.TypeA, dns.RcodeSuccess, 1},
		{"a.b.example.com.", dns.TypeTXT, dns.RcodeSuccess, 0}, // NODATA
		{"b.example.com.", dns.TypeA, dns.RcodeSuccess, 0},     // empty non-terminal
		{"c.example.com.", dns.TypeA, dns.RcodeNameError, 0},
		{"x.a.b.example.com.", dns.TypeA, dns.RcodeNameError, 0},
	} {
		m := exchange(t, w.AuthAddr, rd(tc.name, tc.qtype))
		if m.Rcode != tc.rcode || len(m.Answer) != tc.n || !m.Authoritative {
			t.Errorf("%s %s: rcode %s, %d answers, AA %v; want %s, %d, AA", tc.name, dns.TypeToString[tc.qtype],
				dns.RcodeToString[m.Rcode], len(m.Answer), m.Authoritative, dns.RcodeToString[tc.rcode], tc.n)
		}
		if tc.n == 0 {
			if len(m.Ns) != 1 || m.Ns[0].Header().Rrtype != dns.TypeSOA {
				t.Errorf("%s: negative answer without SOA in authority: %v", tc.name, m.Ns)
			}
		}
	}
	m := exchange(t, w.AuthAddr, rd("example.org.", dns.TypeA))
	if m.Rcode != dns.RcodeRefused || m.Authoritative {
		t.Errorf("outside zones: %s AA %v, want REFUSED", dns.RcodeToString[m.Rcode], m.Authoritative)
	}
	if got := w.DNS.QueriesFor("a.b.example.com.", dns.TypeA); got != 2 {
		t.Errorf("QueriesFor = %d, want 2 (case-insensitive)", got)
	}
	w.DNS.ResetCounts()
	if w.DNS.Queries() != 0 {
		t.Error("ResetCounts did not reset")
	}
}

func TestAuthoritativeOverTCPAndLargeTXT(t *testing.T) {
	w := Start(t)
	long := strings.Repeat("x", 600)
	var values []string
	for i := range 8 {
		values = append(values, string(rune('a'+i))+long)
	}
	must(t, w.DNS.Set("big.example.com.", dns.TypeTXT, 60, values...))
	// UDP without EDNS(0) is truncated; TCP carries it whole.
	m := exchange(t, w.AuthAddr, rd("big.example.com.", dns.TypeTXT))
	if !m.Truncated {
		t.Errorf("UDP answer of %d RRs not truncated", len(m.Answer))
	}
	c := &dns.Client{Net: "tcp", Timeout: 5 * time.Second}
	m, _, err := c.Exchange(rd("big.example.com.", dns.TypeTXT), w.AuthAddr)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Answer) != 8 {
		t.Fatalf("TCP: %d answers", len(m.Answer))
	}
	seen := map[string]bool{}
	for _, rr := range m.Answer {
		seen[txtText(rr.(*dns.TXT))] = true
	}
	for _, v := range values {
		if !seen[v] {
			t.Errorf("TXT of %d octets starting %q lost over TCP", len(v), v[:1])
		}
	}
	// The caching resolver falls back to TCP upstream.
	m = exchange(t, w.ResolverAddr, func() *dns.Msg { q := rd("big.example.com.", dns.TypeTXT); q.SetEdns0(65000, false); return q }())
	if len(m.Answer) != 8 {
		t.Errorf("resolver: %d answers, truncated %v", len(m.Answer), m.Truncated)
	}
}

func TestWildcard(t *testing.T) {
	w := Start(t)
	must(t, w.DNS.Set("*.x.example.com.", dns.TypeTXT, 60, "wild"))
	must(t, w.DNS.Set("host.x.example.com.", dns.TypeA, 60, "192.0.2.9"))
	for _, tc := range []struct {
		name  string
		qtype uint16
		rcode int
		txt   string
	}{
		{"a.x.example.com.", dns.TypeTXT, dns.RcodeSuccess, "wild"},
		{"deep.a.x.example.com.", dns.TypeTXT, dns.RcodeSuccess, "wild"},
		{"*.x.example.com.", dns.TypeTXT, dns.RcodeSuccess, "wild"},
		{"host.x.example.com.", dns.TypeTXT, dns.RcodeSuccess, ""},       // name exists: no wildcard (RFC 4592 §2.2.1)
		{"sub.host.x.example.com.", dns.TypeTXT, dns.RcodeNameError, ""}, // closest encloser host.x has no wildcard
		{"x.example.com.", dns.TypeTXT, dns.RcodeSuccess, ""},            // empty non-terminal
		{"a.x.example.com.", dns.TypeA, dns.RcodeSuccess, ""},            // wildcard NODATA
	} {
		m := exchange(t, w.ResolverAddr, rd(tc.name, tc.qtype))
		got := ""
		if len(m.Answer) == 1 {
			got = txtText(m.Answer[0].(*dns.TXT))
			if !strings.EqualFold(m.Answer[0].Header().Name, tc.name) {
				t.Errorf("%s: owner %s, want the query name", tc.name, m.Answer[0].Header().Name)
			}
		}
		if m.Rcode != tc.rcode || got != tc.txt {
			t.Errorf("%s %s: %s %q, want %s %q", tc.name, dns.TypeToString[tc.qtype], dns.RcodeToString[m.Rcode], got, dns.RcodeToString[tc.rcode], tc.txt)
		}
	}
}

func TestCNAMEChainAcrossZones(t *testing.T) {
	w := Start(t)
	must(t, w.DNS.Set("_acme-challenge.example.com.", dns.TypeCNAME, 60, "hop.example.net."))
	must(t, w.DNS.Set("hop.example.net.", dns.TypeCNAME, 60, "final.xn--bcher-kva.example."))
	must(t, w.DNS.Set("final.xn--bcher-kva.example.", dns.TypeTXT, 60, "token"))

	m := exchange(t, w.ResolverAddr, rd("_acme-challenge.example.com.", dns.TypeTXT))
	if m.Rcode != dns.RcodeSuccess || len(m.Answer) != 3 {
		t.Fatalf("chain: %v", m)
	}
	if _, ok := m.Answer[2].(*dns.TXT); !ok {
		t.Fatalf("last answer is %T", m.Answer[2])
	}
	// Authoritative answers only the CNAME.
	m = exchange(t, w.AuthAddr, rd("_acme-challenge.example.com.", dns.TypeTXT))
	if len(m.Answer) != 1 || m.Answer[0].Header().Rrtype != dns.TypeCNAME {
		t.Errorf("authoritative: %v", m.Answer)
	}
	// Chain into a missing name: NXDOMAIN with the CNAMEs (RFC 6604).
	must(t, w.DNS.Set("dangling.example.com.", dns.TypeCNAME, 60, "nothing.example.net."))
	m = exchange(t, w.ResolverAddr, rd("dangling.example.com.", dns.TypeTXT))
	if m.Rcode != dns.RcodeNameError || len(m.Answer) != 1 || len(m.Ns) != 1 {
		t.Errorf("dangling: %v", m)
	}
	// Chain out of every zone: SERVFAIL.
	must(t, w.DNS.Set("out.example.com.", dns.TypeCNAME, 60, "elsewhere.invalid."))
	m = exchange(t, w.ResolverAddr, rd("out.example.com.", dns.TypeTXT))
	if m.Rcode != dns.RcodeServerFailure {
		t.Errorf("out of zones: %s", dns.RcodeToString[m.Rcode])
	}
	// A CNAME next to other data is refused.
	if err := w.DNS.Add("_acme-challenge.example.com.", dns.TypeTXT, 60, "x"); err == nil {
		t.Error("CNAME and TXT at one name accepted")
	}
}

func TestCNAMELoopAndLongChain(t *testing.T) {
	w := Start(t)
	must(t, w.DNS.Set("a.example.com.", dns.TypeCNAME, 60, "b.example.net."))
	must(t, w.DNS.Set("b.example.net.", dns.TypeCNAME, 60, "a.example.com."))
	m := exchange(t, w.ResolverAddr, rd("a.example.com.", dns.TypeTXT))
	if m.Rcode != dns.RcodeServerFailure {
		t.Errorf("loop: %s", dns.RcodeToString[m.Rcode])
	}
	// MaxCNAMEHops hops work, one more fails.
	for i := range MaxCNAMEHops + 1 {
		must(t, w.DNS.Set(hopName(i), dns.TypeCNAME, 60, hopName(i+1)))
	}
	must(t, w.DNS.Set(hopName(MaxCNAMEHops+1), dns.TypeTXT, 60, "end"))
	if m := exchange(t, w.ResolverAddr, rd(hopName(1), dns.TypeTXT)); m.Rcode != dns.RcodeSuccess || len(m.Answer) != MaxCNAMEHops+1 {
		t.Errorf("%d hops: %s, %d answers", MaxCNAMEHops, dns.RcodeToString[m.Rcode], len(m.Answer))
	}
	if m := exchange(t, w.ResolverAddr, rd(hopName(0), dns.TypeTXT)); m.Rcode != dns.RcodeServerFailure {
		t.Errorf("%d hops: %s, want SERVFAIL", MaxCNAMEHops+1, dns.RcodeToString[m.Rcode])
	}
}

func hopName(i int) string { return "h" + string(rune('a'+i)) + ".example.net." }

func TestNegativeCachingHoldsUntilSOAMinimum(t *testing.T) {
	w := Start(t, Options{FreezeClock: true, SOATTL: 3600, SOAMinimum: 120})
	name := "_acme-challenge.example.com."
	rcode, err := w.Recursive.Prime(name, dns.TypeTXT)
	if err != nil || rcode != dns.RcodeNameError {
		t.Fatalf("Prime: %s, %v", dns.RcodeToString[rcode], err)
	}
	must(t, w.DNS.Set(name, dns.TypeTXT, 60, "token"))

	m := exchange(t, w.ResolverAddr, rd(name, dns.TypeTXT))
	if m.Rcode != dns.RcodeNameError {
		t.Fatalf("right after the write: %s, want cached NXDOMAIN", dns.RcodeToString[m.Rcode])
	}
	if soa := m.Ns[0].(*dns.SOA); soa.Hdr.Ttl != 120 {
		t.Errorf("negative TTL %d, want min(SOA TTL, MINIMUM) = 120", soa.Hdr.Ttl)
	}
	w.Clock.Advance(119 * time.Second)
	m = exchange(t, w.ResolverAddr, rd(name, dns.TypeTXT))
	if m.Rcode != dns.RcodeNameError || m.Ns[0].Header().Ttl != 1 {
		t.Fatalf("at 119 s: %s, TTL %d", dns.RcodeToString[m.Rcode], m.Ns[0].Header().Ttl)
	}
	// The validating resolver has no cache: it sees the record at once.
	if m := exchange(t, w.ValidatingAddr, rd(name, dns.TypeTXT)); len(m.Answer) != 1 {
		t.Errorf("validating resolver: %v", m)
	}
	w.Recursive.Advance(time.Second)
	m = exchange(t, w.ResolverAddr, rd(name, dns.TypeTXT))
	if m.Rcode != dns.RcodeSuccess || len(m.Answer) != 1 {
		t.Fatalf("after the SOA minimum: %v", m)
	}
	// Positive answers are cached for their TTL, counting down.
	must(t, w.DNS.Set(name, dns.TypeTXT, 60, "changed"))
	w.Clock.Advance(59 * time.Second)
	m = exchange(t, w.ResolverAddr, rd(name, dns.TypeTXT))
	if got := txtText(m.Answer[0].(*dns.TXT)); got != "token" || m.Answer[0].Header().Ttl != 1 {
		t.Errorf("cached: %q TTL %d", got, m.Answer[0].Header().Ttl)
	}
	w.Recursive.Flush()
	if w.Recursive.Cached(name, dns.TypeTXT) {
		t.Error("Flush left the entry")
	}
	m = exchange(t, w.ResolverAddr, rd(name, dns.TypeTXT))
	if got := txtText(m.Answer[0].(*dns.TXT)); got != "changed" {
		t.Errorf("after Flush: %q", got)
	}
}

func TestNoRDPolicies(t *testing.T) {
	for _, tc := range []struct {
		policy NoRDPolicy
		rcode  int
	}{
		{NoRDRefuse, dns.RcodeRefused},
		{NoRDNXDomain, dns.RcodeNameError},
		{NoRDAnswer, dns.RcodeSuccess},
	} {
		w := Start(t, Options{NoRD: tc.policy})
		must(t, w.DNS.Set("www.example.com.", dns.TypeA, 60, "192.0.2.1"))
		q := rd("www.example.com.", dns.TypeA)
		q.RecursionDesired = false
		if m := exchange(t, w.ResolverAddr, q); m.Rcode != tc.rcode {
			t.Errorf("policy %d: %s, want %s", tc.policy, dns.RcodeToString[m.Rcode], dns.RcodeToString[tc.rcode])
		}
		if m := dohQuery(t, w.HTTPClient(), w.DoHURL, "POST", q); m.Rcode != tc.rcode {
			t.Errorf("policy %d over DoH: %s", tc.policy, dns.RcodeToString[m.Rcode])
		}
	}
}

func TestDoHEndpointKinds(t *testing.T) {
	w := Start(t)
	c := w.HTTPClient()
	c.Timeout = 500 * time.Millisecond

	ok, err := w.AddDoHEndpoint(DoHOK)
	must(t, err)
	if m := dohQuery(t, c, ok, "GET", question("example.com.", dns.TypeSOA)); len(m.Answer) != 1 {
		t.Errorf("second ok endpoint: %v", m)
	}

	forbiddenURL, err := w.AddDoHEndpoint(DoHForbidden)
	must(t, err)
	resp, err := c.Post(forbiddenURL, "application/dns-message", strings.NewReader("x"))
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Errorf("forbidden endpoint: HTTP %d", resp.StatusCode)
	}

	untrusted, err := w.AddDoHEndpoint(DoHUntrustedCert)
	must(t, err)
	if _, err := c.Get(untrusted + "?dns=AAABAAABAAAAAAAAB2V4YW1wbGUDY29tAAAGAAE"); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("untrusted endpoint: %v", err)
	}

	hang, err := w.AddDoHEndpoint(DoHHang)
	must(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	req, _ := httpRequest(ctx, hang)
	start := time.Now()
	if _, err := c.Do(req); err == nil {
		t.Error("hanging endpoint answered")
	}
	if time.Since(start) < 250*time.Millisecond {
		t.Errorf("hanging endpoint failed fast: %v", time.Since(start))
	}
}

func TestCountersAndRecords(t *testing.T) {
	w := Start(t)
	must(t, w.DNS.Add("m.example.com.", dns.TypeMX, 300, "10 mail.example.com.", "20 mail2.example.com."))
	n, err := w.DNS.Remove("m.example.com.", dns.TypeMX, "10 mail.example.com.")
	if err != nil || n != 1 {
		t.Fatalf("Remove: %d, %v", n, err)
	}
	rrs, err := w.DNS.Records("example.com.")
	must(t, err)
	if rrs[0].Header().Rrtype != dns.TypeSOA {
		t.Errorf("first record %v", rrs[0])
	}
	if err := w.DNS.Set("www.example.org.", dns.TypeA, 60, "192.0.2.1"); err == nil {
		t.Error("Set outside zones succeeded")
	}
	if z, err := w.DNS.ZoneOf("a.b.example.net."); err != nil || z != "example.net." {
		t.Errorf("ZoneOf: %q, %v", z, err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
