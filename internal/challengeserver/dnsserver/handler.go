// Package dnsserver is the authoritative DNS server of the challenge zone:
// static records from the config (SOA, NS, A, AAAA, CAA, …) and the TXT
// values of registered subdomains from the in-memory view. It never recurses
// and never touches the database.
//
// Answers, compared with acme-dns (pkg/nameserver/handler.go in
// https://github.com/acme-dns/acme-dns; its issues #342 for NXDOMAIN on
// existing names, #272 for out-of-zone names, #160 for ANY, #111 for UPDATE):
//   - names that exist (the apex, static names, registered subdomains, empty
//     non-terminals) get NOERROR; a type they lack gets NODATA with the SOA
//     in the authority section, never NXDOMAIN;
//   - only names that do not exist get NXDOMAIN, with the SOA whose TTL and
//     MINIMUM are the configured negative TTL (RFC 2308 §5);
//   - names outside the zone get REFUSED without AA; zone transfers REFUSED;
//   - opcodes other than QUERY get NOTIMP; ANY gets the RFC 8482 HINFO;
//   - the owner names of answers spell the question as asked (0x20 safe);
//   - EDNS(0) per RFC 6891: BADVERS for version > 0, else an OPT with our
//     payload size and the DO bit copied (RFC 3225 §3); UDP replies are
//     truncated (TC) to the client's payload size.
package dnsserver

import (
	"errors"
	"fmt"
	"hash/crc32"
	"sort"
	"strings"

	"github.com/miekg/dns"
)

// Defaults for Config.
const (
	DefaultNegativeTTL = 60   // seconds; SOA TTL and MINIMUM (RFC 2308)
	DefaultTXTTTL      = 1    // seconds; as acme-dns (pkg/nameserver/handler.go)
	DefaultStaticTTL   = 3600 // seconds; static records without a TTL
	// UDPSize is the EDNS(0) payload size we advertise (DNS flag day 2020).
	UDPSize = 1232
)

// Lookup gives the live TXT values of a registered subdomain label (lower
// case), newest first (the order of the answer, so truncation drops the
// oldest), and whether it is registered. *view.View implements it.
type Lookup interface {
	Lookup(label string) (txt []string, exists bool)
}

// ZoneLookup is implemented by a Lookup that also holds the server's own TXT
// values at names inside the zone (tls = "acme": the API certificate's
// dns-01 challenges). name is relative to the zone, lower case, "@" for the
// apex; the result is the live values, nil when none. *view.View
// implements it.
type ZoneLookup interface {
	ZoneTXT(name string) []string
}

// Config describes the zone.
type Config struct {
	// Zone is the apex, e.g. "auth.example.org" (trailing dot optional).
	Zone string
	// NSName is the SOA MNAME; empty means the first NS record's target, or
	// "ns.<zone>".
	NSName string
	// Admin is the SOA RNAME as a mailbox ("hostmaster@example.org") or in
	// DNS form ("hostmaster.example.org"); empty means "hostmaster.<zone>".
	Admin string
	// Serial is the SOA serial; zero derives one from the static data, so
	// instances with the same config agree (unlike acme-dns, whose serial is
	// its start hour: https://github.com/acme-dns/acme-dns/issues/262).
	Serial uint32
	// NegativeTTL in seconds (zero: DefaultNegativeTTL).
	NegativeTTL uint32
	// TXTTTL is the TTL of challenge TXT answers in seconds (zero:
	// DefaultTXTTTL).
	TXTTTL uint32
	// Records are static records in zone-file syntax ("@ NS ns1", relative
	// names are relative to Zone; TTL defaults to DefaultStaticTTL). Every
	// owner must be inside Zone.
	Records []string
}

// Handler answers DNS queries for one zone. Create it with NewHandler; safe
// for concurrent use.
type Handler struct {
	zone   string // lower case, fqdn
	soa    *dns.SOA
	txtTTL uint32
	// static, glue, ents and soa are built once by NewHandler and never
	// changed: answers share their records (miekg/dns only reads an RR
	// when packing it) instead of copying them per query.
	static map[string]map[uint16][]dns.RR // owner (lower fqdn) → type → RRs
	glue   map[string]map[uint16][]dns.RR // owner → NS or MX → in-zone A/AAAA of the targets
	ents   map[string]bool                // empty non-terminals
	view   Lookup
	// For answerFast: view's LiveAppender (nil: no fast path), "." + zone,
	// and the SOA record in wire form.
	live    LiveAppender
	zoneDot string
	soaWire []byte
	// tmpl holds the packed reply to each question about static data
	// (asked in lower case, without EDNS) whose reply is fixed (answerFast).
	tmpl map[tmplKey][]byte
	// Observe, if set, is called after each reply (for metrics).
	Observe func(qtype uint16, rcode int, transport string)
}

// NewHandler checks cfg and builds a Handler over v. Errors name the bad
// record.
func NewHandler(cfg Config, v Lookup) (*Handler, error) {
	if cfg.Zone == "" {
		return nil, errors.New("dnsserver: empty zone")
	}
	zone := dns.Fqdn(strings.ToLower(cfg.Zone))
	if _, ok := dns.IsDomainName(zone); !ok {
		return nil, fmt.Errorf("dnsserver: zone %q is not a domain name", cfg.Zone)
	}
	h := &Handler{zone: zone, txtTTL: cfg.TXTTTL, static: map[string]map[uint16][]dns.RR{}, ents: map[string]bool{}, view: v}
	if h.txtTTL == 0 {
		h.txtTTL = DefaultTXTTTL
	}
	neg := cfg.NegativeTTL
	if neg == 0 {
		neg = DefaultNegativeTTL
	}
	crc := crc32.NewIEEE()
	crc.Write([]byte(zone))
	for i, line := range cfg.Records {
		rr, err := dns.NewRR("$ORIGIN " + zone + "\n$TTL " + fmt.Sprint(DefaultStaticTTL) + "\n" + line)
		if err != nil {
			return nil, fmt.Errorf("dnsserver: record %d %q: %v", i+1, line, err)
		}
		if rr == nil {
			continue
		}
		hdr := rr.Header()
		hdr.Name = strings.ToLower(hdr.Name)
		if !dns.IsSubDomain(zone, hdr.Name) {
			return nil, fmt.Errorf("dnsserver: record %d %q: owner %s is outside the zone %s", i+1, line, hdr.Name, zone)
		}
		if hdr.Rrtype == dns.TypeSOA {
			return nil, fmt.Errorf("dnsserver: record %d %q: the SOA is built from the config (nsname, nsadmin, negative TTL); remove this line", i+1, line)
		}
		if h.static[hdr.Name] == nil {
			h.static[hdr.Name] = map[uint16][]dns.RR{}
		}
		h.static[hdr.Name][hdr.Rrtype] = append(h.static[hdr.Name][hdr.Rrtype], rr)
		crc.Write([]byte(rr.String()))
		for n := hdr.Name; n != zone; {
			i, end := dns.NextLabel(n, 0)
			if end {
				break
			}
			n = n[i:]
			if n != zone && h.static[n] == nil {
				h.ents[n] = true
			}
		}
	}
	for n := range h.static {
		delete(h.ents, n)
	}
	for n, types := range h.static {
		if len(types[dns.TypeCNAME]) > 0 && len(types) > 1 {
			return nil, fmt.Errorf("dnsserver: %s has a CNAME and other records (RFC 1034 §3.6.2)", n)
		}
	}
	if len(h.static[zone][dns.TypeCNAME]) > 0 {
		return nil, fmt.Errorf("dnsserver: CNAME at the zone apex %s", zone)
	}
	mname := cfg.NSName
	if mname == "" {
		if ns := h.static[zone][dns.TypeNS]; len(ns) > 0 {
			mname = ns[0].(*dns.NS).Ns
		} else {
			mname = "ns." + zone
		}
	}
	rname := cfg.Admin
	if rname == "" {
		rname = "hostmaster." + zone
	} else if at := strings.IndexByte(rname, '@'); at >= 0 {
		rname = strings.ReplaceAll(rname[:at], ".", `\.`) + "." + rname[at+1:]
	}
	serial := cfg.Serial
	if serial == 0 {
		serial = crc.Sum32()%2000000000 + 1
	}
	h.soa = &dns.SOA{
		Hdr:     dns.RR_Header{Name: zone, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: neg},
		Ns:      dns.Fqdn(strings.ToLower(mname)),
		Mbox:    dns.Fqdn(strings.ToLower(rname)),
		Serial:  serial,
		Refresh: 28800, Retry: 7200, Expire: 604800,
		Minttl: neg,
	}
	if _, ok := dns.IsDomainName(h.soa.Ns); !ok {
		return nil, fmt.Errorf("dnsserver: nsname %q is not a domain name", mname)
	}
	if _, ok := dns.IsDomainName(h.soa.Mbox); !ok {
		return nil, fmt.Errorf("dnsserver: nsadmin %q is not a mailbox", cfg.Admin)
	}
	h.live, _ = v.(LiveAppender)
	h.zoneDot = "." + zone
	h.soaWire = make([]byte, dns.Len(h.soa))
	if _, err := dns.PackRR(h.soa, h.soaWire, 0, nil, false); err != nil {
		return nil, fmt.Errorf("dnsserver: SOA: %v", err)
	}
	h.glue = map[string]map[uint16][]dns.RR{}
	for n, types := range h.static {
		for _, t := range []uint16{dns.TypeNS, dns.TypeMX} {
			if g := h.glueOf(types[t]); len(g) > 0 {
				if h.glue[n] == nil {
					h.glue[n] = map[uint16][]dns.RR{}
				}
				h.glue[n][t] = g
			}
		}
	}
	h.tmpl = map[tmplKey][]byte{}
	h.addTemplate(zone, dns.TypeSOA)
	for n, types := range h.static {
		for t := range types {
			h.addTemplate(n, t)
		}
	}
	return h, nil
}

type tmplKey struct {
	name  string
	qtype uint16
}

// addTemplate packs Answer's reply to name and qtype for answerFast, when
// it never changes and fits any UDP reply. TXT replies can change (the
// server's own values join them), and ANY is answered with the name as
// asked; those stay with Answer.
func (h *Handler) addTemplate(name string, qtype uint16) {
	if qtype == dns.TypeTXT || qtype == dns.TypeANY {
		return
	}
	q := new(dns.Msg)
	q.SetQuestion(name, qtype)
	q.RecursionDesired = false
	m := h.Answer(q, false)
	m.Compress = true
	b, err := m.Pack()
	if err != nil || len(b)+optLen > dns.MinMsgSize {
		return
	}
	h.tmpl[tmplKey{name, qtype}] = b
}

// Zone returns the apex (lower case, with the trailing dot).
func (h *Handler) Zone() string { return h.zone }

// SOA returns a copy of the zone's SOA record.
func (h *Handler) SOA() *dns.SOA { return dns.Copy(h.soa).(*dns.SOA) }

// ServeDNS implements dns.Handler.
func (h *Handler) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	transport := "udp"
	if a := w.RemoteAddr(); a != nil && a.Network() == "tcp" {
		transport = "tcp"
	}
	m := h.Answer(r, transport == "udp")
	_ = w.WriteMsg(m)
	if h.Observe != nil {
		qt := uint16(0)
		if len(r.Question) == 1 {
			qt = r.Question[0].Qtype
		}
		h.Observe(qt, m.Rcode, transport)
	}
}

// Answer builds the reply to r; udp selects truncation to the client's UDP
// payload size. It never panics on any parsed message (FuzzDNSHandler).
func (h *Handler) Answer(r *dns.Msg, udp bool) *dns.Msg {
	m := new(dns.Msg)
	m.Id = r.Id
	m.Response = true
	m.Opcode = r.Opcode
	m.RecursionDesired = r.RecursionDesired
	m.CheckingDisabled = r.CheckingDisabled
	m.Question = r.Question
	if len(r.Question) > 1 {
		m.Question = r.Question[:1]
	}

	size := dns.MinMsgSize
	if opt := r.IsEdns0(); opt != nil {
		reply := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
		reply.SetUDPSize(UDPSize)
		reply.SetDo(opt.Do())
		m.Extra = append(m.Extra, reply)
		if opt.Version() != 0 {
			m.Rcode = dns.RcodeBadVers
			return m
		}
		if s := int(opt.UDPSize()); s > size {
			size = min(s, UDPSize)
		}
	}
	switch {
	case r.Response:
		m.Rcode = dns.RcodeFormatError
		return m
	case r.Opcode != dns.OpcodeQuery:
		m.Rcode = dns.RcodeNotImplemented
		return m
	case len(r.Question) != 1:
		m.Rcode = dns.RcodeFormatError
		return m
	}
	q := r.Question[0]
	name := strings.ToLower(q.Name)
	if q.Qclass != dns.ClassINET && q.Qclass != dns.ClassANY || !dns.IsSubDomain(h.zone, name) {
		m.Rcode = dns.RcodeRefused
		return m
	}
	m.Authoritative = true
	switch q.Qtype {
	case dns.TypeAXFR, dns.TypeIXFR:
		m.Authoritative = false
		m.Rcode = dns.RcodeRefused
		return m
	}
	h.lookup(m, q, name)
	if udp {
		m.Truncate(size)
	}
	return m
}

// zoneTXT returns the server's own live TXT values at name (absolute,
// lower case).
func (h *Handler) zoneTXT(name string) []string {
	zl, ok := h.view.(ZoneLookup)
	if !ok {
		return nil
	}
	rel := "@"
	if name != h.zone {
		rel = strings.TrimSuffix(strings.TrimSuffix(name, h.zone), ".")
	}
	return zl.ZoneTXT(rel)
}

// lookup fills the sections for an in-zone question.
func (h *Handler) lookup(m *dns.Msg, q dns.Question, name string) {
	if own := h.zoneTXT(name); len(own) > 0 {
		// The server's own values (its certificate's challenges) are served
		// next to the static data of the name; they make the name exist.
		types, static := h.static[name]
		switch {
		case q.Qtype == dns.TypeTXT:
			m.Answer = append(m.Answer, h.owned(types[dns.TypeTXT], q.Name)...)
			for _, t := range own {
				m.Answer = append(m.Answer, &dns.TXT{
					Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: h.txtTTL},
					Txt: []string{t},
				})
			}
			return
		case !static && name != h.zone:
			if q.Qtype == dns.TypeANY {
				m.Answer = append(m.Answer, h.hinfo(q.Name))
			} else {
				h.nodata(m)
			}
			return
		}
	}
	if types, ok := h.static[name]; ok || name == h.zone {
		switch {
		case q.Qtype == dns.TypeANY:
			m.Answer = append(m.Answer, h.hinfo(q.Name))
		case q.Qtype == dns.TypeSOA && name == h.zone:
			m.Answer = append(m.Answer, h.owned([]dns.RR{h.soa}, q.Name)...)
		case len(types[q.Qtype]) > 0:
			m.Answer = append(m.Answer, h.owned(types[q.Qtype], q.Name)...)
			m.Extra = append(m.Extra, h.glue[name][q.Qtype]...)
		case len(types[dns.TypeCNAME]) > 0:
			m.Answer = append(m.Answer, h.owned(types[dns.TypeCNAME], q.Name)...)
		default:
			h.nodata(m)
		}
		return
	}
	if label, ok := h.child(name); ok {
		if txt, exists := h.view.Lookup(label); exists {
			switch {
			case q.Qtype == dns.TypeTXT && len(txt) > 0:
				for _, t := range txt {
					m.Answer = append(m.Answer, &dns.TXT{
						Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: h.txtTTL},
						Txt: []string{t},
					})
				}
			case q.Qtype == dns.TypeANY:
				m.Answer = append(m.Answer, h.hinfo(q.Name))
			default:
				h.nodata(m)
			}
			return
		}
	}
	if h.ents[name] {
		h.nodata(m)
		return
	}
	m.Rcode = dns.RcodeNameError
	m.Ns = append(m.Ns, h.soa)
}

// child returns the label of name when name is exactly <label>.<zone>.
func (h *Handler) child(name string) (string, bool) {
	if len(name) <= len(h.zone)+1 || !strings.HasSuffix(name, "."+h.zone) && h.zone != "." {
		return "", false
	}
	label := name[:len(name)-len(h.zone)-1]
	if h.zone == "." {
		label = strings.TrimSuffix(name, ".")
	}
	if strings.Contains(strings.ReplaceAll(label, `\.`, ""), ".") {
		return "", false
	}
	return label, true
}

func (h *Handler) nodata(m *dns.Msg) { m.Ns = append(m.Ns, h.soa) }

// hinfo is the RFC 8482 §4.2 answer to ANY.
func (h *Handler) hinfo(owner string) dns.RR {
	return &dns.HINFO{Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypeHINFO, Class: dns.ClassINET, Ttl: h.soa.Minttl}, Cpu: "RFC8482"}
}

// owned returns rrs with the owner spelled as in the question: the shared
// records themselves when the question is spelt as they are (lower case,
// the common case), copies otherwise (0x20 mixed case, RFC 8482 §4.2's
// owner echo). The result may be appended to; rrs is never changed.
func (h *Handler) owned(rrs []dns.RR, owner string) []dns.RR {
	if len(rrs) > 0 && rrs[0].Header().Name == owner {
		return rrs[:len(rrs):len(rrs)]
	}
	out := make([]dns.RR, len(rrs))
	for i, rr := range rrs {
		c := dns.Copy(rr)
		c.Header().Name = owner
		out[i] = c
	}
	return out
}

// glueOf returns the in-zone A/AAAA records of the NS/MX targets in rrs,
// for the additional section (built once, in NewHandler).
func (h *Handler) glueOf(rrs []dns.RR) []dns.RR {
	var out []dns.RR
	var targets []string
	for _, rr := range rrs {
		switch x := rr.(type) {
		case *dns.NS:
			targets = append(targets, strings.ToLower(x.Ns))
		case *dns.MX:
			targets = append(targets, strings.ToLower(x.Mx))
		}
	}
	sort.Strings(targets)
	for _, t := range targets {
		for _, typ := range []uint16{dns.TypeA, dns.TypeAAAA} {
			out = append(out, h.static[t][typ]...)
		}
	}
	return out
}
