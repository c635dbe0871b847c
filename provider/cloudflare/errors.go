package cloudflare

import (
	"fmt"
	"strings"
	"time"
)

// APIError is a refusal by the Cloudflare API v4: the HTTP status and the
// items of the envelope's errors[] (each with its error_chain). Error
// explains the codes it knows and says what to change; it never holds a
// credential. Use errors.As to read the fields.
type APIError struct {
	// Op is what was asked: "find zone example.com", "list records", "batch".
	Op     string
	Status int
	Errors []ErrorItem
	// RetryAfter is the wait the API asked for with a 429 (zero without).
	RetryAfter time.Duration
}

// ErrorItem is one item of errors[] (code, message, error_chain).
type ErrorItem struct {
	Code    int         `json:"code"`
	Message string      `json:"message"`
	Chain   []ErrorItem `json:"error_chain,omitempty"`
}

// Has reports whether code is in the errors or their chains.
func (e *APIError) Has(code int) bool {
	var walk func([]ErrorItem) bool
	walk = func(items []ErrorItem) bool {
		for _, it := range items {
			if it.Code == code || walk(it.Chain) {
				return true
			}
		}
		return false
	}
	return walk(e.Errors)
}

// RateLimited reports whether the API refused the call for the account's
// request rate (HTTP 429, code 971).
func (e *APIError) RateLimited() bool { return e.Status == 429 || e.Has(971) }

func (e *APIError) Error() string {
	var parts []string
	var walk func([]ErrorItem)
	walk = func(items []ErrorItem) {
		for _, it := range items {
			parts = append(parts, fmt.Sprintf("%d %s", it.Code, strings.TrimSuffix(it.Message, ".")))
			walk(it.Chain)
		}
	}
	walk(e.Errors)
	head := fmt.Sprintf("cloudflare: %s: HTTP %d", e.Op, e.Status)
	if len(parts) > 0 {
		head += " (" + strings.Join(parts, "; ") + ")"
	}
	return head + hint(e)
}

// hint says what an answer means and what to change. The codes are those
// of the API's answers as its docs and public trackers show them.
func hint(e *APIError) string {
	switch {
	case e.RateLimited():
		wait := "5 minutes"
		if e.RetryAfter > 0 {
			wait = e.RetryAfter.Round(time.Second).String()
		}
		return fmt.Sprintf(": the account's API rate limit (1200 requests per 5 minutes, shared by the dashboard and every token of the user) is used up; every call is refused for the next %s; try again then, and look for other jobs using the same account", wait)
	case e.Has(6111):
		return ": the Authorization header is malformed: the API token holds a space or line break, or is not a token; set CLOUDFLARE_DNS_API_TOKEN to the token itself"
	case e.Has(6103):
		return ": CLOUDFLARE_API_KEY is not a Global API Key (37 hex characters); an API token goes in CLOUDFLARE_DNS_API_TOKEN instead"
	case e.Has(6102):
		return ": CLOUDFLARE_EMAIL is not an e-mail address; give the account's login e-mail"
	case e.Has(9103):
		return ": the Global API Key and e-mail do not match an account; check CLOUDFLARE_EMAIL and CLOUDFLARE_API_KEY (or use an API token)"
	case e.Has(1000), e.Has(9109):
		return ": the API token is not valid (revoked, expired, or mistyped); create a token with Zone:Read and DNS:Edit and set CLOUDFLARE_DNS_API_TOKEN"
	case e.Has(10000):
		return ": the token may not do this on this zone: give it DNS:Edit (and Zone:Read) for the zone under Zone Resources, or check its IP filter and TTL"
	case e.Has(7003), e.Has(7000):
		return ": the zone ID is not one the API knows; the zone may have been deleted and added again"
	case e.Has(81058), e.Has(81057):
		return ": the record is already there"
	case e.Has(81053), e.Has(81054):
		return ": the name is a CNAME, which can have no TXT beside it (RFC 1034 §3.6.2); remove the CNAME or delegate the challenge name"
	case e.Has(81044):
		return ": a record of the batch is gone (deleted by someone else meanwhile); nothing of the batch was applied"
	case e.Has(9021):
		return ": set CLOUDFLARE_TTL between 60 and 86400 (or 1 for automatic)"
	case e.Has(81000), e.Status == 413:
		return ": the batch is larger than the zone's plan allows"
	case e.Status >= 500:
		return ": Cloudflare's API failed; try again later (https://www.cloudflarestatus.com)"
	}
	return ""
}
