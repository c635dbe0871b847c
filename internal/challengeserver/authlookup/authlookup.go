// Package authlookup asks every authoritative server of a name's zone
// directly (RD=0, no cache) and reports what each one answered. It backs the
// challenge server's POST /lookup, which lets clients that cannot send DNS
// (port 53 blocked) check propagation over HTTPS (the "relay" strategy).
//
// The zone and its NS set are found through recursive resolvers (SOA, NS and
// A/AAAA questions only); the question itself goes to each authoritative
// server address, never to a cache.
package authlookup

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Resolver performs lookups. The zero value uses /etc/resolv.conf, port 53
// and a 3 s timeout per exchange. Safe for concurrent use.
type Resolver struct {
	// Recursive are "host:port" recursive resolvers used to find the zone
	// cut, NS names and their addresses; empty: /etc/resolv.conf.
	Recursive []string
	// Port of the authoritative servers (default "53"; tests use others).
	Port string
	// Timeout bounds one exchange (default 3 s).
	Timeout time.Duration
}

// Server is one authoritative server's answer.
type Server struct {
	NS            string   `json:"ns"`              // NS target name
	Address       string   `json:"address"`         // host:port asked
	Rcode         string   `json:"rcode,omitempty"` // NOERROR, NXDOMAIN, …
	Authoritative bool     `json:"authoritative"`   // AA bit
	Answer        []string `json:"answer"`          // answer RRs, presentation format
	TXT           []string `json:"txt,omitempty"`   // TXT strings (joined per RR) for convenience
	RTTms         float64  `json:"rtt_ms"`          // round trip in milliseconds
	Error         string   `json:"error,omitempty"` // transport failure
}

// Result is the reply of POST /lookup.
type Result struct {
	Name    string   `json:"name"`
	Type    string   `json:"type"`
	Zone    string   `json:"zone"`
	Servers []Server `json:"servers"`
}

// ErrNoZone means no zone cut was found for the name.
var ErrNoZone = errors.New("authlookup: no zone found")

func (r *Resolver) timeout() time.Duration {
	if r.Timeout > 0 {
		return r.Timeout
	}
	return 3 * time.Second
}

func (r *Resolver) recursive() ([]string, error) {
	if len(r.Recursive) > 0 {
		return r.Recursive, nil
	}
	cc, err := dns.ClientConfigFromFile("/etc/resolv.conf")
	if err != nil {
		return nil, fmt.Errorf("authlookup: no recursive resolvers configured and /etc/resolv.conf: %w", err)
	}
	var out []string
	for _, s := range cc.Servers {
		out = append(out, net.JoinHostPort(s, cc.Port))
	}
	return out, nil
}

func (r *Resolver) exchange(ctx context.Context, addr string, m *dns.Msg) (*dns.Msg, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout())
	defer cancel()
	c := &dns.Client{Net: "udp", UDPSize: 1232}
	res, rtt, err := c.ExchangeContext(ctx, m, addr)
	if err == nil && res.Truncated {
		c.Net = "tcp"
		res, rtt, err = c.ExchangeContext(ctx, m, addr)
	}
	return res, rtt, err
}

// recurse asks the recursive resolvers in turn for name/qtype (RD=1).
func (r *Resolver) recurse(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
	rs, err := r.recursive()
	if err != nil {
		return nil, err
	}
	var last error = errors.New("no resolvers")
	for _, addr := range rs {
		m := new(dns.Msg)
		m.SetQuestion(name, qtype)
		m.SetEdns0(1232, false)
		res, _, err := r.exchange(ctx, addr, m)
		if err == nil && (res.Rcode == dns.RcodeSuccess || res.Rcode == dns.RcodeNameError) {
			return res, nil
		}
		if err == nil {
			err = fmt.Errorf("%s answered %s", addr, dns.RcodeToString[res.Rcode])
		}
		last = err
	}
	return nil, last
}

// Zone returns the apex of the zone holding name, found by SOA questions.
func (r *Resolver) Zone(ctx context.Context, name string) (string, error) {
	name = dns.Fqdn(strings.ToLower(name))
	for cand := name; ; {
		res, err := r.recurse(ctx, cand, dns.TypeSOA)
		if err != nil {
			return "", err
		}
		for _, rr := range res.Answer {
			if soa, ok := rr.(*dns.SOA); ok && strings.EqualFold(soa.Hdr.Name, cand) {
				return strings.ToLower(cand), nil
			}
		}
		for _, rr := range res.Ns {
			if soa, ok := rr.(*dns.SOA); ok {
				return strings.ToLower(soa.Hdr.Name), nil
			}
		}
		i, end := dns.NextLabel(cand, 0)
		if end || cand == "." {
			return "", fmt.Errorf("%w for %s", ErrNoZone, name)
		}
		cand = cand[i:]
	}
}

// Lookup asks every address of every NS of name's zone for name/qtype.
func (r *Resolver) Lookup(ctx context.Context, name string, qtype uint16) (*Result, error) {
	name = dns.Fqdn(name)
	zone, err := r.Zone(ctx, name)
	if err != nil {
		return nil, err
	}
	res := &Result{Name: name, Type: dns.TypeToString[qtype], Zone: zone, Servers: []Server{}}
	nsres, err := r.recurse(ctx, zone, dns.TypeNS)
	if err != nil {
		return nil, fmt.Errorf("authlookup: NS of %s: %w", zone, err)
	}
	var nsNames []string
	for _, rr := range nsres.Answer {
		if ns, ok := rr.(*dns.NS); ok {
			nsNames = append(nsNames, strings.ToLower(ns.Ns))
		}
	}
	if len(nsNames) == 0 {
		return nil, fmt.Errorf("authlookup: %s has no NS records", zone)
	}
	sort.Strings(nsNames)
	port := r.Port
	if port == "" {
		port = "53"
	}
	type target struct{ ns, addr string }
	var targets []target
	for _, ns := range nsNames {
		for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
			ar, err := r.recurse(ctx, ns, t)
			if err != nil {
				continue
			}
			for _, rr := range ar.Answer {
				switch x := rr.(type) {
				case *dns.A:
					targets = append(targets, target{ns, net.JoinHostPort(x.A.String(), port)})
				case *dns.AAAA:
					targets = append(targets, target{ns, net.JoinHostPort(x.AAAA.String(), port)})
				}
			}
		}
	}
	if len(targets) == 0 {
		return nil, fmt.Errorf("authlookup: no addresses for the name servers of %s (%s)", zone, strings.Join(nsNames, ", "))
	}
	res.Servers = make([]Server, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := Server{NS: t.ns, Address: t.addr, Answer: []string{}}
			m := new(dns.Msg)
			m.SetQuestion(name, qtype)
			m.RecursionDesired = false
			m.SetEdns0(1232, false)
			ans, rtt, err := r.exchange(ctx, t.addr, m)
			s.RTTms = float64(rtt.Microseconds()) / 1000
			if err != nil {
				s.Error = err.Error()
			} else {
				s.Rcode = dns.RcodeToString[ans.Rcode]
				s.Authoritative = ans.Authoritative
				for _, rr := range ans.Answer {
					s.Answer = append(s.Answer, rr.String())
					if txt, ok := rr.(*dns.TXT); ok && strings.EqualFold(txt.Hdr.Name, name) {
						s.TXT = append(s.TXT, strings.Join(txt.Txt, ""))
					}
				}
			}
			res.Servers[i] = s
		}()
	}
	wg.Wait()
	return res, nil
}
