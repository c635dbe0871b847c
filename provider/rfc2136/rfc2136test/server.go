// Package rfc2136test runs an authoritative DNS server on loopback that
// takes dynamic updates (RFC 2136) the way BIND 9 does, for tests of the
// rfc2136 provider:
//
//   - TSIG (RFC 8945) is checked on every signed message: an unknown key
//     or algorithm is answered NOTAUTH with TSIG error BADKEY, a wrong
//     secret NOTAUTH/BADSIG, a stale time NOTAUTH/BADTIME, each with an
//     unsigned TSIG record; answers to valid signed messages are signed.
//   - An UPDATE for a zone the server does not hold is answered NOTAUTH, a
//     record outside the zone NOTZONE, one its update policy (Grants, like
//     BIND's update-policy) does not allow REFUSED, an unsigned one
//     REFUSED; a malformed update record FORMERR. Nothing of a refused
//     UPDATE is applied; an accepted one is applied whole and increments
//     the SOA serial.
//   - Adds follow RFC 2136 §3.4.2.2: a duplicate value is ignored, a
//     non-CNAME record at a CNAME is ignored, and the RRset takes the TTL
//     of the added record, as BIND does (RFC 2181 §5.2). Deletes follow
//     §3.4.2.3–4 (class ANY: RRset or name, class NONE: one value).
//   - Questions get authoritative answers (AA), NXDOMAIN or NODATA with the
//     zone's SOA; names outside every zone are REFUSED. A UDP answer larger
//     than the asker's size (512, or its EDNS size) or Options.MaxUDP is
//     truncated (TC) so the client must retry over TCP. AXFR is served
//     over TCP to keys in Options.Transfer.
//
// Prerequisites (RFC 2136 §2.4) are not evaluated: an UPDATE that carries
// any is answered NOTIMP, so a test sees a client that sends them. Wildcard
// synthesis is not modelled.
package rfc2136test

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"net"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// Key is a TSIG key the server knows.
type Key struct {
	Name      string
	Algorithm string // dns.HmacSHA256, … ; "" means hmac-sha256
	Secret    string // base64
}

// Grant allows Key to change records of the listed types at names matching
// Match and Name, as one rule of BIND's update-policy:
//
//	grant KEY name _acme-challenge.example.com. TXT;   → Match "name"
//	grant KEY subdomain example.com. TXT;              → Match "subdomain"
type Grant struct {
	Key   string
	Match string // "name" (exactly Name) or "subdomain" (Name and below)
	Name  string
	Types []uint16 // nil means every type
}

// Options configure a Server.
type Options struct {
	Keys   []Key
	Grants []Grant
	// Transfer lists the keys allowed to AXFR (allow-transfer).
	Transfer []string
	// MaxUDP, when set, truncates UDP answers longer than it (a path
	// that drops large datagrams, a small EDNS buffer).
	MaxUDP int
}

// Message is what the server received and answered.
type Message struct {
	Transport string // "udp" or "tcp"
	From      string // the client's address
	Opcode    int
	Name      string // question name, or the zone of an UPDATE
	Type      uint16
	Key       string // TSIG key name as sent, "" unsigned
	Prereqs   int
	Updates   []dns.RR
	Rcode     int
	TSIGError uint16
}

// Server is the fake primary. Safe for concurrent use.
type Server struct {
	opts Options
	udp  *dns.Server
	tcp  *dns.Server
	addr string

	mu    sync.Mutex
	zones map[string]*zone
	log   []Message
}

type zone struct {
	origin string
	rrs    []dns.RR
}

// Start runs a server on 127.0.0.1 (UDP and TCP on one port) until the test
// ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// New runs a server on 127.0.0.1; Close stops it.
func New(opts Options) (*Server, error) {
	s := &Server{opts: opts, zones: map[string]*zone{}}
	var pc net.PacketConn
	var l net.Listener
	var err error
	for range 10 {
		pc, err = net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		l, err = net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			break
		}
		pc.Close()
	}
	if err != nil {
		return nil, err
	}
	s.addr = pc.LocalAddr().String()
	prov := tsigKeys(opts.Keys)
	s.udp = &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(s.serve), TsigProvider: prov, MsgAcceptFunc: acceptAll}
	s.tcp = &dns.Server{Listener: l, Handler: dns.HandlerFunc(s.serve), TsigProvider: prov, MsgAcceptFunc: acceptAll}
	for _, srv := range []*dns.Server{s.udp, s.tcp} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go func() { _ = srv.ActivateAndServe() }()
		<-started
	}
	return s, nil
}

// acceptAll lets UPDATE messages (whose sections the default accept
// function counts as a query's) reach the handler.
func acceptAll(dh dns.Header) dns.MsgAcceptAction {
	if dh.Bits&(1<<15) != 0 { // QR: a response
		return dns.MsgIgnore
	}
	return dns.MsgAccept
}

// Addr is "127.0.0.1:port", for UDP and TCP.
func (s *Server) Addr() string { return s.addr }

// Close stops the server.
func (s *Server) Close() {
	_ = s.udp.Shutdown()
	_ = s.tcp.Shutdown()
}

// AddZone creates zone origin holding the records given in zone-file
// syntax (relative names are under origin); an SOA and an NS record are
// added when the records have none.
func (s *Server) AddZone(origin string, records ...string) error {
	origin = dns.CanonicalName(origin)
	z := &zone{origin: origin}
	for _, text := range records {
		rr, err := dns.NewRR("$ORIGIN " + origin + "\n" + text)
		if err != nil {
			return fmt.Errorf("record %q: %w", text, err)
		}
		if rr == nil {
			continue
		}
		rr.Header().Name = dns.CanonicalName(rr.Header().Name)
		if !dns.IsSubDomain(origin, rr.Header().Name) {
			return fmt.Errorf("record %q is outside %s", text, origin)
		}
		z.rrs = append(z.rrs, rr)
	}
	if z.find(origin, dns.TypeSOA) == nil {
		soa, _ := dns.NewRR(origin + " 3600 IN SOA ns1." + origin + " hostmaster." + origin + " 1 7200 3600 1209600 300")
		z.rrs = append([]dns.RR{soa}, z.rrs...)
	}
	if z.find(origin, dns.TypeNS) == nil {
		ns, _ := dns.NewRR(origin + " 3600 IN NS ns1." + origin)
		z.rrs = append(z.rrs, ns)
	}
	s.mu.Lock()
	s.zones[origin] = z
	s.mu.Unlock()
	return nil
}

// Records returns copies of every record of zone origin in a stable
// order (name, type, presentation form), the SOA included.
func (s *Server) Records(origin string) []dns.RR {
	s.mu.Lock()
	defer s.mu.Unlock()
	z := s.zones[dns.CanonicalName(origin)]
	if z == nil {
		return nil
	}
	out := make([]dns.RR, 0, len(z.rrs))
	for _, rr := range z.rrs {
		out = append(out, dns.Copy(rr))
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// TXT returns the TXT values at name, in zone order.
func (s *Server) TXT(name string) []string {
	name = dns.CanonicalName(name)
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, z := range s.zones {
		for _, rr := range z.rrs {
			if t, ok := rr.(*dns.TXT); ok && dns.CanonicalName(t.Hdr.Name) == name {
				out = append(out, strings.Join(t.Txt, ""))
			}
		}
	}
	return out
}

// Serial is the SOA serial of zone origin.
func (s *Server) Serial(origin string) uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if z := s.zones[dns.CanonicalName(origin)]; z != nil {
		if soa, ok := z.find(z.origin, dns.TypeSOA).(*dns.SOA); ok {
			return soa.Serial
		}
	}
	return 0
}

// Messages returns what the server received, in order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.log...)
}

// Updates returns the UPDATE messages received.
func (s *Server) Updates() []Message {
	var out []Message
	for _, m := range s.Messages() {
		if m.Opcode == dns.OpcodeUpdate {
			out = append(out, m)
		}
	}
	return out
}

// ResetLog forgets the messages received so far.
func (s *Server) ResetLog() {
	s.mu.Lock()
	s.log = nil
	s.mu.Unlock()
}

func (s *Server) serve(w dns.ResponseWriter, req *dns.Msg) {
	transport := w.LocalAddr().Network()
	if strings.HasPrefix(transport, "udp") {
		transport = "udp"
	} else {
		transport = "tcp"
	}
	msg := Message{Transport: transport, From: w.RemoteAddr().String(), Opcode: req.Opcode, Prereqs: len(req.Answer)}
	if len(req.Question) > 0 {
		msg.Name, msg.Type = dns.CanonicalName(req.Question[0].Name), req.Question[0].Qtype
	}
	if req.Opcode == dns.OpcodeUpdate {
		msg.Updates = append(msg.Updates, req.Ns...)
	}
	resp := new(dns.Msg)
	resp.SetReply(req)
	resp.RecursionAvailable = false

	tsig := req.IsTsig()
	if tsig != nil {
		msg.Key = tsig.Hdr.Name
		if st := w.TsigStatus(); st != nil {
			// RFC 8945 §5.2: NOTAUTH with the TSIG error, the TSIG record
			// unsigned (BADTIME answers would be signed; no client here
			// checks that MAC).
			code := uint16(dns.RcodeBadSig)
			switch {
			case errors.Is(st, dns.ErrSecret), errors.Is(st, dns.ErrKeyAlg):
				code = dns.RcodeBadKey
			case errors.Is(st, dns.ErrTime):
				code = dns.RcodeBadTime
			}
			resp.Rcode = dns.RcodeNotAuth
			resp.Extra = []dns.RR{&dns.TSIG{
				Hdr:       dns.RR_Header{Name: tsig.Hdr.Name, Rrtype: dns.TypeTSIG, Class: dns.ClassANY},
				Algorithm: tsig.Algorithm, TimeSigned: tsig.TimeSigned, Fudge: tsig.Fudge,
				OrigId: req.Id, Error: code,
			}}
			msg.Rcode, msg.TSIGError = resp.Rcode, code
			s.record(msg)
			b, err := resp.Pack()
			if err == nil {
				_, _ = w.Write(b)
			}
			return
		}
	}
	key := ""
	if tsig != nil {
		key = dns.CanonicalName(tsig.Hdr.Name)
	}

	switch {
	case req.Opcode == dns.OpcodeUpdate:
		resp.Rcode = s.update(req, key)
	case req.Opcode == dns.OpcodeQuery && len(req.Question) == 1 && req.Question[0].Qtype == dns.TypeAXFR:
		s.axfr(resp, req.Question[0].Name, key, transport)
	case req.Opcode == dns.OpcodeQuery && len(req.Question) == 1:
		s.answer(resp, req.Question[0])
	default:
		resp.Rcode = dns.RcodeNotImplemented
	}
	msg.Rcode = resp.Rcode
	s.record(msg)

	if transport == "udp" {
		limit := dns.MinMsgSize
		if o := req.IsEdns0(); o != nil && int(o.UDPSize()) > limit {
			limit = int(o.UDPSize())
		}
		if s.opts.MaxUDP > 0 {
			limit = min(limit, s.opts.MaxUDP)
		}
		size := resp.Len()
		if tsig != nil {
			size += 100 // the TSIG record about to be added
		}
		if size > limit {
			resp.Truncated = true
			resp.Answer, resp.Ns, resp.Extra = nil, nil, nil
		}
	}
	if tsig != nil {
		resp.SetTsig(tsig.Hdr.Name, tsig.Algorithm, tsig.Fudge, time.Now().Unix())
	}
	_ = w.WriteMsg(resp)
}

func (s *Server) record(m Message) {
	s.mu.Lock()
	s.log = append(s.log, m)
	s.mu.Unlock()
}

// zoneOf returns the zone holding name (longest origin), nil when none.
func (s *Server) zoneOf(name string) *zone {
	var best *zone
	for o, z := range s.zones {
		if dns.IsSubDomain(o, name) && (best == nil || len(o) > len(best.origin)) {
			best = z
		}
	}
	return best
}

func (z *zone) find(name string, t uint16) dns.RR {
	for _, rr := range z.rrs {
		if rr.Header().Rrtype == t && dns.CanonicalName(rr.Header().Name) == name {
			return rr
		}
	}
	return nil
}

func (s *Server) answer(resp *dns.Msg, q dns.Question) {
	name := dns.CanonicalName(q.Name)
	s.mu.Lock()
	defer s.mu.Unlock()
	z := s.zoneOf(name)
	if z == nil {
		resp.Rcode = dns.RcodeRefused
		return
	}
	resp.Authoritative = true
	exists := false
	for _, rr := range z.rrs {
		owner := dns.CanonicalName(rr.Header().Name)
		if owner != name {
			if dns.IsSubDomain(name, owner) {
				exists = true // an empty non-terminal
			}
			continue
		}
		exists = true
		if rr.Header().Rrtype == q.Qtype || (rr.Header().Rrtype == dns.TypeCNAME && q.Qtype != dns.TypeCNAME) {
			resp.Answer = append(resp.Answer, dns.Copy(rr))
		}
	}
	if len(resp.Answer) > 0 {
		return
	}
	if !exists {
		resp.Rcode = dns.RcodeNameError
	}
	soa := dns.Copy(z.find(z.origin, dns.TypeSOA)).(*dns.SOA)
	soa.Hdr.Ttl = min(soa.Hdr.Ttl, soa.Minttl)
	resp.Ns = []dns.RR{soa}
}

func (s *Server) axfr(resp *dns.Msg, name, key, transport string) {
	origin := dns.CanonicalName(name)
	s.mu.Lock()
	defer s.mu.Unlock()
	z := s.zones[origin]
	allowed := false
	for _, k := range s.opts.Transfer {
		allowed = allowed || dns.CanonicalName(k) == key
	}
	switch {
	case z == nil:
		resp.Rcode = dns.RcodeNotAuth
		return
	case transport != "tcp" || !allowed:
		resp.Rcode = dns.RcodeRefused
		return
	}
	soa := z.find(origin, dns.TypeSOA)
	resp.Authoritative = true
	resp.Answer = append(resp.Answer, dns.Copy(soa))
	for _, rr := range z.rrs {
		if rr != soa {
			resp.Answer = append(resp.Answer, dns.Copy(rr))
		}
	}
	resp.Answer = append(resp.Answer, dns.Copy(soa))
}

// update applies an UPDATE (RFC 2136 §3) and returns its RCODE.
func (s *Server) update(req *dns.Msg, key string) int {
	if len(req.Question) != 1 || req.Question[0].Qtype != dns.TypeSOA {
		return dns.RcodeFormatError
	}
	origin := dns.CanonicalName(req.Question[0].Name)
	s.mu.Lock()
	defer s.mu.Unlock()
	z := s.zones[origin]
	if z == nil {
		return dns.RcodeNotAuth
	}
	if len(req.Answer) > 0 {
		return dns.RcodeNotImplemented
	}
	// §3.4.1 prescan, then the policy, before anything is applied.
	for _, rr := range req.Ns {
		h := rr.Header()
		if !dns.IsSubDomain(origin, dns.CanonicalName(h.Name)) {
			return dns.RcodeNotZone
		}
		switch h.Class {
		case dns.ClassINET:
			if h.Rrtype == dns.TypeANY || h.Rrtype == dns.TypeAXFR || h.Rrtype == dns.TypeIXFR {
				return dns.RcodeFormatError
			}
		case dns.ClassANY:
			if h.Ttl != 0 {
				return dns.RcodeFormatError
			}
		case dns.ClassNONE:
			if h.Ttl != 0 {
				return dns.RcodeFormatError
			}
		default:
			return dns.RcodeFormatError
		}
		if !s.allowed(key, dns.CanonicalName(h.Name), h.Rrtype) {
			return dns.RcodeRefused
		}
	}
	changed := false
	for _, rr := range req.Ns {
		if z.apply(rr) {
			changed = true
		}
	}
	if changed {
		soa := z.find(origin, dns.TypeSOA).(*dns.SOA)
		soa.Serial++
	}
	return dns.RcodeSuccess
}

func (s *Server) allowed(key, name string, t uint16) bool {
	if key == "" {
		return false
	}
	for _, g := range s.opts.Grants {
		if dns.CanonicalName(g.Key) != key {
			continue
		}
		gn := dns.CanonicalName(g.Name)
		if !(g.Match == "name" && name == gn || g.Match == "subdomain" && dns.IsSubDomain(gn, name)) {
			continue
		}
		if g.Types == nil {
			return true
		}
		for _, gt := range g.Types {
			if gt == t {
				return true
			}
		}
	}
	return false
}

// apply carries out one update record (RFC 2136 §3.4.2) and reports
// whether the zone changed.
func (z *zone) apply(rr dns.RR) bool {
	h := rr.Header()
	name := dns.CanonicalName(h.Name)
	switch h.Class {
	case dns.ClassINET:
		add := dns.Copy(rr)
		add.Header().Name = name
		for _, old := range z.rrs {
			oh := old.Header()
			if dns.CanonicalName(oh.Name) != name {
				continue
			}
			if oh.Rrtype == dns.TypeCNAME && h.Rrtype != dns.TypeCNAME {
				return false // §3.4.2.2: ignored beside a CNAME
			}
			if oh.Rrtype == h.Rrtype && dns.IsDuplicate(old, add) {
				return false
			}
		}
		for _, old := range z.rrs {
			if dns.CanonicalName(old.Header().Name) == name && old.Header().Rrtype == h.Rrtype {
				old.Header().Ttl = h.Ttl // one TTL per RRset, as BIND keeps it
			}
		}
		z.rrs = append(z.rrs, add)
		return true
	case dns.ClassNONE:
		want := dns.Copy(rr)
		want.Header().Class = dns.ClassINET
		want.Header().Name = name
		for i, old := range z.rrs {
			if dns.CanonicalName(old.Header().Name) == name && dns.IsDuplicate(old, want) {
				z.rrs = append(z.rrs[:i], z.rrs[i+1:]...)
				return true
			}
		}
	case dns.ClassANY:
		keep := z.rrs[:0:0]
		for _, old := range z.rrs {
			oh := old.Header()
			gone := dns.CanonicalName(oh.Name) == name && (h.Rrtype == dns.TypeANY || oh.Rrtype == h.Rrtype) &&
				!(name == z.origin && (oh.Rrtype == dns.TypeSOA || oh.Rrtype == dns.TypeNS))
			if !gone {
				keep = append(keep, old)
			}
		}
		if len(keep) != len(z.rrs) {
			z.rrs = keep
			return true
		}
	}
	return false
}

// tsigKeys verifies and signs with the configured keys; an unknown key
// name or another algorithm is dns.ErrSecret (BADKEY), a wrong MAC
// dns.ErrSig (BADSIG).
type tsigKeys []Key

func (ks tsigKeys) lookup(t *dns.TSIG) (Key, bool) {
	for _, k := range ks {
		alg := k.Algorithm
		if alg == "" {
			alg = dns.HmacSHA256
		}
		if dns.CanonicalName(k.Name) == dns.CanonicalName(t.Hdr.Name) && strings.EqualFold(alg, dns.CanonicalName(t.Algorithm)) {
			return k, true
		}
	}
	return Key{}, false
}

func (ks tsigKeys) Generate(msg []byte, t *dns.TSIG) ([]byte, error) {
	k, ok := ks.lookup(t)
	if !ok {
		return nil, dns.ErrSecret
	}
	secret, err := base64.StdEncoding.DecodeString(k.Secret)
	if err != nil {
		return nil, dns.ErrSecret
	}
	var h func() hash.Hash
	switch dns.CanonicalName(t.Algorithm) {
	case dns.HmacSHA256:
		h = sha256.New
	case dns.HmacSHA384:
		h = sha512.New384
	case dns.HmacSHA512:
		h = sha512.New
	default:
		return nil, dns.ErrKeyAlg
	}
	m := hmac.New(h, secret)
	m.Write(msg)
	return m.Sum(nil), nil
}

func (ks tsigKeys) Verify(msg []byte, t *dns.TSIG) error {
	b, err := ks.Generate(msg, t)
	if err != nil {
		return err
	}
	mac, err := hex.DecodeString(t.MAC)
	if err != nil || !hmac.Equal(b, mac) {
		return dns.ErrSig
	}
	return nil
}
