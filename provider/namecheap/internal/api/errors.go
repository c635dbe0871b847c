package api

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// WhitelistURL is where a Namecheap account holder adds IPv4 addresses to the
// API allow-list (Namecheap account settings, API access).
const WhitelistURL = "https://ap.www.namecheap.com/settings/tools/apiaccess/whitelisted-ips"

// Error numbers the client treats specially
// (https://www.namecheap.com/support/api/error-codes/).
const (
	ErrNumInvalidKey        = 1011102 // API key invalid or API access not enabled
	ErrNumInvalidRequestIP  = 1011150 // caller not whitelisted; text "Invalid request IP: a.b.c.d"
	ErrNumDomainNotFound    = 2019166
	ErrNumNotAssociated     = 2016166
	ErrNumEditNotSupported  = 2030166
	ErrNumNotOurDNS         = 2030288 // custom nameservers: host records are not managed by Namecheap
	ErrNumValidation        = 2050900
	ErrNumTooManyRecords    = 3013288
	ErrNumTooManyRecordsAlt = 4013288
	ErrNumUnhandled         = 5050900
	ErrNumTooManyRequests   = 500000 // the older throttle shape, HTTP 200
	ErrNumAgentStopped      = 3050750
	ErrNumEnomUnknown       = 3050900
	ErrNumHostsFromList     = 4023330
	ErrNumServerError       = 4022337
)

// retryableNumbers are the only error numbers retried: throttling and the
// transient back-end errors. Everything else is permanent: retrying 1011150 or
// 2019166 loops forever (terraform-provider-namecheap#17).
var retryableNumbers = map[int]bool{
	ErrNumTooManyRequests: true,
	ErrNumAgentStopped:    true,
	ErrNumEnomUnknown:     true,
	ErrNumHostsFromList:   true,
	ErrNumServerError:     true,
}

// Error is an <Error Number="…"> from an ApiResponse with Status="ERROR".
// Callers key on Number, never on Message: the same number carries several
// texts (https://github.com/namecheap/terraform-provider-namecheap/issues/17).
type Error struct {
	Command  string // canonical command name, e.g. CmdGetHosts
	Number   int
	Message  string
	ClientIP string // the ClientIp we sent, for the 1011150 hint
	// Egress is, for 1011150 with a configured ClientIp, the address an
	// IP echo service saw this machine's calls come from ("" when unknown).
	Egress string
}

func (e *Error) Error() string {
	cmd := shortCommand(e.Command)
	switch e.Number {
	case ErrNumInvalidRequestIP:
		seen := requestIP(e.Message)
		if seen == "" || seen == e.ClientIP {
			seen = e.Egress
		}
		if seen != "" && seen != e.ClientIP {
			// The machine's real egress (NAT, proxy), as the API or an
			// echo service saw it, differs from ClientIp.
			return fmt.Sprintf("namecheap %s: error %d %q: this machine's calls come from %s, but ClientIp was sent as %s; that egress address is what counts: add %s to the API whitelist at %s and set NAMECHEAP_CLIENT_IP=%s (or unset it to discover the egress address)",
				cmd, e.Number, e.Message, seen, e.ClientIP, seen, WhitelistURL, seen)
		}
		return fmt.Sprintf("namecheap %s: error %d %q: the API refused ClientIp %s; add %s to the API whitelist at %s, or set NAMECHEAP_CLIENT_IP to the egress IPv4 that is whitelisted",
			cmd, e.Number, e.Message, e.ClientIP, e.ClientIP, WhitelistURL)
	case ErrNumInvalidKey:
		return fmt.Sprintf("namecheap %s: error %d %q: check NAMECHEAP_API_USER and NAMECHEAP_API_KEY (production and sandbox keys differ) and that API access is enabled", cmd, e.Number, e.Message)
	case ErrNumNotOurDNS:
		return fmt.Sprintf("namecheap %s: error %d %q: the domain must use Namecheap BasicDNS, PremiumDNS or FreeDNS for its host records to be managed by the API", cmd, e.Number, e.Message)
	}
	return fmt.Sprintf("namecheap %s: error %d: %s", cmd, e.Number, e.Message)
}

// Retryable reports whether the error is one of the transient or throttling
// numbers (https://www.namecheap.com/support/api/error-codes/).
func (e *Error) Retryable() bool { return retryableNumbers[e.Number] }

// ThrottledError is the current throttle signal: HTTP 405 with no usable XML
// (DNSControl PR #2081, https://github.com/DNSControl/dnscontrol/pull/2081).
type ThrottledError struct{ Command string }

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("namecheap %s: throttled (HTTP 405): more than about 20 calls a minute for this account; wait a minute, and do not run more jobs against one account at once", shortCommand(e.Command))
}

// HTTPError is a non-200, non-405 answer or a 200 answer that is not an
// ApiResponse document, e.g. the HTML page the front end returns for an
// over-long query string (https://github.com/caddy-dns/namecheap/issues/10).
type HTTPError struct {
	Command     string
	StatusCode  int
	ContentType string
	Snippet     string // start of the body, printable characters only
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("namecheap %s: HTTP %d (%s) instead of an XML ApiResponse: %q; check NAMECHEAP_ENDPOINT points at .../xml.response",
		shortCommand(e.Command), e.StatusCode, e.ContentType, e.Snippet)
}

// Retryable reports whether the failure looks transient (5xx from the front end).
func (e *HTTPError) Retryable() bool { return e.StatusCode >= 500 }

// IsRetryable reports whether err is worth a retry with backoff: HTTP 405,
// error 500000 or another transient number, a 5xx page, or a transport
// failure (timeouts, resets). Context errors are never retryable.
func IsRetryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var te *ThrottledError
	if errors.As(err, &te) {
		return true
	}
	var ae *Error
	if errors.As(err, &ae) {
		return ae.Retryable()
	}
	var he *HTTPError
	if errors.As(err, &he) {
		return he.Retryable()
	}
	var tr *TransportError
	return errors.As(err, &tr)
}

// ThrottleBackoff is the least wait after HTTP 405 or error 500000: with
// the default 5 attempts the retries span more than the one-minute window.
const ThrottleBackoff = 15 * time.Second

// IsThrottle reports whether err is HTTP 405 or error 500000
// (https://github.com/DNSControl/dnscontrol/pull/2081,
// https://github.com/namecheap/terraform-provider-namecheap/issues/9).
func IsThrottle(err error) bool {
	var te *ThrottledError
	var ae *Error
	return errors.As(err, &te) || (errors.As(err, &ae) && ae.Number == ErrNumTooManyRequests)
}

// TransportError wraps a failure to get any HTTP answer at all.
type TransportError struct {
	Command string
	Err     error
	// Timeout is set when the call's time bound (Client.CallTimeout) ended
	// it before an answer came.
	Timeout bool
}

func (e *TransportError) Error() string {
	return fmt.Sprintf("namecheap %s: no answer from the API: %v; check network access to the endpoint over IPv4 (and HTTPS_PROXY if you use one)", shortCommand(e.Command), e.Err)
}

func (e *TransportError) Unwrap() error { return e.Err }

func shortCommand(c string) string {
	if i := strings.LastIndexByte(c, '.'); i >= 0 {
		return c[i+1:]
	}
	return c
}

// requestIP returns the IPv4 address in a 1011150 message ("Invalid request
// IP: 203.0.113.9"), or "".
func requestIP(msg string) string {
	for _, f := range strings.FieldsFunc(msg, func(r rune) bool { return r == ' ' || r == ',' || r == ';' || r == '[' || r == ']' || r == ':' }) {
		if a, err := netip.ParseAddr(strings.TrimRight(f, ".")); err == nil && a.Is4() {
			return a.String()
		}
	}
	return ""
}
