package api

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// clientIP returns the address the request came from. The client-IP header
// is believed only when the peer is a trusted proxy; then the header's
// entries are walked from the right and the first one that is not itself a
// trusted proxy is the client (the rightmost untrusted hop, never "any entry
// matches" as in acme-dns's AllowedFromList, pkg/acmedns/acmetxt.go). An
// unparsable entry on that walk yields the invalid
// address, which no allowfrom list contains.
func (a *API) clientIP(r *http.Request) netip.Addr {
	peer := remoteAddr(r.RemoteAddr)
	if !a.trusted(peer) {
		return peer
	}
	values := r.Header.Values(a.cfg.ClientIPHeader)
	var hops []string
	for _, v := range values {
		for _, h := range strings.Split(v, ",") {
			hops = append(hops, strings.TrimSpace(h))
		}
	}
	if len(hops) == 0 {
		return peer
	}
	for i := len(hops) - 1; i >= 0; i-- {
		ip, ok := parseHop(hops[i])
		if !ok {
			return netip.Addr{}
		}
		if !a.trusted(ip) {
			return ip
		}
	}
	ip, _ := parseHop(hops[0])
	return ip
}

func (a *API) trusted(ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, p := range a.cfg.TrustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

func remoteAddr(s string) netip.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap()
	}
	ip, _ := parseHop(s)
	return ip
}

// parseHop parses one X-Forwarded-For entry: an address, optionally with a
// port or in brackets.
func parseHop(s string) (netip.Addr, bool) {
	if ip, err := netip.ParseAddr(s); err == nil {
		return ip.Unmap(), true
	}
	if host, _, err := net.SplitHostPort(s); err == nil {
		s = host
	}
	ip, err := netip.ParseAddr(strings.Trim(s, "[]"))
	if err != nil {
		return netip.Addr{}, false
	}
	return ip.Unmap(), true
}

// limiters is a token bucket per key (a source address, or an account's
// username). Entries idle for an hour are dropped when the table grows.
type limiters[K comparable] struct {
	limit rate.Limit
	burst int
	mu    sync.Mutex
	m     map[K]*limiter
}

type limiter struct {
	l    *rate.Limiter
	last time.Time
}

const limiterSweep = 10000

func newLimiters[K comparable](l rate.Limit, burst int) *limiters[K] {
	if burst < 1 {
		burst = 1
	}
	return &limiters[K]{limit: l, burst: burst, m: make(map[K]*limiter)}
}

func (ls *limiters[K]) get(ip K, now time.Time) *rate.Limiter {
	if len(ls.m) >= limiterSweep {
		for k, v := range ls.m {
			if now.Sub(v.last) > time.Hour {
				delete(ls.m, k)
			}
		}
	}
	e, ok := ls.m[ip]
	if !ok {
		e = &limiter{l: rate.NewLimiter(ls.limit, ls.burst)}
		ls.m[ip] = e
	}
	e.last = now
	return e.l
}

// take spends one token of ip; false means the limit is reached.
func (ls *limiters[K]) take(ip K, now time.Time) bool {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return ls.get(ip, now).AllowN(now, 1)
}

// ok reports whether ip has a token left, without spending it.
func (ls *limiters[K]) ok(ip K, now time.Time) bool {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return ls.get(ip, now).TokensAt(now) >= 1
}

// fail spends one token of ip (a failed authentication).
func (ls *limiters[K]) fail(ip K, now time.Time) { ls.take(ip, now) }
