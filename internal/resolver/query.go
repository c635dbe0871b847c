package resolver

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/miekg/dns"
	"github.com/strictacme/strictacme/internal/exitcode"
)

// checkResponse rejects a message that cannot be the answer to q: no QR bit,
// or a question section for another name or type (a confused middlebox or
// a stale UDP datagram).
func checkResponse(endpoint string, q, resp *dns.Msg) error {
	if !resp.Response {
		return &Error{Endpoint: endpoint, Reason: "response does not have the QR bit set", Kind: KindProtocol}
	}
	if len(q.Question) == 0 || resp.Rcode == dns.RcodeFormatError {
		return nil
	}
	if len(resp.Question) == 0 ||
		!strings.EqualFold(resp.Question[0].Name, q.Question[0].Name) ||
		resp.Question[0].Qtype != q.Question[0].Qtype {
		return &Error{Endpoint: endpoint, Reason: "response is for a different question", Kind: KindProtocol}
	}
	return nil
}

// NewQuery builds a query for name (made fully qualified) and qtype with a
// random ID, RD=1 and an EDNS0 OPT record advertising EDNSBufSize.
//
// RD is always set because every Resolver is a recursive resolver: without
// it some resolvers answer from cache only, or NXDOMAIN/REFUSED, for names
// that exist (case PR06, RFC 1035 §4.1.1).
func NewQuery(name string, qtype uint16) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.RecursionDesired = true
	m.SetEdns0(EDNSBufSize, false)
	return m
}

// Query asks r one question built by NewQuery and returns the response.
// A non-success RCODE is returned as a message, not an error (see Resolver).
func Query(ctx context.Context, r Resolver, name string, qtype uint16) (*dns.Msg, error) {
	return r.Exchange(ctx, NewQuery(name, qtype))
}

// IsNegative reports whether msg is a negative answer to its question
// (RFC 2308 §1): NXDOMAIN, or NODATA (NOERROR with no record of the
// question's type at the name, after following CNAMEs in the answer).
func IsNegative(msg *dns.Msg) bool {
	if msg == nil {
		return false
	}
	switch msg.Rcode {
	case dns.RcodeNameError:
		return true
	case dns.RcodeSuccess:
		if len(msg.Question) == 0 {
			return len(msg.Answer) == 0
		}
		q := msg.Question[0]
		return len(chainRRs(msg, q.Name, q.Qtype)) == 0
	}
	return false
}

// NegativeSOA returns the SOA from the authority section of a negative
// answer (RFC 2308 §3), or nil when msg is not negative or carries none.
func NegativeSOA(msg *dns.Msg) *dns.SOA {
	if !IsNegative(msg) {
		return nil
	}
	for _, rr := range msg.Ns {
		if soa, ok := rr.(*dns.SOA); ok {
			return soa
		}
	}
	return nil
}

// NegativeTTL returns how long a resolver may keep the negative answer msg
// cached: min(SOA TTL, SOA MINIMUM) of the SOA in the authority section
// (RFC 2308 §5). From a recursive resolver the SOA TTL has already been
// counted down, so this is the time remaining in its cache. ok is false
// when msg is not NXDOMAIN/NODATA or has no SOA (then the resolver should
// not cache it at all, RFC 2308 §5).
func NegativeTTL(msg *dns.Msg) (d time.Duration, ok bool) {
	soa := NegativeSOA(msg)
	if soa == nil {
		return 0, false
	}
	return time.Duration(min(soa.Hdr.Ttl, soa.Minttl)) * time.Second, true
}

// maxChain bounds CNAME chains followed inside one answer; resolvers give
// up long before this (RFC 1034 §3.6.2 says chains should be short).
const maxChain = 16

// chainRRs returns the records of type qtype at name, following CNAMEs
// within msg's answer section.
func chainRRs(msg *dns.Msg, name string, qtype uint16) []dns.RR {
	cur := dns.Fqdn(name)
	for range maxChain {
		var out []dns.RR
		next := ""
		for _, rr := range msg.Answer {
			h := rr.Header()
			if !strings.EqualFold(h.Name, cur) {
				continue
			}
			if h.Rrtype == qtype {
				out = append(out, rr)
			} else if c, ok := rr.(*dns.CNAME); ok && qtype != dns.TypeCNAME {
				next = c.Target
			}
		}
		if len(out) > 0 || next == "" {
			return out
		}
		cur = next
	}
	return nil
}

// TXTValues returns the TXT values at name in msg's answer section,
// following a CNAME chain inside the answer. The character-strings of one
// TXT RR are joined without separator, as RFC 8555 §8.4 validation and
// RFC 7208 §3.3 read them. The order is that of the answer; nil when none.
func TXTValues(msg *dns.Msg, name string) []string {
	if msg == nil {
		return nil
	}
	var vals []string
	for _, rr := range chainRRs(msg, name, dns.TypeTXT) {
		if t, ok := rr.(*dns.TXT); ok {
			vals = append(vals, strings.Join(t.Txt, ""))
		}
	}
	return vals
}

// CNAMETargets returns the CNAME chain that starts at name in msg's answer
// section, in order: the first element is name's CNAME target, the last is
// where the chain leaves the answer. nil when name has no CNAME in msg.
// A TXT answer that carries such a chain says the TXT at name itself can
// never be seen: a CNAME owns its name (RFC 1034 §3.6.2).
func CNAMETargets(msg *dns.Msg, name string) []string {
	if msg == nil {
		return nil
	}
	var out []string
	cur := dns.Fqdn(name)
	for range maxChain {
		next := ""
		for _, rr := range msg.Answer {
			if c, ok := rr.(*dns.CNAME); ok && strings.EqualFold(c.Hdr.Name, cur) {
				next = strings.ToLower(c.Target)
				break
			}
		}
		if next == "" {
			break
		}
		out = append(out, next)
		cur = next
	}
	return out
}

// Summarize renders an answer as one line: the RCODE, each answer RR
// (tabs as spaces), and for a negative answer how long a resolver may cache
// it (NegativeTTL), separated by "; ".
func Summarize(msg *dns.Msg) string {
	parts := []string{dns.RcodeToString[msg.Rcode]}
	for _, rr := range msg.Answer {
		parts = append(parts, strings.ReplaceAll(rr.String(), "\t", " "))
	}
	if d, ok := NegativeTTL(msg); ok {
		parts = append(parts, fmt.Sprintf("(negative answer cached up to %s)", d))
	}
	return strings.Join(parts, "; ")
}

// ParseType is the query type named s (TXT, CAA, ...; any case); ""
// is TXT. The error says which to give.
func ParseType(s string) (uint16, error) {
	if s == "" {
		return dns.TypeTXT, nil
	}
	t, ok := dns.StringToType[strings.ToUpper(s)]
	if !ok {
		return 0, fmt.Errorf("record type %q: use TXT, CNAME, CAA, NS, SOA, A, AAAA…", s)
	}
	return t, nil
}

// AskEach asks every resolver of rs the question name/qtype and writes one
// line per resolver to w: its answer (Summarize), or why it gave none and
// the fix, in the words of Diagnose. None answering is an error
// (exitcode.DNS).
func AskEach(ctx context.Context, rs []Resolver, name string, qtype uint16, w io.Writer) error {
	failed := 0
	for _, r := range rs {
		msg, err := Query(ctx, r, name, qtype)
		if err != nil {
			failed++
			reason, fix := Diagnose(err)
			if fix != "" {
				reason += "; " + fix
			}
			fmt.Fprintf(w, "%s: error: %s\n", r, reason)
			continue
		}
		fmt.Fprintf(w, "%s: %s\n", r, Summarize(msg))
	}
	if failed == len(rs) {
		return exitcode.With(exitcode.DNS, fmt.Errorf("no resolver answered"))
	}
	return nil
}
