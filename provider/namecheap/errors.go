package namecheap

import "github.com/strictacme/strictacme/provider/namecheap/internal/api"

// APIError is an <Error Number="…"> answer from the Namecheap API (Status="ERROR").
// Test for it with errors.As and key on Number, never on Message (API.md §4):
//
//	var ae *namecheap.APIError
//	if errors.As(err, &ae) && ae.Number == 1011150 { … }
type APIError = api.Error

// ThrottledError is the HTTP 405 throttle answer (API.md §5); it is
// returned only after the retries gave up.
type ThrottledError = api.ThrottledError

// HTTPError is an answer that is not an ApiResponse document, e.g. an HTML
// error page (API.md §2.2).
type HTTPError = api.HTTPError

// Error numbers worth testing for (API.md §4).
const (
	ErrInvalidRequestIP = api.ErrNumInvalidRequestIP // 1011150: ClientIp not whitelisted
	ErrInvalidKey       = api.ErrNumInvalidKey       // 1011102
	ErrDomainNotFound   = api.ErrNumDomainNotFound   // 2019166
	ErrNotOurDNS        = api.ErrNumNotOurDNS        // 2030288: custom nameservers
	ErrValidation       = api.ErrNumValidation       // 2050900
)
