package rfc2136

import (
	"context"
	"errors"
	"fmt"
	"net"
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
	if _, _, err := net.SplitHostPort(s); err == nil {
		return s, nil
	}
	return net.JoinHostPort(strings.Trim(s, "[]"), "53"), nil
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
