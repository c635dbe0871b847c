package testworld

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// MaxCNAMEHops is how many CNAME records a Recursive follows for one query
// before it gives up with SERVFAIL.
const MaxCNAMEHops = 8

// NoRDPolicy says what a Recursive does with a query whose RD (recursion
// desired) bit is clear (RFC 1035 §4.1.1).
type NoRDPolicy int

const (
	// NoRDRefuse answers REFUSED, as most public resolvers do. The default.
	NoRDRefuse NoRDPolicy = iota
	// NoRDNXDomain answers NXDOMAIN, like resolvers that only look in their
	// cache and wrongly report a miss as a missing name.
	NoRDNXDomain
	// NoRDAnswer resolves the query as if RD were set.
	NoRDAnswer
)

// Recursive is a recursive resolver that answers from the world's
// authoritative server, asking it over the wire (UDP, TCP when truncated), so
// the authoritative query counters are real. It chases CNAME chains across
// zones, returning the whole chain in the answer section (RFC 1034 §3.6.2,
// §4.3.2), at most MaxCNAMEHops hops; a loop or a longer chain, an upstream
// REFUSED (name outside every zone) or an upstream failure gives SERVFAIL.
// The final RCODE is that of the last name in the chain (RFC 6604 §2.1).
//
// A caching Recursive keeps every upstream answer keyed by (name, type):
// positive answers for the smallest TTL of the answer RRs, negative answers
// (NXDOMAIN and NODATA) for the TTL of the SOA in the authority section, which
// the authoritative server sets to min(SOA TTL, MINIMUM) (RFC 2308 §5);
// negative answers without a SOA and failures are not cached. Cached TTLs
// count down with the world's Clock. The non-caching (validating) Recursive
// always asks the authoritative server, like a CA's validation resolver.
//
// Recursive is safe for concurrent use.
type Recursive struct {
	upstream string
	clock    *Clock
	noRD     NoRDPolicy
	caching  bool

	mu    sync.Mutex
	cache map[qkey]*cacheEntry
	// stubs sends names at or under a zone to another authoritative
	// server (a delegation out of the world: a challenge server).
	stubs map[string]string

	counts queryCounter
	client *dns.Client
	tcp    *dns.Client
	srv    *dnsServer
}

type cacheEntry struct {
	answer  []dns.RR
	ns      []dns.RR
	rcode   int
	stored  time.Time
	expires time.Time
}

func newRecursive(upstream string, clock *Clock, noRD NoRDPolicy, caching bool) (*Recursive, error) {
	r := &Recursive{
		upstream: upstream,
		clock:    clock,
		noRD:     noRD,
		caching:  caching,
		cache:    make(map[qkey]*cacheEntry),
		client:   &dns.Client{Net: "udp", Timeout: 2 * time.Second},
		tcp:      &dns.Client{Net: "tcp", Timeout: 2 * time.Second},
	}
	srv, err := listenDNS(dns.HandlerFunc(r.serveDNS))
	if err != nil {
		return nil, err
	}
	r.srv = srv
	return r, nil
}

// Addr returns the plain-DNS address, "127.0.0.1:port", for UDP and TCP.
func (r *Recursive) Addr() string { return r.srv.addr }

func (r *Recursive) close() error { return r.srv.close() }

// Queries returns the number of queries received over plain DNS and DoH since
// start or ResetCounts. Lookup and Prime are not counted.
func (r *Recursive) Queries() int { return r.counts.get() }

// QueriesFor returns the number of queries received for (name, qtype).
func (r *Recursive) QueriesFor(name string, qtype uint16) int {
	return r.counts.getFor(name, qtype)
}

// QueryTimes returns when each query for (name, qtype) came, on the world's
// Clock, oldest first: tests assert that nothing asked about a challenge
// name before the authoritative server could answer it (RFC 2308).
func (r *Recursive) QueryTimes(name string, qtype uint16) []time.Time {
	return r.counts.timesFor(name, qtype)
}

// ResetCounts sets the query counters to zero.
func (r *Recursive) ResetCounts() { r.counts.reset() }

// Clock returns the clock the cache ages with.
func (r *Recursive) Clock() *Clock { return r.clock }

// Advance moves the world's clock forward by d, ageing the cache.
func (r *Recursive) Advance(d time.Duration) { r.clock.Advance(d) }

// Flush empties the cache.
func (r *Recursive) Flush() {
	r.mu.Lock()
	defer r.mu.Unlock()
	clear(r.cache)
}

// Cached reports whether an unexpired answer for (name, qtype) is cached.
func (r *Recursive) Cached(name string, qtype uint16) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.cache[qkey{canonical(name), qtype}]
	return ok && r.clock.Now().Before(e.expires)
}

// Lookup resolves (name, qtype) as a query with RD set would be, through the
// cache, and returns the response. Errors only for a bad name; SERVFAIL and
// other RCODEs are in the message.
func (r *Recursive) Lookup(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
	if _, ok := dns.IsDomainName(name); !ok {
		return nil, fmt.Errorf("testworld: bad name %q", name)
	}
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(name), qtype)
	return r.resolve(ctx, q), nil
}

// Prime looks (name, qtype) up now so that its answer, negative or not, is
// in the cache: the trap of asking a resolver about a challenge name before
// the record exists (RFC 2308). It returns the RCODE of the answer.
func (r *Recursive) Prime(name string, qtype uint16) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	m, err := r.Lookup(ctx, name, qtype)
	if err != nil {
		return 0, err
	}
	return m.Rcode, nil
}

func (r *Recursive) serveDNS(w dns.ResponseWriter, req *dns.Msg) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp := r.handle(ctx, req)
	writeReply(w, req, resp)
}

// handle answers one query from a client: counting, RD policy, resolution.
func (r *Recursive) handle(ctx context.Context, req *dns.Msg) *dns.Msg {
	if req.Opcode != dns.OpcodeQuery {
		return new(dns.Msg).SetRcode(req, dns.RcodeNotImplemented)
	}
	if len(req.Question) != 1 {
		return new(dns.Msg).SetRcode(req, dns.RcodeFormatError)
	}
	q := req.Question[0]
	r.counts.addAt(q.Name, q.Qtype, r.clock.Now())
	if !req.RecursionDesired && r.caching {
		switch r.noRD {
		case NoRDRefuse:
			m := new(dns.Msg).SetRcode(req, dns.RcodeRefused)
			m.RecursionAvailable = true
			return m
		case NoRDNXDomain:
			m := new(dns.Msg).SetRcode(req, dns.RcodeNameError)
			m.RecursionAvailable = true
			return m
		}
	}
	return r.resolve(ctx, req)
}

// resolve builds the response to req by following the CNAME chain.
func (r *Recursive) resolve(ctx context.Context, req *dns.Msg) *dns.Msg {
	resp := new(dns.Msg)
	resp.SetReply(req)
	resp.RecursionAvailable = true
	q := req.Question[0]
	if q.Qclass != dns.ClassINET {
		resp.Rcode = dns.RcodeRefused
		return resp
	}
	name := canonical(q.Name)
	seen := map[string]bool{name: true}
	for hops := 0; ; hops++ {
		e, err := r.lookup(ctx, name, q.Qtype)
		if err != nil {
			return servfail(resp)
		}
		resp.Answer = append(resp.Answer, e.answer...)
		if e.rcode != dns.RcodeSuccess || len(e.answer) == 0 {
			resp.Rcode = e.rcode
			resp.Ns = e.ns
			return resp
		}
		next := ""
		if q.Qtype != dns.TypeCNAME && q.Qtype != dns.TypeANY {
			for _, rr := range e.answer {
				if c, ok := rr.(*dns.CNAME); ok && canonical(c.Hdr.Name) == name {
					next = canonical(c.Target)
				}
			}
		}
		if next == "" {
			return resp
		}
		if seen[next] || hops+1 > MaxCNAMEHops {
			return servfail(resp)
		}
		seen[next] = true
		name = next
	}
}

func servfail(resp *dns.Msg) *dns.Msg {
	resp.Rcode = dns.RcodeServerFailure
	resp.Answer, resp.Ns, resp.Extra = nil, nil, nil
	return resp
}

// lookup returns the authoritative answer for one (name, qtype), from the
// cache when fresh, with TTLs reduced by the time spent in the cache.
func (r *Recursive) lookup(ctx context.Context, name string, qtype uint16) (*cacheEntry, error) {
	key := qkey{name, qtype}
	now := r.clock.Now()
	if r.caching {
		r.mu.Lock()
		e, ok := r.cache[key]
		if ok && now.Before(e.expires) {
			age := uint32(now.Sub(e.stored) / time.Second)
			out := &cacheEntry{answer: agedCopy(e.answer, age), ns: agedCopy(e.ns, age), rcode: e.rcode}
			r.mu.Unlock()
			return out, nil
		}
		if ok {
			delete(r.cache, key)
		}
		r.mu.Unlock()
	}
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired = false
	m.SetEdns0(1232, false)
	upstream := r.upstreamFor(name)
	in, _, err := r.client.ExchangeContext(ctx, m, upstream)
	if err == nil && in.Truncated {
		in, _, err = r.tcp.ExchangeContext(ctx, m, upstream)
	}
	if err != nil {
		return nil, fmt.Errorf("testworld: asking %s about %s: %w", upstream, name, err)
	}
	if in.Rcode != dns.RcodeSuccess && in.Rcode != dns.RcodeNameError {
		return nil, fmt.Errorf("testworld: %s answered %s for %s", upstream, dns.RcodeToString[in.Rcode], name)
	}
	e := &cacheEntry{rcode: in.Rcode, answer: in.Answer, stored: now}
	for _, rr := range in.Ns {
		if _, ok := rr.(*dns.SOA); ok {
			e.ns = append(e.ns, rr)
		}
	}
	if r.caching {
		if ttl, ok := cacheTTL(e); ok && ttl > 0 {
			e.expires = now.Add(time.Duration(ttl) * time.Second)
			r.mu.Lock()
			r.cache[key] = e
			r.mu.Unlock()
		}
	}
	return &cacheEntry{answer: agedCopy(e.answer, 0), ns: agedCopy(e.ns, 0), rcode: e.rcode}, nil
}

// cacheTTL is how long e may be cached, in seconds: the smallest answer TTL
// for a positive answer, the SOA's TTL for a negative one (RFC 2308 §5).
func cacheTTL(e *cacheEntry) (uint32, bool) {
	if e.rcode == dns.RcodeSuccess && len(e.answer) > 0 {
		ttl := e.answer[0].Header().Ttl
		for _, rr := range e.answer {
			ttl = min(ttl, rr.Header().Ttl)
		}
		return ttl, true
	}
	for _, rr := range e.ns {
		if soa, ok := rr.(*dns.SOA); ok {
			return min(soa.Hdr.Ttl, soa.Minttl), true
		}
	}
	return 0, false
}

func agedCopy(rrs []dns.RR, age uint32) []dns.RR {
	if len(rrs) == 0 {
		return nil
	}
	out := make([]dns.RR, len(rrs))
	for i, rr := range rrs {
		c := dns.Copy(rr)
		if h := c.Header(); h.Ttl > age {
			h.Ttl -= age
		} else {
			h.Ttl = 0
		}
		out[i] = c
	}
	return out
}

// Forward makes the resolver ask the authoritative server at addr
// ("host:port", UDP with TCP fallback) for every name at or under zone,
// instead of the world's own server: a delegation (NS records pointing out
// of the world) without the referral walk. The longest matching zone wins.
func (r *Recursive) Forward(zone, addr string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stubs == nil {
		r.stubs = map[string]string{}
	}
	r.stubs[strings.ToLower(dns.Fqdn(zone))] = addr
	r.cache = map[qkey]*cacheEntry{}
}

func (r *Recursive) upstreamFor(name string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	best, addr := "", r.upstream
	lname := strings.ToLower(name)
	for z, a := range r.stubs {
		if (lname == z || strings.HasSuffix(lname, "."+z)) && len(z) > len(best) {
			best, addr = z, a
		}
	}
	return addr
}
