package testworld

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// ErrNoZone is returned when a name is not inside any zone of the
// authoritative server.
var ErrNoZone = errors.New("testworld: name is not in any zone")

// ErrCNAMEConflict is returned when a change would leave a CNAME next to other
// data at the same owner name (RFC 1034 §3.6.2, RFC 2181 §10.1).
var ErrCNAMEConflict = errors.New("testworld: CNAME and other data at the same name")

// Authoritative is the world's authoritative DNS server (RFC 1034 §4.3.2). It
// serves any number of zones held in memory over UDP and TCP on one loopback
// port and answers with the AA bit set:
//
//   - a name with an RRset of the asked type: the RRset;
//   - a name that owns a CNAME (and a qtype other than CNAME): the CNAME only,
//     the chain is not followed (resolvers chase it);
//   - a name that exists, or an empty non-terminal, without that type: NODATA
//     (NOERROR, empty answer, the zone's SOA in the authority section);
//   - a name that does not exist: the wildcard "*.<closest encloser>" when the
//     zone has one (RFC 4592 §3.3.1, owner rewritten to the query name), else
//     NXDOMAIN with the SOA in the authority section;
//   - a name outside every zone: REFUSED.
//
// The SOA in negative answers has TTL min(SOA TTL, SOA MINIMUM) (RFC 2308 §3).
// Zones have no delegations: a zone added below another is served in its own
// right (longest match wins).
//
// Owner names, CNAME targets and other names in RDATA are fully qualified;
// a missing final dot is added to owner names. Authoritative is safe for
// concurrent use.
type Authoritative struct {
	mu     sync.RWMutex
	zones  map[string]*zone // key: canonical origin
	soaTTL uint32
	soaMin uint32
	// clock dates served records and pending ones (AddRRLate); nil
	// means the wall clock.
	clock   *Clock
	pending []pendingRR
	served  map[qkey]time.Time

	counts queryCounter
	srv    *dnsServer
}

type zone struct {
	origin string
	serial uint32
	nodes  map[string][]dns.RR // key: canonical owner name
}

func newAuthoritative(soaTTL, soaMin uint32) (*Authoritative, error) {
	a := &Authoritative{zones: make(map[string]*zone), soaTTL: soaTTL, soaMin: soaMin}
	srv, err := listenDNS(dns.HandlerFunc(a.serveDNS))
	if err != nil {
		return nil, err
	}
	a.srv = srv
	return a, nil
}

// Addr returns the server's address, "127.0.0.1:port", for UDP and TCP.
func (a *Authoritative) Addr() string { return a.srv.addr }

func (a *Authoritative) close() error { return a.srv.close() }

// AddZone creates the zone origin (e.g. "example.com.") with a SOA (TTL and
// MINIMUM from Options, both in seconds) and one NS record "ns1.<origin>" with
// an A record 127.0.0.1. Adding an existing zone does nothing.
func (a *Authoritative) AddZone(origin string) error {
	origin = canonical(origin)
	if _, ok := dns.IsDomainName(origin); !ok {
		return fmt.Errorf("testworld: bad zone name %q", origin)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.zones[origin]; ok {
		return nil
	}
	z := &zone{origin: origin, serial: 1, nodes: make(map[string][]dns.RR)}
	ns := "ns1." + origin
	if origin == "." {
		ns = "ns1."
	}
	z.nodes[origin] = []dns.RR{
		&dns.SOA{
			Hdr:     dns.RR_Header{Name: origin, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: a.soaTTL},
			Ns:      ns,
			Mbox:    "hostmaster." + strings.TrimPrefix(origin, "."),
			Serial:  1,
			Refresh: 3600,
			Retry:   600,
			Expire:  86400,
			Minttl:  a.soaMin,
		},
		&dns.NS{Hdr: dns.RR_Header{Name: origin, Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: 3600}, Ns: ns},
	}
	z.nodes[ns] = []dns.RR{
		&dns.A{Hdr: dns.RR_Header{Name: ns, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 3600}, A: []byte{127, 0, 0, 1}},
	}
	a.zones[origin] = z
	return nil
}

// RemoveZone deletes a zone and all its records; queries for its names then
// get REFUSED (or an answer from an enclosing zone).
func (a *Authoritative) RemoveZone(origin string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.zones, canonical(origin))
}

// Zones returns the origins of all zones, sorted.
func (a *Authoritative) Zones() []string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	out := make([]string, 0, len(a.zones))
	for o := range a.zones {
		out = append(out, o)
	}
	slices.Sort(out)
	return out
}

// ZoneOf returns the origin of the zone that holds name (longest match), or
// ErrNoZone.
func (a *Authoritative) ZoneOf(name string) (string, error) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	z := a.zoneFor(canonical(name))
	if z == nil {
		return "", fmt.Errorf("%w: %s", ErrNoZone, name)
	}
	return z.origin, nil
}

// Set replaces the RRset (name, rrtype) with one RR per rdata, each with the
// given TTL in seconds. For TXT each rdata is the raw text of one record (no
// quoting; split into 255-octet strings as RFC 1035 §3.3.14 requires); for
// other types it is the RDATA in zone-file presentation format, e.g. "10
// mail.example.com." for MX. No rdata deletes the RRset. Errors: ErrNoZone,
// ErrCNAMEConflict, or a parse error.
func (a *Authoritative) Set(name string, rrtype uint16, ttl uint32, rdata ...string) error {
	rrs, err := makeRRs(name, rrtype, ttl, rdata)
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	z := a.zoneFor(canonical(name))
	if z == nil {
		return fmt.Errorf("%w: %s", ErrNoZone, name)
	}
	key := canonical(name)
	kept := slices.DeleteFunc(slices.Clone(z.nodes[key]), func(rr dns.RR) bool { return rr.Header().Rrtype == rrtype })
	next := append(kept, rrs...)
	if err := checkCNAME(next); err != nil {
		return err
	}
	z.put(key, next)
	return nil
}

// Add adds one RR per rdata (formats as for Set) to the RRset (name,
// rrtype). An RR already present with the same RDATA is not duplicated; the
// TTL of the whole RRset becomes ttl (RFC 2181 §5.2).
func (a *Authoritative) Add(name string, rrtype uint16, ttl uint32, rdata ...string) error {
	rrs, err := makeRRs(name, rrtype, ttl, rdata)
	if err != nil {
		return err
	}
	return a.AddRR(rrs...)
}

// AddRR adds resource records as they are (see Add).
func (a *Authoritative) AddRR(rrs ...dns.RR) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.addLocked(rrs)
}

func (a *Authoritative) addLocked(rrs []dns.RR) error {
	// Validate everything first so a batch is applied whole or not at all.
	type change struct {
		z   *zone
		key string
		rrs []dns.RR
	}
	pending := map[string]*change{}
	var order []string
	for _, rr := range rrs {
		key := canonical(rr.Header().Name)
		z := a.zoneFor(key)
		if z == nil {
			return fmt.Errorf("%w: %s", ErrNoZone, rr.Header().Name)
		}
		c, ok := pending[key]
		if !ok {
			c = &change{z: z, key: key, rrs: cloneRRs(z.nodes[key])}
			pending[key] = c
			order = append(order, key)
		}
		rr = dns.Copy(rr)
		rr.Header().Name = key
		dup := false
		for _, have := range c.rrs {
			if have.Header().Rrtype == rr.Header().Rrtype {
				have.Header().Ttl = rr.Header().Ttl
				if dns.IsDuplicate(have, rr) {
					dup = true
				}
			}
		}
		if !dup {
			c.rrs = append(c.rrs, rr)
		}
		if err := checkCNAME(c.rrs); err != nil {
			return err
		}
	}
	now := a.now()
	if a.served == nil {
		a.served = map[qkey]time.Time{}
	}
	for _, key := range order {
		c := pending[key]
		c.z.put(key, c.rrs)
		for _, rr := range c.rrs {
			k := qkey{key, rr.Header().Rrtype}
			if _, ok := a.served[k]; !ok {
				a.served[k] = now
			}
		}
	}
	return nil
}

// Remove deletes from the RRset (name, rrtype) the RRs whose RDATA equals one
// of rdata (formats as for Set); with no rdata it deletes the whole RRset. It
// returns how many RRs were deleted. Errors: ErrNoZone or a parse error.
func (a *Authoritative) Remove(name string, rrtype uint16, rdata ...string) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	key := canonical(name)
	z := a.zoneFor(key)
	if z == nil {
		return 0, fmt.Errorf("%w: %s", ErrNoZone, name)
	}
	if len(rdata) == 0 {
		before := len(z.nodes[key])
		kept := slices.DeleteFunc(slices.Clone(z.nodes[key]), func(rr dns.RR) bool { return rr.Header().Rrtype == rrtype })
		z.put(key, kept)
		return before - len(kept), nil
	}
	rrs, err := makeRRs(name, rrtype, 0, rdata)
	if err != nil {
		return 0, err
	}
	return len(a.removeLocked(rrs)), nil
}

// RemoveRR deletes the given RRs (matched on owner, type, class and RDATA,
// TTL ignored) and returns the ones that were present.
func (a *Authoritative) RemoveRR(rrs ...dns.RR) []dns.RR {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.removeLocked(rrs)
}

func (a *Authoritative) removeLocked(rrs []dns.RR) []dns.RR {
	a.promoteLocked()
	var removed []dns.RR
	for _, rr := range rrs {
		if a.dropPendingLocked(rr) {
			removed = append(removed, dns.Copy(rr))
			continue
		}
		key := canonical(rr.Header().Name)
		z := a.zoneFor(key)
		if z == nil {
			continue
		}
		probe := dns.Copy(rr)
		probe.Header().Name = key
		var hit bool
		kept := slices.DeleteFunc(slices.Clone(z.nodes[key]), func(have dns.RR) bool {
			if !hit && have.Header().Rrtype == probe.Header().Rrtype && dns.IsDuplicate(have, probe) {
				hit = true
				removed = append(removed, dns.Copy(have))
				return true
			}
			return false
		})
		if hit {
			z.put(key, kept)
		}
	}
	return removed
}

// Records returns a copy of every RR in the zone origin (SOA first), or
// ErrNoZone.
func (a *Authoritative) Records(origin string) ([]dns.RR, error) {
	a.promote()
	a.mu.RLock()
	defer a.mu.RUnlock()
	z := a.zones[canonical(origin)]
	if z == nil {
		return nil, fmt.Errorf("%w: %s", ErrNoZone, origin)
	}
	names := make([]string, 0, len(z.nodes))
	for n := range z.nodes {
		names = append(names, n)
	}
	slices.SortFunc(names, func(x, y string) int {
		if x == z.origin {
			return -1
		}
		if y == z.origin {
			return 1
		}
		return strings.Compare(x, y)
	})
	var out []dns.RR
	for _, n := range names {
		for _, rr := range z.nodes[n] {
			out = append(out, dns.Copy(rr))
		}
	}
	return out, nil
}

// Queries returns the number of queries received since start or ResetCounts.
func (a *Authoritative) Queries() int { return a.counts.get() }

// QueriesFor returns the number of queries received for (name, qtype).
func (a *Authoritative) QueriesFor(name string, qtype uint16) int {
	return a.counts.getFor(name, qtype)
}

// ResetCounts sets all query counters to zero.
func (a *Authoritative) ResetCounts() { a.counts.reset() }

// put stores the RRs of one node and bumps the zone serial.
func (z *zone) put(key string, rrs []dns.RR) {
	if len(rrs) == 0 && key != z.origin {
		delete(z.nodes, key)
	} else {
		z.nodes[key] = rrs
	}
	z.serial++
	for _, rr := range z.nodes[z.origin] {
		if soa, ok := rr.(*dns.SOA); ok {
			soa.Serial = z.serial
		}
	}
}

func (a *Authoritative) zoneFor(name string) *zone {
	for off, end := 0, false; !end; off, end = dns.NextLabel(name, off) {
		if z, ok := a.zones[name[off:]]; ok {
			return z
		}
	}
	return a.zones["."]
}

// checkCNAME reports ErrCNAMEConflict when rrs, all the RRs of one owner
// name, hold a CNAME next to other data or two different CNAMEs.
func checkCNAME(rrs []dns.RR) error {
	var cnames []dns.RR
	other := false
	for _, rr := range rrs {
		switch rr.Header().Rrtype {
		case dns.TypeCNAME:
			if !slices.ContainsFunc(cnames, func(c dns.RR) bool { return dns.IsDuplicate(c, rr) }) {
				cnames = append(cnames, rr)
			}
		case dns.TypeRRSIG, dns.TypeNSEC:
		default:
			other = true
		}
	}
	if len(cnames) > 1 || (len(cnames) == 1 && other) {
		return fmt.Errorf("%w: %s", ErrCNAMEConflict, rrs[0].Header().Name)
	}
	return nil
}

func cloneRRs(rrs []dns.RR) []dns.RR {
	out := make([]dns.RR, len(rrs))
	for i, rr := range rrs {
		out[i] = dns.Copy(rr)
	}
	return out
}

// makeRRs builds RRs from rdata strings; see Authoritative.Set for formats.
func makeRRs(name string, rrtype uint16, ttl uint32, rdata []string) ([]dns.RR, error) {
	name = canonical(name)
	if _, ok := dns.IsDomainName(name); !ok {
		return nil, fmt.Errorf("testworld: bad owner name %q", name)
	}
	hdr := dns.RR_Header{Name: name, Rrtype: rrtype, Class: dns.ClassINET, Ttl: ttl}
	out := make([]dns.RR, 0, len(rdata))
	for _, d := range rdata {
		if rrtype == dns.TypeTXT {
			out = append(out, &dns.TXT{Hdr: hdr, Txt: splitTXT(d)})
			continue
		}
		ts, ok := dns.TypeToString[rrtype]
		if !ok {
			return nil, fmt.Errorf("testworld: unknown RR type %d", rrtype)
		}
		rr, err := dns.NewRR(fmt.Sprintf("%s %d IN %s %s", name, ttl, ts, d))
		if err != nil {
			return nil, fmt.Errorf("testworld: parsing %s RDATA %q: %w", ts, d, err)
		}
		if rr == nil {
			return nil, fmt.Errorf("testworld: empty %s RDATA", ts)
		}
		out = append(out, rr)
	}
	return out, nil
}

// splitTXT splits raw text into <character-string>s of at most 255 octets
// (RFC 1035 §3.3.14), escaping it for the miekg/dns presentation form.
func splitTXT(s string) []string {
	var parts []string
	for len(s) > 255 {
		parts = append(parts, s[:255])
		s = s[255:]
	}
	parts = append(parts, s)
	for i, p := range parts {
		parts[i] = escapeTXT(p)
	}
	return parts
}

// escapeTXT turns raw octets into the escaped form miekg/dns keeps in
// dns.TXT.Txt (backslash, quote and non-printable octets escaped).
func escapeTXT(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' || c == '"':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < ' ' || c > '~':
			fmt.Fprintf(&b, "\\%03d", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// txtText returns the raw text of a TXT RR, strings concatenated.
func txtText(t *dns.TXT) string {
	var b strings.Builder
	for _, s := range t.Txt {
		b.WriteString(unescapeTXT(s))
	}
	return b.String()
}

func unescapeTXT(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		if i+3 < len(s) && isDigit(s[i+1]) && isDigit(s[i+2]) && isDigit(s[i+3]) {
			b.WriteByte((s[i+1]-'0')*100 + (s[i+2]-'0')*10 + (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i+1])
		i++
	}
	return b.String()
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// serveDNS answers one query; see the Authoritative doc for the rules.
func (a *Authoritative) serveDNS(w dns.ResponseWriter, req *dns.Msg) {
	resp := new(dns.Msg)
	resp.SetReply(req)
	resp.RecursionAvailable = false
	if req.Opcode != dns.OpcodeQuery {
		resp.SetRcode(req, dns.RcodeNotImplemented)
		writeReply(w, req, resp)
		return
	}
	if len(req.Question) != 1 {
		resp.SetRcode(req, dns.RcodeFormatError)
		writeReply(w, req, resp)
		return
	}
	q := req.Question[0]
	a.counts.add(q.Name, q.Qtype)
	a.promote()
	ans, ns, rcode, ok := a.answer(q.Name, q.Qtype)
	if !ok || (q.Qclass != dns.ClassINET && q.Qclass != dns.ClassANY) {
		resp.SetRcode(req, dns.RcodeRefused)
		writeReply(w, req, resp)
		return
	}
	resp.Authoritative = true
	resp.Rcode = rcode
	resp.Answer = ans
	resp.Ns = ns
	writeReply(w, req, resp)
}

// answer looks name up in the zone data. ok is false when name is in no zone.
func (a *Authoritative) answer(qname string, qtype uint16) (ans, ns []dns.RR, rcode int, ok bool) {
	name := canonical(qname)
	a.mu.RLock()
	defer a.mu.RUnlock()
	z := a.zoneFor(name)
	if z == nil {
		return nil, nil, dns.RcodeRefused, false
	}
	rrs, exists := z.nodes[name]
	owner := qname
	if !exists {
		if z.hasDescendant(name) {
			return nil, z.negativeSOA(), dns.RcodeSuccess, true // empty non-terminal: NODATA
		}
		// RFC 4592 §3.3.1: find the closest encloser, then its wildcard.
		ce := name
		for {
			off, end := dns.NextLabel(ce, 0)
			if end {
				ce = "."
			} else {
				ce = ce[off:]
			}
			if _, ok := z.nodes[ce]; ok || z.hasDescendant(ce) || ce == z.origin || end {
				break
			}
		}
		source := "*." + ce
		if ce == "." {
			source = "*."
		}
		wrrs, wok := z.nodes[source]
		if !wok {
			if z.hasDescendant(source) {
				return nil, z.negativeSOA(), dns.RcodeSuccess, true
			}
			return nil, z.negativeSOA(), dns.RcodeNameError, true
		}
		rrs = wrrs
	}
	var match []dns.RR
	for _, rr := range rrs {
		t := rr.Header().Rrtype
		if qtype == dns.TypeANY || t == qtype {
			match = append(match, rr)
		}
	}
	if qtype != dns.TypeCNAME && qtype != dns.TypeANY && len(match) == 0 {
		for _, rr := range rrs {
			if rr.Header().Rrtype == dns.TypeCNAME {
				match = []dns.RR{rr}
			}
		}
	}
	if len(match) == 0 {
		return nil, z.negativeSOA(), dns.RcodeSuccess, true
	}
	for _, rr := range match {
		c := dns.Copy(rr)
		c.Header().Name = owner
		ans = append(ans, c)
	}
	return ans, nil, dns.RcodeSuccess, true
}

func (z *zone) hasDescendant(name string) bool {
	suffix := "." + name
	if name == "." {
		suffix = "."
	}
	for n := range z.nodes {
		if n != name && strings.HasSuffix(n, suffix) {
			return true
		}
	}
	return false
}

// negativeSOA is the authority section of a negative answer: the zone's SOA
// with TTL min(SOA TTL, MINIMUM) (RFC 2308 §3).
func (z *zone) negativeSOA() []dns.RR {
	for _, rr := range z.nodes[z.origin] {
		if soa, ok := rr.(*dns.SOA); ok {
			c := dns.Copy(soa).(*dns.SOA)
			c.Hdr.Ttl = min(c.Hdr.Ttl, c.Minttl)
			return []dns.RR{c}
		}
	}
	return nil
}
