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
// DefaultTimeout, both address families.
type Options struct {
	// RootCAs verifies DoH and DoT servers; nil means the system roots.
	RootCAs *x509.CertPool
	// Timeout bounds one exchange (one HTTP request, one UDP/TCP round trip).
	// Zero means DefaultTimeout.
	Timeout time.Duration
	// IPv4Only dials tcp4/udp4 only (PR07: broken IPv6 paths).
	IPv4Only bool
	// HTTPClient, when set, is used for DoH instead of one built from the
	// fields above (tests, proxies).
	HTTPClient *http.Client
}

// DefaultTimeout bounds one exchange when Options.Timeout is zero.
const DefaultTimeout = 5 * time.Second
