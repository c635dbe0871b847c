package namecheap

import "github.com/strictacme/strictacme/provider/namecheap/internal/api"

// APIError is an <Error Number="…"> answer from the Namecheap API (Status="ERROR").
// Test for it with errors.As and key on Number, never on Message: one
// number comes with several texts
// (https://github.com/namecheap/terraform-provider-namecheap/issues/17):
//
//	var ae *namecheap.APIError
//	if errors.As(err, &ae) && ae.Number == 1011150 { … }
type APIError = api.Error

// ThrottledError is the HTTP 405 throttle answer
// (https://github.com/DNSControl/dnscontrol/pull/2081); it is
// returned only after the retries gave up.
type ThrottledError = api.ThrottledError

// HTTPError is an answer that is not an ApiResponse document, e.g. an HTML
// error page (https://github.com/caddy-dns/namecheap/issues/10).
type HTTPError = api.HTTPError

// Error numbers worth testing for
// (https://www.namecheap.com/support/api/error-codes/).
const (
	ErrInvalidRequestIP = api.ErrNumInvalidRequestIP // 1011150: ClientIp not whitelisted
	ErrInvalidKey       = api.ErrNumInvalidKey       // 1011102
	ErrDomainNotFound   = api.ErrNumDomainNotFound   // 2019166
	ErrNotOurDNS        = api.ErrNumNotOurDNS        // 2030288: custom nameservers
	ErrValidation       = api.ErrNumValidation       // 2050900
)
