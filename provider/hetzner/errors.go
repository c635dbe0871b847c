package hetzner

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// APIError is a non-2xx answer of Hetzner's DNS Console API
// (https://dns.hetzner.com/api-docs) or of the Hetzner Cloud API
// (https://docs.hetzner.cloud/#errors). Test for it with errors.As and key
// on Status, or on Code for the Cloud API.
type APIError struct {
	// Op names the call ("creating records in example.com").
	Op string
	// Status is the HTTP status code.
	Status int
	// Message is Hetzner's explanation ("message", or "error.message").
	Message string
	// Code is the Cloud API's "error.code" ("unauthorized", "not_found",
	// "rate_limit_exceeded", "locked", …); "" from the DNS Console API.
	Code string
	// Cloud is set for an answer of the Cloud API.
	Cloud bool
	// RetryAt is when a throttled (429) call may be made again.
	RetryAt time.Time
}

func newAPIError(op string, status int, body []byte, cloud bool) *APIError {
	e := &APIError{Op: op, Status: status, Cloud: cloud}
	var v struct {
		Message string `json:"message"`
		Error   struct {
			Message string `json:"message"`
			Code    any    `json:"code"` // a word in the Cloud API, a number in the DNS API
		} `json:"error"`
	}
	if json.Unmarshal(body, &v) == nil {
		if c, ok := v.Error.Code.(string); ok {
			e.Code = c
		}
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
	if e.Code != "" {
		what += " " + e.Code
	}
	if e.Message != "" {
		what += " (" + e.Message + ")"
	}
	if e.Cloud {
		return what + e.cloudAdvice()
	}
	switch {
	case e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden:
		return what + "; the API token is wrong or revoked: create one in the DNS Console (Manage API tokens) and put it in " + EnvAPIKey + " or " + EnvAPIKey + "_FILE; zones moved to the Hetzner Console need a Cloud API token in " + EnvAPIToken + " instead"
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

// cloudAdvice is what to do about a Cloud API error, keyed on its code
// (https://docs.hetzner.cloud/#errors) and else on the status.
func (e *APIError) cloudAdvice() string {
	switch {
	case e.Code == "unauthorized" || e.Status == http.StatusUnauthorized:
		return "; the API token is wrong or revoked: create one in the Hetzner Console (project, Security, API tokens) and put it in " + EnvAPIToken + " or " + EnvAPIToken + "_FILE"
	case e.Code == "forbidden" || e.Status == http.StatusForbidden:
		return "; the token may only read: give it Read & Write permission (a new token in the project's Security, API tokens)"
	case e.Code == "not_found" || e.Status == http.StatusNotFound:
		return "; the token's project has no such zone: check the project, or whether the zone is still in the DNS Console (then use " + EnvAPIKey + ")"
	case e.Code == "rate_limit_exceeded" || e.Status == http.StatusTooManyRequests:
		when := "later"
		if !e.RetryAt.IsZero() {
			when = "after " + e.RetryAt.UTC().Format(time.RFC3339)
		}
		return "; Hetzner throttles its API (per project, per hour): try again " + when
	case e.Code == "locked" || e.Code == "conflict":
		return "; another change to the zone was under way; try again"
	case e.Code == "protected":
		return "; the RRset is protected from changes; lift its change protection"
	case e.Code == "invalid_input" || e.Code == "uniqueness_error" || e.Status == http.StatusUnprocessableEntity || e.Status == http.StatusBadRequest:
		return "; Hetzner refused the record as invalid"
	case e.Status >= 500:
		return "; Hetzner's API failed; try again later"
	}
	return ""
}

// ActionError is a Cloud API action that ended in the "error" state
// (https://docs.hetzner.cloud/#actions).
type ActionError struct {
	// Op names the change ("adding TXT values at _acme-challenge in example.com").
	Op string
	// ID is the action's ID.
	ID int64
	// Code and Message are the action's "error.code" and "error.message".
	Code, Message string
}

// Error is one line: what failed and Hetzner's words.
func (e *ActionError) Error() string {
	return fmt.Sprintf("hetzner: %s: action %d failed: %s (%s); try again", e.Op, e.ID, e.Code, e.Message)
}
