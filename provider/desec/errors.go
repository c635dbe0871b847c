package desec

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// APIError is a non-2xx answer of deSEC's API. Status is the HTTP status
// deSEC documents as the error's kind
// (https://desec.readthedocs.io/en/latest/dns/rrsets.html, "Bulk
// operations", and the rate limits page); test for it with errors.As and
// key on Status:
//
//	var ae *desec.APIError
//	if errors.As(err, &ae) && ae.Status == http.StatusTooManyRequests { … }
type APIError struct {
	// Op names the call ("writing zone example.com").
	Op string
	// Status is the HTTP status code.
	Status int
	// Detail is deSEC's explanation: the "detail" field, or for a
	// validation error (400) every "field: message" pair of the body,
	// which for a bulk request is a list with one object per RRset.
	Detail string
	// RetryAt is when a throttled (429) call may be made again, from
	// Retry-After; zero for other statuses.
	RetryAt time.Time
}

func newAPIError(op string, status int, body []byte) *APIError {
	e := &APIError{Op: op, Status: status}
	var v any
	if json.Unmarshal(body, &v) == nil {
		e.Detail = strings.Join(flatten("", v), "; ")
	} else {
		e.Detail = strings.TrimSpace(string(body))
		if len(e.Detail) > 200 {
			e.Detail = e.Detail[:200] + "…"
		}
	}
	return e
}

// flatten turns deSEC's error bodies into "field: message" lines:
// {"detail": "x"} is "x"; {"ttl": ["y"]} is "ttl: y"; a bulk answer's
// list [{}, {"ttl": ["y"]}] is "RRset 2: ttl: y".
func flatten(prefix string, v any) []string {
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var out []string
		for _, k := range keys {
			p := prefix + k + ": "
			if k == "detail" || k == "non_field_errors" {
				p = prefix
			}
			out = append(out, flatten(p, v[k])...)
		}
		return out
	case []any:
		var out []string
		for i, x := range v {
			p := prefix
			if _, obj := x.(map[string]any); obj && prefix == "" {
				p = fmt.Sprintf("RRset %d: ", i+1)
			}
			out = append(out, flatten(p, x)...)
		}
		return out
	case nil:
		return nil
	default:
		return []string{prefix + fmt.Sprint(v)}
	}
}

// Error is one line: what failed, deSEC's words, and what to do.
func (e *APIError) Error() string {
	what := fmt.Sprintf("desec: %s: HTTP %d", e.Op, e.Status)
	if e.Detail != "" {
		what += " (" + e.Detail + ")"
	}
	switch {
	case e.Status == http.StatusUnauthorized:
		return what + "; the token is wrong, expired or revoked: create one in deSEC's web interface (Token management) and put it in " + EnvToken + " or " + EnvToken + "_FILE"
	case e.Status == http.StatusForbidden:
		return what + "; the token may not do this: its scoping policy must allow writing TXT RRsets at the _acme-challenge names of this domain, and its allowed subnets must include this machine's egress address"
	case e.Status == http.StatusNotFound:
		return what + "; this account holds no such domain: check the name and that the token belongs to the account that owns it"
	case e.Status == http.StatusTooManyRequests:
		when := "later"
		if !e.RetryAt.IsZero() {
			when = "after " + e.RetryAt.UTC().Format(time.RFC3339)
		}
		return what + "; deSEC throttles each kind of request, RRset writes on one domain at 2/s, 15/min, 100/h, 300/day: try again " + when + ", and put more names in one order rather than more orders"
	case e.Status == http.StatusBadRequest && strings.Contains(e.Detail, "ttl"):
		return what + "; deSEC refuses TTLs below the domain's minimum (3600 s unless deSEC lowered it): set " + EnvTTL + " to at least that"
	case e.Status >= 500:
		return what + "; deSEC's API failed; try again later"
	}
	return what
}
