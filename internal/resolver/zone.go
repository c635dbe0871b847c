package resolver

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// DNSPort is the port authoritative servers are asked on.
const DNSPort = "53"

// Zone is a zone's apex and the addresses of its authoritative servers.
type Zone struct {
	// Apex is the zone's name, lower case and fully qualified.
	Apex string
	// Servers maps "ip:port" to the NS name (lower case, fully qualified)
	// the address came from.
	Servers map[string]string
}

// FindZone returns the zone holding name, with the addresses of its
// authoritative servers, asking only rs (in order, see QueryAny). port
// ("" means DNSPort) is appended to every address; ipv4Only skips AAAA.
//
// The zone is the closest enclosing name that owns an NS RRset (RFC 1034
// §4.2.1), asked from name upwards. Only NS records owned by the name asked
// count: when a name is a CNAME (an _acme-challenge name delegated to an
// acme-dns server), a recursive resolver follows it, and the NS records or
// the SOA in the authority section it returns belong to the target's zone,
// not to the zone that holds the CNAME itself, whose servers are the ones to
// ask about the CNAME. A CNAME cannot sit at a zone apex (RFC 1034 §3.6.2,
// RFC 2181 §10.1), so the walk goes on to the parent.
func FindZone(ctx context.Context, rs []Resolver, name, port string, ipv4Only bool) (*Zone, error) {
	if port == "" {
		port = DNSPort
	}
	cur := strings.ToLower(dns.Fqdn(name))
	for {
		msg, err := QueryAny(ctx, rs, cur, dns.TypeNS)
		if err != nil {
			return nil, err
		}
		var nss []string
		for _, rr := range msg.Answer {
			if ns, ok := rr.(*dns.NS); ok && strings.EqualFold(ns.Hdr.Name, cur) {
				nss = append(nss, strings.ToLower(ns.Ns))
			}
		}
		if len(nss) > 0 {
			slices.Sort(nss)
			nss = slices.Compact(nss)
			z := &Zone{Apex: cur, Servers: map[string]string{}}
			for _, ns := range nss {
				types := []uint16{dns.TypeA, dns.TypeAAAA}
				if ipv4Only {
					types = types[:1]
				}
				for _, t := range types {
					am, err := QueryAny(ctx, rs, ns, t)
					if err != nil {
						return nil, fmt.Errorf("address of name server %s: %w", ns, err)
					}
					for _, rr := range am.Answer {
						switch a := rr.(type) {
						case *dns.A:
							z.Servers[net.JoinHostPort(a.A.String(), port)] = ns
						case *dns.AAAA:
							z.Servers[net.JoinHostPort(a.AAAA.String(), port)] = ns
						}
					}
				}
			}
			if len(z.Servers) == 0 {
				return nil, fmt.Errorf("zone %s: no address found for its name servers %s", cur, strings.Join(nss, ", "))
			}
			return z, nil
		}
		off, end := dns.NextLabel(cur, 0)
		if end || cur == "." {
			return nil, fmt.Errorf("no zone with an NS RRset found above %s", name)
		}
		cur = cur[off:]
	}
}

// QueryAny asks rs in order (Query) until one answers NOERROR or NXDOMAIN,
// and returns that answer; the error lists every resolver's failure.
func QueryAny(ctx context.Context, rs []Resolver, name string, qtype uint16) (*dns.Msg, error) {
	if len(rs) == 0 {
		return nil, fmt.Errorf("asking %s %s: no resolvers", name, dns.TypeToString[qtype])
	}
	var errs []string
	for _, r := range rs {
		msg, err := Query(ctx, r, name, qtype)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			errs = append(errs, err.Error())
			continue
		}
		if msg.Rcode != dns.RcodeSuccess && msg.Rcode != dns.RcodeNameError {
			errs = append(errs, fmt.Sprintf("%s: %s for %s %s", r, dns.RcodeToString[msg.Rcode], name, dns.TypeToString[qtype]))
			continue
		}
		return msg, nil
	}
	return nil, fmt.Errorf("asking %s %s: %s", name, dns.TypeToString[qtype], strings.Join(errs, "; "))
}
