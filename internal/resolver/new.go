package resolver

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// New returns a Resolver for one endpoint spec:
//
//	https://host[:port]/path   DNS-over-HTTPS (RFC 8484), e.g. https://dns.quad9.net/dns-query
//	tls://host[:port]          DNS-over-TLS (RFC 7858), default port 853
//	udp://host[:port]          plain DNS over UDP, TCP when truncated, default port 53
//	tcp://host[:port]          plain DNS over TCP only, default port 53
//	host:port, IP, [IPv6]:port plain DNS as udp://
//
// A DoH query goes out as POST unless opts.DoHMethod is http.MethodGet. A
// bad spec gives an error naming the spec and the fix; New itself sends
// nothing.
func New(spec string, opts Options) (Resolver, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	s := strings.TrimSpace(spec)
	if s == "" {
		return nil, fmt.Errorf("resolver: empty spec; use https://host/dns-query, tls://host, udp://host or host:port")
	}
	scheme, rest, hasScheme := strings.Cut(s, "://")
	if !hasScheme {
		addr, err := bareAddr(s, opts)
		if err != nil {
			return nil, err
		}
		return newPlain(spec, addr, false, opts), nil
	}
	switch strings.ToLower(scheme) {
	case "https":
		return newDoH(spec, opts)
	case "http":
		return nil, fmt.Errorf("resolver %q: plain http is not DNS-over-HTTPS; use https://%s", spec, rest)
	case "tls":
		addr, err := hostPort(spec, rest, "853", opts)
		if err != nil {
			return nil, err
		}
		return newDoT(spec, addr, opts), nil
	case "udp":
		addr, err := hostPort(spec, rest, "53", opts)
		if err != nil {
			return nil, err
		}
		return newPlain(spec, addr, false, opts), nil
	case "tcp":
		addr, err := hostPort(spec, rest, "53", opts)
		if err != nil {
			return nil, err
		}
		return newPlain(spec, addr, true, opts), nil
	default:
		return nil, fmt.Errorf("resolver %q: unknown scheme %q; use https://, tls://, udp:// or tcp://", spec, scheme)
	}
}

// bareAddr accepts "ip", "[ipv6]", "host:port", "[ipv6]:port". A bare name
// without a port is refused: it is more often a DoH host missing its URL
// than a plain-DNS server, and guessing wrong would send port 53 traffic.
func bareAddr(spec string, opts Options) (string, error) {
	s := strings.TrimSpace(spec)
	if ip := net.ParseIP(strings.Trim(s, "[]")); ip != nil {
		return checkFamily(spec, net.JoinHostPort(ip.String(), "53"), ip, opts)
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return "", fmt.Errorf("resolver %q: a bare name needs a port (%s:53) or a scheme (https://%s/dns-query, tls://%s)", spec, s, s, s)
	}
	return finishHostPort(spec, host, port, opts)
}

// hostPort parses the part after "scheme://": host, optional port, no path.
func hostPort(spec, rest, defPort string, opts Options) (string, error) {
	rest = strings.TrimSuffix(rest, "/")
	if strings.ContainsAny(rest, "/?#") {
		return "", fmt.Errorf("resolver %q: only host[:port] may follow the scheme (a path is for https:// DoH URLs)", spec)
	}
	if rest == "" {
		return "", fmt.Errorf("resolver %q: missing host; e.g. tls://dns.quad9.net or udp://192.0.2.53:53", spec)
	}
	if ip := net.ParseIP(strings.Trim(rest, "[]")); ip != nil {
		return checkFamily(spec, net.JoinHostPort(ip.String(), defPort), ip, opts)
	}
	host, port, err := net.SplitHostPort(rest)
	if err != nil {
		// No port: the whole rest is the host.
		host, port = rest, defPort
	}
	return finishHostPort(spec, host, port, opts)
}

func finishHostPort(spec, host, port string, opts Options) (string, error) {
	if host == "" {
		return "", fmt.Errorf("resolver %q: missing host before the port", spec)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("resolver %q: port %q is not a number from 1 to 65535", spec, port)
	}
	addr := net.JoinHostPort(host, port)
	if ip := net.ParseIP(host); ip != nil {
		return checkFamily(spec, addr, ip, opts)
	}
	return addr, nil
}

// checkFamily refuses an IPv6 literal when IPv4Only is set, at configuration
// time instead of at the first (failing) query.
func checkFamily(spec, addr string, ip net.IP, opts Options) (string, error) {
	if opts.IPv4Only && ip.To4() == nil {
		return "", fmt.Errorf("resolver %q: IPv6 address while IPv4-only is set; use an IPv4 address or turn IPv4-only off", spec)
	}
	return addr, nil
}

func newDoH(spec string, opts Options) (Resolver, error) {
	u, err := url.Parse(strings.TrimSpace(spec))
	if err != nil {
		return nil, fmt.Errorf("resolver %q: not a URL (%v); use https://host/dns-query", spec, err)
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, fmt.Errorf("resolver %q: missing host; use https://host/dns-query", spec)
	}
	if u.Path == "" || u.Path == "/" {
		return nil, fmt.Errorf("resolver %q: missing the DoH path; most servers use https://%s/dns-query", spec, u.Host)
	}
	if u.User != nil {
		return nil, fmt.Errorf("resolver %q: credentials in the URL are not supported (DoH servers take none); give https://host/dns-query without user:password", spec)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("resolver %q: port %q is not a number from 1 to 65535", spec, p)
		}
	}
	if ip := net.ParseIP(u.Hostname()); ip != nil {
		if _, err := checkFamily(spec, u.Host, ip, opts); err != nil {
			return nil, err
		}
	}
	u.Fragment = ""
	method := strings.ToUpper(opts.DoHMethod)
	switch method {
	case "":
		method = http.MethodPost
	case http.MethodPost, http.MethodGet:
	default:
		return nil, fmt.Errorf("resolver %q: DoH method %q not supported; use GET or POST", spec, opts.DoHMethod)
	}
	client := opts.HTTPClient
	if client == nil {
		client = &http.Client{Transport: newTransport(opts)}
	}
	return &doh{spec: spec, url: u, method: method, client: client, timeout: opts.Timeout}, nil
}
