package resolver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// Kind classifies a transport failure so callers can decide whether retrying
// the same endpoint can help.
type Kind int

const (
	// KindNetwork is a dial, read or write failure (refused, reset,
	// unreachable). Retrying may help.
	KindNetwork Kind = iota
	// KindTimeout means the exchange did not finish within Options.Timeout.
	KindTimeout
	// KindTLS is a failed TLS handshake or certificate verification; the
	// usual cause is TLS interception by a proxy. Retrying rarely helps.
	KindTLS
	// KindHTTPStatus is a DoH response with a non-2xx status; see
	// Error.HTTPStatus. A 4xx rarely goes away on retry.
	KindHTTPStatus
	// KindProtocol is a response that is not a DNS message: wrong
	// Content-Type, unparsable body, mismatched ID.
	KindProtocol
	// KindCanceled means the caller's context ended before the exchange
	// finished; it says nothing about the endpoint.
	KindCanceled
)

// Error is a transport failure talking to one endpoint. Error() gives one
// line: the endpoint as configured, then the reason with a hint, e.g.
//
//	https://x/dns-query: HTTP 403 Forbidden (a filtering proxy?)
//
// Err is the underlying cause (for errors.Is/As), possibly nil.
type Error struct {
	Endpoint string // as the operator wrote it (Resolver.String)
	Reason   string // short human text, already including any hint
	Err      error
	// Kind classifies the failure.
	Kind Kind
	// HTTPStatus is the DoH response status for KindHTTPStatus, else 0.
	HTTPStatus int
}

func (e *Error) Error() string { return e.Endpoint + ": " + e.Reason }

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Timeout reports whether the exchange ran out of time (net.Error style).
func (e *Error) Timeout() bool { return e.Kind == KindTimeout }

// Permanent reports whether the failure is one that retrying the same
// endpoint is unlikely to fix: a TLS failure or an HTTP 4xx status (case
// PR08: a filtering proxy refusing a DoH host). A REFUSED answer is the
// DNS form of the same verdict; see Refused.
func (e *Error) Permanent() bool {
	return e.Kind == KindTLS || (e.Kind == KindHTTPStatus && e.HTTPStatus >= 400 && e.HTTPStatus < 500)
}

// Unreachable reports whether the failure says the endpoint cannot be
// reached or does not speak DNS from here, as opposed to a verdict
// (Permanent) or the caller giving up (KindCanceled): a timeout, a refused
// or reset connection, an HTTP 5xx (proxies answer 502 to 504 for hosts
// they cannot or will not reach), or a reply that is not a DNS message.
// One such failure may be a blip; several in a row mean the path is
// blocked.
func (e *Error) Unreachable() bool {
	switch e.Kind {
	case KindNetwork, KindTimeout, KindProtocol:
		return true
	case KindHTTPStatus:
		return e.HTTPStatus >= 500
	}
	return false
}

// classify turns an error from a dial/exchange into *Error. parent is the
// caller's context (to tell its cancellation apart from our own per-exchange
// timeout), timeout is the per-exchange bound used in the reason.
func classify(endpoint string, parent context.Context, timeout time.Duration, err error) *Error {
	var re *Error
	if errors.As(err, &re) {
		return re
	}
	perr := parent.Err()
	if dl, ok := parent.Deadline(); ok && perr == nil && !time.Now().Before(dl) {
		// A read deadline taken from the caller's context can fire an
		// instant before the context itself reports it.
		perr = context.DeadlineExceeded
	}
	if perr != nil {
		return &Error{Endpoint: endpoint, Reason: "canceled: " + perr.Error(), Err: perr, Kind: KindCanceled}
	}
	if reason, ok := tlsReason(err); ok {
		return &Error{Endpoint: endpoint, Reason: "TLS: " + reason, Err: err, Kind: KindTLS}
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		if !errors.Is(err, context.DeadlineExceeded) {
			// A read deadline reports a net timeout; callers test for
			// context.DeadlineExceeded whatever the transport.
			err = fmt.Errorf("%w (%w)", context.DeadlineExceeded, err)
		}
		return &Error{Endpoint: endpoint, Reason: fmt.Sprintf("timeout after %s", timeout), Err: err, Kind: KindTimeout}
	}
	return &Error{Endpoint: endpoint, Reason: networkReason(err), Err: err, Kind: KindNetwork}
}

// tlsReason recognises certificate and handshake failures and says what the
// usual cause is.
func tlsReason(err error) (string, bool) {
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		header   tls.RecordHeaderError
		alert    tls.AlertError
		verify   *tls.CertificateVerificationError
	)
	switch {
	case errors.As(err, &unknown):
		return trimX509(unknown.Error()) + " (TLS interception?)", true
	case errors.As(err, &hostname):
		return trimX509(hostname.Error()) + " (TLS interception, or the wrong host in the resolver URL?)", true
	case errors.As(err, &invalid):
		return trimX509(invalid.Error()), true
	case errors.As(err, &verify):
		return trimX509(verify.Err.Error()), true
	case errors.As(err, &header):
		return "server did not answer with TLS (wrong port, or a plain-text proxy?)", true
	case errors.As(err, &alert):
		return "handshake refused: " + alert.Error(), true
	}
	return "", false
}

func trimX509(s string) string { return strings.TrimPrefix(s, "x509: ") }

// networkReason shortens net.OpError chains ("dial tcp 1.2.3.4:853: connect:
// connection refused") to the part an operator acts on.
func networkReason(err error) string {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		inner := op.Err.Error()
		if strings.HasPrefix(inner, op.Op+": ") {
			return inner // "read: connection reset by peer", not "read: read: ..."
		}
		return op.Op + ": " + inner
	}
	return err.Error()
}
