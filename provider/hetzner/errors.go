package hetzner

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// APIError is a non-2xx answer of Hetzner's DNS API
// (https://dns.hetzner.com/api-docs). Test for it with errors.As and key
// on Status.
type APIError struct {
	// Op names the call ("creating records in example.com").
	Op string
	// Status is the HTTP status code.
	Status int
	// Message is Hetzner's explanation ("message", or "error.message").
	Message string
	// RetryAt is when a throttled (429) call may be made again.
	RetryAt time.Time
}

func newAPIError(op string, status int, body []byte) *APIError {
	e := &APIError{Op: op, Status: status}
	var v struct {
		Message string `json:"message"`
		Error   struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &v) == nil {
		e.Message = v.Message
		if e.Message == "" {
			e.Message = v.Error.Message
		}
	}
	if e.Message == "" {
		e.Message = strings.TrimSpace(string(body))
		if len(e.Message) > 200 {
			e.Message = e.Message[:200] + "…"
		}
	}
	return e
}

// Error is one line: what failed, Hetzner's words, what to do.
func (e *APIError) Error() string {
	what := fmt.Sprintf("hetzner: %s: HTTP %d", e.Op, e.Status)
	if e.Message != "" {
		what += " (" + e.Message + ")"
	}
	switch {
	case e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden:
		return what + "; the API token is wrong or revoked: create one in the DNS Console (Manage API tokens) and put it in " + EnvAPIKey + " or " + EnvAPIKey + "_FILE; zones moved to the Hetzner Console need the Cloud API instead"
	case e.Status == http.StatusNotFound:
		return what + "; this account has no such zone or record; a zone migrated to the Hetzner Console is no longer served by this API"
	case e.Status == http.StatusTooManyRequests:
		when := "later"
		if !e.RetryAt.IsZero() {
			when = "after " + e.RetryAt.UTC().Format(time.RFC3339)
		}
		return what + "; Hetzner throttles its API: try again " + when
	case e.Status == http.StatusUnprocessableEntity:
		return what + "; Hetzner refused a record as invalid"
	case e.Status >= 500:
		return what + "; Hetzner's API failed; try again later"
	}
	return what
}
