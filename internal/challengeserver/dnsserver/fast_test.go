package dnsserver

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/internal/challengeserver/store"
	"github.com/strictacme/strictacme/internal/challengeserver/view"
)

// Subdomains of fastView.
const (
	subMany   = "0f1e2d3c-0000-4000-8000-00000000000a" // ten dns-01 values
	subEscape = "0f1e2d3c-0000-4000-8000-00000000000b" // a value with a backslash
	subLong   = "0f1e2d3c-0000-4000-8000-00000000000c" // a value of 300 octets
	subNone   = "0f1e2d3c-0000-4000-8000-00000000000d" // registered, no values
	subOld    = "0f1e2d3c-0000-4000-8000-00000000000e" // one live, one expired
)

// fastView is a real view: ten values at subMany (value i updated i
// seconds after the first), the others as named above, and the server's
// own TXT value at _acme-challenge.<zone>.
func fastView(t testing.TB) (*view.View, []string) {
	t.Helper()
	t0 := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	v := view.New(func() time.Time { return t0.Add(time.Minute) })
	var many []string
	for i := range 10 {
		text := fmt.Sprintf("%02dHDhK3oGRvkiefQnx7OOczTY5Tic_xZ6HcMOc_gmto", i)
		many = append(many, text)
		up := t0.Add(time.Duration(i) * time.Second)
		v.Put(subMany, store.Value{Text: text, Updated: up, Expires: up.Add(time.Hour)}, 0)
	}
	exp := t0.Add(time.Hour)
	v.Set(subEscape, []store.Value{{Text: `a\"b`, Updated: t0, Expires: exp}})
	v.Set(subLong, []store.Value{{Text: strings.Repeat("x", 300), Updated: t0, Expires: exp}})
	v.Set(subNone, nil)
	v.Set(subOld, []store.Value{{Text: "gone", Updated: t0, Expires: t0.Add(time.Second)}, {Text: "live", Updated: t0, Expires: exp}})
	v.Set("custom-label", []store.Value{{Text: "custom", Updated: t0, Expires: exp}})
	v.Set(store.ZoneKey("_acme-challenge"), []store.Value{{Text: "own", Updated: t0, Expires: exp}})
	return v, many
}

func fastHandler(t testing.TB) (*Handler, []string) {
	t.Helper()
	v, many := fastView(t)
	h, err := NewHandler(Config{Zone: "Auth.Example.org", Admin: "hostmaster@example.org", Records: testRecords}, v)
	if err != nil {
		t.Fatal(err)
	}
	return h, many
}

// sameAsAnswer checks the fast path's reply to the packed question b
// against Answer's, both read back from the wire, and reports whether the
// fast path answered.
func sameAsAnswer(t *testing.T, h *Handler, b []byte) bool {
	t.Helper()
	var fb fastBuf
	reply, qtype, rcode, ok := h.answerFast(&fb, b)
	if !ok {
		return false
	}
	req := new(dns.Msg)
	if err := req.Unpack(b); err != nil {
		t.Fatalf("the fast path answered a question miekg/dns cannot read (%v): %x", err, b)
	}
	want, err := h.Answer(req, true).Pack()
	if err != nil {
		t.Fatal(err)
	}
	wm, got := new(dns.Msg), new(dns.Msg)
	if err := wm.Unpack(want); err != nil {
		t.Fatal(err)
	}
	if err := got.Unpack(reply); err != nil {
		t.Fatalf("fast reply does not unpack: %v\n%x", err, reply)
	}
	if got.String() != wm.String() {
		t.Fatalf("question\n%v\nfast path:\n%v\nAnswer:\n%v", req, got, wm)
	}
	if qtype != req.Question[0].Qtype || rcode != wm.Rcode {
		t.Fatalf("observed qtype %d rcode %d, want %d %d", qtype, rcode, req.Question[0].Qtype, wm.Rcode)
	}
	return true
}

// Every question the fast path answers gets exactly Answer's reply: TXT
// at accounts newest first, cut to the UDP size with TC (ten values
// without EDNS), the question's spelling kept (0x20), EDNS sizes and the
// DO bit, RD and CD, NODATA and NXDOMAIN with the SOA; and the names and
// questions it must leave to Answer (empty non-terminals, the server's own
// values, other zones, ANY, AXFR, EDNS version 1, escaped or long values,
// static names spelt other than in lower case, TXT at static names) go
// there; static records asked in lower case come from their templates.
func TestFastPathAsAnswer(t *testing.T) {
	h, _ := fastHandler(t)
	const (
		slow    = 0 // Answer answers
		fast    = 1 // the fast path answers
		slowTXT = 2 // Answer answers TXT (the values), the fast path the rest
		static  = 3 // the fast path answers the types of its records (not TXT), from a template
	)
	names := map[string]int{
		subMany + ".auth.example.org.":                                    fast,
		strings.ToUpper(subMany[:9]) + subMany[9:] + ".AUTH.example.Org.": fast,
		subNone + ".auth.example.org.":                                    fast,
		subOld + ".auth.example.org.":                                     fast,
		"Custom-Label.auth.example.org.":                                  fast,
		"nope.auth.example.org.":                                          fast,
		"x.y." + subMany + ".auth.example.org.":                           fast,
		subEscape + ".auth.example.org.":                                  slowTXT,
		subLong + ".auth.example.org.":                                    slowTXT,
		"auth.example.org.":                                               static,
		"ns1.auth.example.org.":                                           static,
		"www.auth.example.org.":                                           static,
		"deep.name.auth.example.org.":                                     slow,
		"a.deep.name.auth.example.org.":                                   static,
		"_acme-challenge.auth.example.org.":                               slow,
		"example.org.":                                                    slow,
		"other.example.":                                                  slow,
		"NS1.auth.example.org.":                                           slow,
		`we\.ird.auth.example.org.`:                                       slow,
	}
	types := []uint16{dns.TypeTXT, dns.TypeA, dns.TypeSOA, dns.TypeNS, dns.TypeCNAME, dns.TypeANY, dns.TypeAXFR}
	type edns struct {
		size    uint16
		do      bool
		version uint8
	}
	ednses := []*edns{nil, {512, false, 0}, {1232, true, 0}, {4096, false, 0}, {100, true, 0}, {1232, false, 1}}
	answered, statics := 0, 0
	for name, kind := range names {
		for _, qt := range types {
			for _, e := range ednses {
				for _, bits := range []int{0, 1, 2, 3} {
					q := new(dns.Msg)
					q.SetQuestion(name, qt)
					q.Id = uint16(answered + 1)
					q.RecursionDesired = bits&1 != 0
					q.CheckingDisabled = bits&2 != 0
					if e != nil {
						q.SetEdns0(e.size, e.do)
						q.IsEdns0().SetVersion(e.version)
					}
					b, err := q.Pack()
					if err != nil {
						t.Fatal(err)
					}
					took := sameAsAnswer(t, h, b)
					_, tmpl := h.tmpl[tmplKey{name, qt}]
					mayFast := (kind == fast || kind == slowTXT && qt != dns.TypeTXT || kind == static && tmpl) &&
						qt != dns.TypeANY && qt != dns.TypeAXFR && (e == nil || e.version == 0)
					if took != mayFast {
						t.Errorf("%s %s edns %v: fast path %v, want %v", name, dns.TypeToString[qt], e, took, mayFast)
					}
					if took {
						answered++
						if kind == static {
							statics++
						}
					}
				}
			}
		}
	}
	if answered == 0 || statics == 0 {
		t.Fatalf("the fast path answered %d questions, %d of them about static data", answered, statics)
	}
}

// The case over a real socket: ten values at one account asked
// over UDP without EDNS: the reply is cut (TC) and what it carries is the
// newest values, newest first.
func TestFastPathTenValuesOverUDPWithoutEDNS(t *testing.T) {
	h, many := fastHandler(t)
	srv, err := Listen([]string{"127.0.0.1:0"}, h)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(t.Context())
	q := new(dns.Msg)
	q.SetQuestion(subMany+".auth.example.org.", dns.TypeTXT)
	m, _, err := (&dns.Client{Net: "udp"}).Exchange(q, srv.UDPAddr(0))
	if err != nil {
		t.Fatal(err)
	}
	if !m.Truncated || len(m.Answer) == 0 || len(m.Answer) == len(many) {
		t.Fatalf("want a truncated reply with some values: tc=%v %d answers", m.Truncated, len(m.Answer))
	}
	for i, rr := range m.Answer {
		if got, want := rr.(*dns.TXT).Txt[0], many[len(many)-1-i]; got != want {
			t.Fatalf("answer %d: %s, want %s (newest first)", i, got, want)
		}
	}
}

// On a socket bound to every address, a reply leaves from the address the
// question went to: the client's connected socket takes no other. Both
// paths, the fast one (TXT) and Answer's (the apex SOA), and two loopback
// addresses.
func TestFastPathWildcardSocketRepliesFromAskedAddress(t *testing.T) {
	h, _ := fastHandler(t)
	srv, err := Listen([]string{"0.0.0.0:0"}, h)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(t.Context())
	_, port, _ := net.SplitHostPort(srv.UDPAddr(0))
	for _, ip := range []string{"127.0.0.1", "127.0.0.2"} {
		for _, qq := range []struct {
			name  string
			qtype uint16
		}{{subNone + ".auth.example.org.", dns.TypeTXT}, {"auth.example.org.", dns.TypeSOA}} {
			q := new(dns.Msg)
			q.SetQuestion(qq.name, qq.qtype)
			m, _, err := (&dns.Client{Net: "udp", Timeout: 2 * time.Second}).Exchange(q, net.JoinHostPort(ip, port))
			if err != nil || m.Rcode != dns.RcodeSuccess {
				t.Fatalf("%s %s: %v %v", ip, qq.name, m, err)
			}
		}
	}
}

// The fast path allocates nothing per question.
func TestFastPathAllocatesNothing(t *testing.T) {
	h, _ := fastHandler(t)
	q := new(dns.Msg)
	q.SetQuestion(subMany+".auth.example.org.", dns.TypeTXT)
	q.SetEdns0(1232, false)
	b, _ := q.Pack()
	var fb fastBuf
	if _, _, _, ok := h.answerFast(&fb, b); !ok {
		t.Fatal("not answered on the fast path")
	}
	if n := testing.AllocsPerRun(100, func() { h.answerFast(&fb, b) }); n != 0 {
		t.Fatalf("%v allocations per question", n)
	}
}

// FuzzFastPath feeds any bytes to the fast path: whatever it answers,
// miekg/dns can read as a question and Answer answers the same.
func FuzzFastPath(f *testing.F) {
	for _, name := range []string{subMany + ".auth.example.org.", "nope.auth.example.org.", subNone + ".AUTH.example.org."} {
		for _, e := range []bool{false, true} {
			q := new(dns.Msg)
			q.SetQuestion(name, dns.TypeTXT)
			if e {
				q.SetEdns0(1232, true)
			}
			b, _ := q.Pack()
			f.Add(b)
		}
	}
	h, _ := fastHandler(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		sameAsAnswer(t, h, b)
	})
}
