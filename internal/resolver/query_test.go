package resolver

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func mustRR(t *testing.T, s string) dns.RR {
	t.Helper()
	rr, err := dns.NewRR(s)
	if err != nil {
		t.Fatal(err)
	}
	return rr
}

func reply(t *testing.T, qname string, qtype uint16, rcode int, answer, ns []string) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(qname, qtype)
	m.Response = true
	m.Rcode = rcode
	for _, s := range answer {
		m.Answer = append(m.Answer, mustRR(t, s))
	}
	for _, s := range ns {
		m.Ns = append(m.Ns, mustRR(t, s))
	}
	return m
}

func TestNegativeTTL(t *testing.T) {
	const q = "_acme-challenge.a.example."
	for _, tc := range []struct {
		name   string
		msg    *dns.Msg
		want   time.Duration
		wantOK bool
	}{
		{"nxdomain, minimum smaller", reply(t, q, dns.TypeTXT, dns.RcodeNameError, nil,
			[]string{"a.example. 3600 IN SOA ns.a.example. h.a.example. 1 7200 900 1209600 180"}), 3 * time.Minute, true},
		{"nxdomain, counted-down TTL smaller", reply(t, q, dns.TypeTXT, dns.RcodeNameError, nil,
			[]string{"a.example. 55 IN SOA ns.a.example. h.a.example. 1 7200 900 1209600 3600"}), 55 * time.Second, true},
		{"nodata", reply(t, q, dns.TypeTXT, dns.RcodeSuccess, nil,
			[]string{"a.example. 300 IN SOA ns.a.example. h.a.example. 1 7200 900 1209600 60"}), time.Minute, true},
		{"nodata behind cname", reply(t, q, dns.TypeTXT, dns.RcodeSuccess,
			[]string{q + " 60 IN CNAME x.alias.example."},
			[]string{"alias.example. 300 IN SOA ns.alias.example. h.alias.example. 1 7200 900 1209600 30"}), 30 * time.Second, true},
		{"positive", reply(t, q, dns.TypeTXT, dns.RcodeSuccess, []string{q + ` 60 IN TXT "v"`}, nil), 0, false},
		{"nxdomain without SOA", reply(t, q, dns.TypeTXT, dns.RcodeNameError, nil, nil), 0, false},
		{"servfail", reply(t, q, dns.TypeTXT, dns.RcodeServerFailure, nil,
			[]string{"a.example. 300 IN SOA ns.a.example. h.a.example. 1 7200 900 1209600 60"}), 0, false},
		{"nil", nil, 0, false},
	} {
		got, ok := NegativeTTL(tc.msg)
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("%s: NegativeTTL = %v, %v; want %v, %v", tc.name, got, ok, tc.want, tc.wantOK)
		}
	}
}

func TestTXTValues(t *testing.T) {
	const q = "_acme-challenge.a.example."
	for _, tc := range []struct {
		name   string
		answer []string
		want   []string
	}{
		{"two RRs", []string{q + ` 60 IN TXT "one"`, q + ` 60 IN TXT "two"`}, []string{"one", "two"}},
		{"multi-string RR joined", []string{q + ` 60 IN TXT "abc" "def"`}, []string{"abcdef"}},
		{"case-insensitive owner", []string{"_ACME-Challenge.A.example. 60 IN TXT \"v\""}, []string{"v"}},
		{"cname chain", []string{
			q + " 60 IN CNAME mid.example.",
			"mid.example. 60 IN CNAME _acme-challenge.auth.example.",
			`_acme-challenge.auth.example. 60 IN TXT "delegated"`,
		}, []string{"delegated"}},
		{"other name ignored", []string{`other.example. 60 IN TXT "x"`}, nil},
		{"cname loop", []string{q + " 60 IN CNAME b.example.", "b.example. 60 IN CNAME " + q}, nil},
	} {
		got := TXTValues(reply(t, q, dns.TypeTXT, dns.RcodeSuccess, tc.answer, nil), q)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: TXTValues = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestNewQuery(t *testing.T) {
	q := NewQuery("a.example", dns.TypeTXT)
	if !q.RecursionDesired || q.Question[0].Name != "a.example." || q.Question[0].Qtype != dns.TypeTXT {
		t.Fatalf("NewQuery = %v", q)
	}
	if o := q.IsEdns0(); o == nil || o.UDPSize() != EDNSBufSize {
		t.Fatalf("NewQuery without EDNS0 %d: %v", EDNSBufSize, q)
	}
}

// What "strictacme query" prints per resolver: the RCODE, every answer
// RR on the line, and for a negative answer how long it may be cached.
func TestSummarizeAnswers(t *testing.T) {
	const q = "_acme-challenge.a.example."
	for _, tc := range []struct {
		name string
		msg  *dns.Msg
		want string
	}{
		{"a CNAME and a TXT", reply(t, q, dns.TypeTXT, dns.RcodeSuccess,
			[]string{q + " 60 IN CNAME x.alias.example.", `x.alias.example. 30 IN TXT "v"`}, nil),
			`NOERROR; _acme-challenge.a.example. 60 IN CNAME x.alias.example.; x.alias.example. 30 IN TXT "v"`},
		{"nxdomain, cached up to the SOA minimum", reply(t, q, dns.TypeTXT, dns.RcodeNameError, nil,
			[]string{"a.example. 3600 IN SOA ns.a.example. h.a.example. 1 7200 900 1209600 180"}),
			"NXDOMAIN; (negative answer cached up to 3m0s)"},
		{"refused", reply(t, q, dns.TypeTXT, dns.RcodeRefused, nil, nil), "REFUSED"},
	} {
		if got := Summarize(tc.msg); got != tc.want {
			t.Errorf("%s: %q\nwant %q", tc.name, got, tc.want)
		}
	}
}

// TestParseTypeTakesAnyCaseAndNamesTheChoices pins the query types a user
// may name: TXT when none, any case, and an error listing the usual ones.
func TestParseTypeTakesAnyCaseAndNamesTheChoices(t *testing.T) {
	for s, want := range map[string]uint16{"": dns.TypeTXT, "caa": dns.TypeCAA, "AAAA": dns.TypeAAAA} {
		if got, err := ParseType(s); err != nil || got != want {
			t.Errorf("%q: %d, %v; want %d", s, got, err, want)
		}
	}
	if _, err := ParseType("TEXT"); err == nil || !strings.Contains(err.Error(), "use TXT, CNAME, CAA") {
		t.Errorf("TEXT: %v", err)
	}
}
