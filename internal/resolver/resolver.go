// Package resolver asks DNS questions over the transport the operator chose:
// DNS-over-HTTPS (RFC 8484), DNS-over-TLS (RFC 7858) or plain DNS (RFC 1035,
// UDP with TCP fallback). Every other package that needs an answer from the
// DNS goes through a Resolver, so no code path sends a packet to port 53
// unless the operator configured a plain-DNS resolver.
package resolver

import (
	"context"
	"crypto/x509"
	"net/http"
	"time"

	"github.com/miekg/dns"
)

// Resolver sends one DNS message and returns the response.
//
// Exchange MUST NOT modify q. Implementations are safe for concurrent use.
// A response with a non-success RCODE (NXDOMAIN, SERVFAIL, REFUSED) is not an
// error: callers read msg.Rcode. Errors are transport failures (timeout, TLS,
// HTTP status) and are wrapped in *Error naming the endpoint.
type Resolver interface {
	Exchange(ctx context.Context, q *dns.Msg) (*dns.Msg, error)
	// String returns the endpoint as the operator wrote it, for reports.
	String() string
}

// Options configure every transport. The zero value is usable: system roots,
// DefaultTimeout, both address families, DoH over POST.
type Options struct {
	// RootCAs verifies DoH and DoT servers; nil means the system roots.
	RootCAs *x509.CertPool
	// Timeout bounds one exchange (one HTTP request, one UDP/TCP round trip).
	// Zero means DefaultTimeout.
	Timeout time.Duration
	// IPv4Only dials tcp4/udp4 only (PR07: broken IPv6 paths).
	IPv4Only bool
	// HTTPClient, when set, is used for DoH instead of one built from the
	// fields above (tests, proxies). Its own Timeout still applies; Options
	// Timeout bounds each request through the request context as well.
	HTTPClient *http.Client
	// DoHMethod selects how DoH queries are sent: http.MethodPost (the
	// default when empty) carries the message as the request body;
	// http.MethodGet carries it base64url-encoded without padding in the
	// "dns" query parameter (RFC 8484 §4.1), which some caching proxies
	// handle better. Any other value makes New fail.
	DoHMethod string
}

// DefaultTimeout bounds one exchange when Options.Timeout is zero.
const DefaultTimeout = 5 * time.Second

// Well-known public DoH endpoints (RFC 8484). They are only defaults for the
// operator's configuration; nothing in this package contacts them by itself.
//
// Each service is reachable two ways. By host name (Quad9, Cloudflare,
// Google) the host must first be resolved, through the system resolver or
// an HTTPS proxy (CONNECT carries the name). By address (Quad9IP,
// CloudflareIP, GoogleIP) no DNS is needed at all: each service presents a
// certificate valid for that IP address, so TLS verifies as usual.
const (
	Quad9      = "https://dns.quad9.net/dns-query"
	Cloudflare = "https://cloudflare-dns.com/dns-query"
	Google     = "https://dns.google/dns-query"

	Quad9IP      = "https://9.9.9.9/dns-query"
	CloudflareIP = "https://1.1.1.1/dns-query"
	GoogleIP     = "https://8.8.8.8/dns-query"
)

// Defaults is the DoH resolver list used when the operator configures none:
// Quad9, Cloudflare and Google by address, in that order.
//
// By address because the networks this tool is for often have no working
// system resolver: a DoH URL by host name would need the very DNS that is
// blocked before its first question, while an address URL needs only
// HTTPS out (directly or through an HTTP CONNECT proxy). The price is that
// a proxy which allows DoH hosts by name only sees a bare address; such a
// network lists the host-name URLs with --resolver instead.
//
// Callers must not modify it; copy it first (slices.Clone) when they need
// to change the list.
var Defaults = []string{Quad9IP, CloudflareIP, GoogleIP}

// EDNSBufSize is the EDNS0 UDP payload size advertised in every query built
// by this package: 1232 bytes avoids IP fragmentation on any path with an
// MTU of at least 1280 (the DNS Flag Day 2020 recommendation).
const EDNSBufSize = 1232
