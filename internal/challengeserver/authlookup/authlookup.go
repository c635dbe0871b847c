// Package authlookup asks every authoritative server of a name's zone
// directly (RD=0, no cache) and reports what each one answered. It backs the
// challenge server's POST /lookup, which lets clients that cannot send DNS
// (port 53 blocked) check propagation over HTTPS (the "relay" strategy).
//
// The zone and its NS set are found through recursive resolvers with
// resolver.FindZone, the zone-cut finder the authoritative propagation
// strategy uses as well (NS, A and AAAA questions only, correct when the
// name is a CNAME into another zone); the question itself goes to each
// authoritative server address, never to a cache.
package authlookup

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/internal/resolver"
)

// ResolvConf is where Resolver finds the machine's recursive resolvers when
// none are configured.
const ResolvConf = "/etc/resolv.conf"

// Resolver performs lookups. The zero value asks the machine's resolvers
// (ResolvConf), port 53, with a 3 s timeout per exchange. Safe for
// concurrent use.
type Resolver struct {
	// Recursive are the recursive resolvers that find the zone cut, NS names
	// and their addresses, as resolver.New specs ("host:port" is plain DNS;
	// https:// DoH and tls:// DoT work too); empty: SystemResolvers.
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

func (r *Resolver) options() resolver.Options {
	o := resolver.Options{Timeout: r.Timeout}
	if o.Timeout <= 0 {
		o.Timeout = 3 * time.Second
	}
	return o
}

// SystemResolvers returns the machine's recursive resolvers as "host:port",
// read from ResolvConf: what Resolver uses when Recursive is empty.
func SystemResolvers() ([]string, error) {
	cc, err := dns.ClientConfigFromFile(ResolvConf)
	if err != nil {
		return nil, fmt.Errorf("authlookup: no recursive resolvers configured and %s: %w", ResolvConf, err)
	}
	var out []string
	for _, s := range cc.Servers {
		out = append(out, net.JoinHostPort(s, cc.Port))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("authlookup: no recursive resolvers configured and none in %s", ResolvConf)
	}
	return out, nil
}

func (r *Resolver) recursive() ([]resolver.Resolver, error) {
	specs := r.Recursive
	if len(specs) == 0 {
		var err error
		if specs, err = SystemResolvers(); err != nil {
			return nil, err
		}
	}
	out := make([]resolver.Resolver, 0, len(specs))
	for _, s := range specs {
		x, err := resolver.New(s, r.options())
		if err != nil {
			return nil, fmt.Errorf("authlookup: %w", err)
		}
		out = append(out, x)
	}
	return out, nil
}

// Zone returns the zone holding name and its servers' addresses (see
// resolver.FindZone).
func (r *Resolver) Zone(ctx context.Context, name string) (*resolver.Zone, error) {
	rs, err := r.recursive()
	if err != nil {
		return nil, err
	}
	z, err := resolver.FindZone(ctx, rs, name, r.Port, false)
	if err != nil {
		return nil, fmt.Errorf("%w for %s: %v", ErrNoZone, strings.TrimSuffix(dns.Fqdn(name), "."), err)
	}
	return z, nil
}

// Lookup asks every address of every NS of name's zone for name/qtype.
func (r *Resolver) Lookup(ctx context.Context, name string, qtype uint16) (*Result, error) {
	name = dns.Fqdn(name)
	z, err := r.Zone(ctx, name)
	if err != nil {
		return nil, err
	}
	res := &Result{Name: name, Type: dns.TypeToString[qtype], Zone: z.Apex}
	type target struct{ ns, addr string }
	targets := make([]target, 0, len(z.Servers))
	for addr, ns := range z.Servers {
		targets = append(targets, target{ns, addr})
	}
	slices.SortFunc(targets, func(a, b target) int {
		if c := strings.Compare(a.ns, b.ns); c != 0 {
			return c
		}
		return strings.Compare(a.addr, b.addr)
	})
	res.Servers = make([]Server, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res.Servers[i] = r.ask(ctx, t.ns, t.addr, name, qtype)
		}()
	}
	wg.Wait()
	return res, nil
}

// ask sends name/qtype with RD=0 to one authoritative server.
func (r *Resolver) ask(ctx context.Context, ns, addr, name string, qtype uint16) Server {
	s := Server{NS: ns, Address: addr, Answer: []string{}}
	x, err := resolver.New("udp://"+addr, r.options())
	if err != nil {
		s.Error = err.Error()
		return s
	}
	q := resolver.NewQuery(name, qtype)
	q.RecursionDesired = false
	start := time.Now()
	ans, err := x.Exchange(ctx, q)
	s.RTTms = float64(time.Since(start).Microseconds()) / 1000
	if err != nil {
		s.Error = err.Error()
		return s
	}
	s.Rcode = dns.RcodeToString[ans.Rcode]
	s.Authoritative = ans.Authoritative
	for _, rr := range ans.Answer {
		s.Answer = append(s.Answer, rr.String())
		if txt, ok := rr.(*dns.TXT); ok && strings.EqualFold(txt.Hdr.Name, name) {
			s.TXT = append(s.TXT, strings.Join(txt.Txt, ""))
		}
	}
	return s
}
