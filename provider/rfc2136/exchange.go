package rfc2136

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// fudge is the TSIG time window, seconds (RFC 8945 §10 recommends 300).
const fudge = 300

// maxUDP is the largest message sent over UDP: the classic limit of RFC
// 1035 §4.2.1, since an UPDATE carries no EDNS size of its own choosing the
// server is bound to.
const maxUDP = dns.MinMsgSize

// server returns the primary's address with port 53 added when none is given.
func (p *Provider) server() (string, error) {
	s := strings.TrimSpace(p.Server)
	if s == "" {
		return "", errors.New("rfc2136: no server; set Server (RFC2136_NAMESERVER) to the zone's primary, host or host:port")
	}
	addr, err := ParseNameserver(s)
	if err != nil {
		return "", fmt.Errorf("rfc2136: %s: %v", EnvNameserver, err)
	}
	return addr, nil
}

// ParseNameserver parses the address of the zone's primary server: a host
// name or an IP address, with an optional port (IPv6 with a port as
// [2001:db8::53]:53), and returns it as host:port, port 53 when none is
// given. The unspecified address (0.0.0.0, ::) is refused: it names no
// server. Its error says what to give, not the setting.
func ParseNameserver(v string) (string, error) {
	v = strings.TrimSpace(v)
	const want = "give the primary's host or host:port, e.g. ns1.example.net, 192.0.2.53:53 or [2001:db8::53]:53"
	if strings.Contains(v, "://") {
		return "", fmt.Errorf("not a URL; %s", want)
	}
	host, port := v, "53"
	if h, p, err := net.SplitHostPort(v); err == nil {
		host, port = h, p
	} else if strings.HasPrefix(v, "[") && strings.HasSuffix(v, "]") {
		host = v[1 : len(v)-1]
	} else if strings.Count(v, ":") == 1 {
		return "", fmt.Errorf("%v; %s", err, want)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("port %q is not a number from 1 to 65535; %s", port, want)
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if ip.IsUnspecified() {
			return "", fmt.Errorf("%s is the unspecified address, which names no server; %s", host, want)
		}
		return net.JoinHostPort(ip.String(), port), nil
	}
	if _, ok := dns.IsDomainName(host); !ok || host == "" || strings.ContainsAny(host, " /\\@[]%:") {
		return "", fmt.Errorf("%q is neither an IP address nor a host name; %s", host, want)
	}
	return net.JoinHostPort(host, port), nil
}

func (p *Provider) timeout() time.Duration {
	if p.Timeout > 0 {
		return p.Timeout
	}
	return DefaultTimeout
}

// exchange sends the message that build returns to the primary: over UDP
// when it fits in 512 bytes, else over TCP, and again over TCP when the UDP
// answer is truncated (RFC 1035 §4.2.2, RFC 7766). Each attempt is built
// and signed afresh. A signed message must get a verified signed answer;
// an RCODE other than NOERROR (and NXDOMAIN for questions) is a
// *ServerError for op on zone.
func (p *Provider) exchange(ctx context.Context, op, zone string, build func() *dns.Msg) (*dns.Msg, error) {
	addr, err := p.server()
	if err != nil {
		return nil, err
	}
	key, err := p.key()
	if err != nil {
		return nil, err
	}
	send := func(network string) (*dns.Msg, error) {
		m := build()
		c := &dns.Client{Net: network, Timeout: p.timeout()}
		if key != nil {
			m.SetTsig(key.Name, key.Algorithm, fudge, time.Now().Unix())
			c.TsigSecret = map[string]string{key.Name: key.Secret}
		}
		if network == "udp" {
			if n := m.Len(); n > maxUDP {
				return nil, errTooBig
			}
		}
		r, _, err := c.ExchangeContext(ctx, m, addr)
		return p.verify(r, err, op, addr, zone, key)
	}
	r, err := send("udp")
	if errors.Is(err, errTooBig) || (err == nil && r.Truncated) {
		r, err = send("tcp")
	}
	return r, err
}

var errTooBig = errors.New("message too big for UDP")

// verify turns an exchange's outcome into the answer or one error: a
// transport failure, an unsigned or forged answer to a signed message, or
// the server's RCODE.
func (p *Provider) verify(r *dns.Msg, err error, op, addr, zone string, key *Key) (*dns.Msg, error) {
	serr := func(r *dns.Msg) *ServerError {
		e := &ServerError{Op: op, Server: addr, Zone: zone, Rcode: r.Rcode}
		if key != nil {
			e.Key = key.Name
		}
		if t := r.IsTsig(); t != nil {
			e.TSIGError = t.Error
		}
		return e
	}
	if r == nil {
		return nil, fmt.Errorf("rfc2136 %s of %s at %s: %w", op, strings.TrimSuffix(zone, "."), addr, err)
	}
	// A TSIG failure is answered with an unsigned TSIG record (BADKEY,
	// BADSIG) that cannot verify: the server's refusal is the news.
	// miekg/dns does not verify a NOTAUTH answer at all (dns.ErrAuth).
	// Trusting a refusal unverified is safe: a forged one can only make
	// this write fail, never make a failed one look done.
	if t := r.IsTsig(); t != nil && (t.Error != 0 || r.Rcode == dns.RcodeNotAuth) {
		return nil, serr(r)
	}
	if err != nil {
		if errors.Is(err, dns.ErrSig) || errors.Is(err, dns.ErrSecret) || errors.Is(err, dns.ErrTime) {
			return nil, fmt.Errorf("rfc2136 %s of %s at %s: %w (%v); the answer is not trusted", op, strings.TrimSuffix(zone, "."), addr, ErrUnsigned, err)
		}
		return nil, fmt.Errorf("rfc2136 %s of %s at %s: %w", op, strings.TrimSuffix(zone, "."), addr, err)
	}
	if key != nil && r.IsTsig() == nil && !r.Truncated {
		// Servers answer FORMERR unsigned when they could not parse the
		// request; anything else unsigned is not the primary's word.
		if r.Rcode != dns.RcodeSuccess && r.Rcode != dns.RcodeNameError {
			e := serr(r)
			e.Unsigned = true
			return nil, e
		}
		return nil, fmt.Errorf("rfc2136 %s of %s at %s: %w", op, strings.TrimSuffix(zone, "."), addr, ErrUnsigned)
	}
	if r.Rcode != dns.RcodeSuccess && !(op != "update" && r.Rcode == dns.RcodeNameError) {
		return nil, serr(r)
	}
	return r, nil
}
