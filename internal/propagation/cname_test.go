package propagation

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/internal/resolver"
)

// An existing CNAME at the name the records were written at (a user's
// lego/acme-dns delegation nobody followed): the TXT answer carries the
// CNAME and then the target's negative answer. It is reported as "CNAME to
// X", never as NODATA, and the check ends at the first such answer with a
// CNAMEError that says where the CA will look, instead of polling to the
// deadline. A Fallback does not hand over: a provider read-back would see
// the TXT and hide the CNAME.
func TestTXTAnswerCarryingCNAMEReportedAsCNAME(t *testing.T) {
	const target = "_acme-challenge.acme.example.net."
	r, s := startDoH(t, func(q *dns.Msg, _ int) *dns.Msg {
		m := negative(q, dns.RcodeSuccess, 3600, 3600)
		m.Answer = []dns.RR{&dns.CNAME{Hdr: dns.RR_Header{Name: q.Question[0].Name, Rrtype: dns.TypeCNAME, Class: dns.ClassINET, Ttl: 300}, Target: target}}
		return m
	}, 2*time.Second)
	clock := newFakeClock()
	poll, err := ByName("doh", Config{Resolvers: []resolver.Resolver{r}, Clock: clock, Timeout: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	wait, err := ByName("wait", Config{Delay: time.Minute, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	st := Fallback{Strategies: []Strategy{poll, wait}}
	var ev events
	err = st.Wait(t.Context(), []Record{{FQDN: chal, Value: "v1"}}, clock.Now(), ev.obs())
	var ce *CNAMEError
	if !errors.As(err, &ce) || ce.Name != chal || ce.Targets[0] != target {
		t.Fatalf("err = %v, want a CNAMEError", err)
	}
	if !strings.Contains(err.Error(), "--follow-cname") || !strings.Contains(err.Error(), "CA will look at "+target) {
		t.Errorf("error lacks where the CA looks or the fix: %v", err)
	}
	lines := ev.all()
	if contains(lines, chal+" is a CNAME to "+target) != 1 || contains(lines, "NODATA") != 0 {
		t.Errorf("events %q", lines)
	}
	if contains(lines, "falling back") != 0 {
		t.Errorf("fell back on a CNAME: %q", lines)
	}
	if n := s.count(); n != 1 {
		t.Errorf("%d queries, want 1: a CNAME does not go away by asking again", n)
	}
}
