package resolver

import (
	"errors"
	"net/http"

	"github.com/miekg/dns"
)

// Diagnose returns the reason of a failed exchange with one endpoint and
// the fix an operator can apply, each one short clause, for reports that
// must say both: the step log of a propagation check when it drops an
// endpoint, and the rows of `strictacme check`. Both speak through this
// one function, so the same failure reads the same wherever it is seen.
// The fix names the command-line flags (--ca-cert FILE, --resolver); it
// is "" when there is nothing better to say than the reason.
func Diagnose(err error) (reason, fix string) {
	var re *Error
	if !errors.As(err, &re) {
		return err.Error(), ""
	}
	reason = re.Reason
	switch {
	case re.Kind == KindTLS:
		fix = "if a proxy inspects TLS, pass its root certificate with --ca-cert FILE, or drop this resolver"
	case re.Kind == KindHTTPStatus && (re.HTTPStatus == http.StatusForbidden || re.HTTPStatus == http.StatusUnavailableForLegalReasons):
		fix = "this DoH host is blocked here; ask for it to be allowed, or use a --resolver that is"
	case re.Kind == KindHTTPStatus && re.HTTPStatus == http.StatusProxyAuthRequired:
		fix = "give the proxy's credentials in HTTPS_PROXY (https://user:password@proxy:port)"
	case re.Kind == KindHTTPStatus && re.HTTPStatus < 500:
		fix = "check the resolver URL, or use another --resolver"
	case re.Kind == KindTimeout:
		fix = "no answer (traffic dropped?); use a --resolver that is reachable from here"
	case re.Unreachable():
		fix = "cannot be reached from here (blocked?); use a --resolver that is reachable"
	}
	return reason, fix
}

// DiagnoseRcode is Diagnose for an answer whose RCODE says the endpoint
// will not resolve for us. ok is false for RCODEs that are answers about
// the name (NOERROR, NXDOMAIN) or may pass (SERVFAIL).
//
// REFUSED (RFC 1035 §4.1.1) is a policy verdict, the DNS counterpart of
// HTTP 403: a resolver not open to this client, or a filter. Asking again
// does not change it, so it is treated as Permanent.
func DiagnoseRcode(rcode int) (reason, fix string, ok bool) {
	switch rcode {
	case dns.RcodeRefused:
		return "answers REFUSED (not open to this client, or a filter)", "use a --resolver that answers queries from here", true
	case dns.RcodeNotImplemented:
		return "answers NOTIMP (does not implement this query)", "use a --resolver that answers TXT and CAA questions", true
	}
	return "", "", false
}
