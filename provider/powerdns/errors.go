package powerdns

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// APIError is a refused request: the HTTP status and the "error" member
// of the API's JSON answer ({"error": "..."}, with "errors" for some 422
// answers). Error explains what it means and what to change; it never
// holds the API key. Test for it with errors.As and key on Status.
type APIError struct {
	// Op is what was asked: "listing zones", "reading zone", "changing zone".
	Op string
	// Zone is the zone asked about, "" for the zone list.
	Zone string
	// Status is the HTTP status code.
	Status int
	// Message is the API's "error" text ("" when the answer was not the
	// API's JSON, e.g. a proxy's page).
	Message string
	// Details are the API's "errors" texts, when given.
	Details []string
}

func newAPIError(op, zone string, resp *http.Response, body []byte) *APIError {
	e := &APIError{Op: op, Zone: zone, Status: resp.StatusCode}
	var doc struct {
		Error  string   `json:"error"`
		Errors []string `json:"errors"`
	}
	if json.Unmarshal(body, &doc) == nil {
		e.Message, e.Details = doc.Error, doc.Errors
	}
	return e
}

func (e *APIError) Error() string {
	zone := strings.TrimSuffix(e.Zone, ".")
	head := "powerdns: " + e.Op
	if zone != "" {
		head += " " + zone
	}
	head += fmt.Sprintf(": HTTP %d", e.Status)
	if e.Message != "" {
		head += ": " + e.Message
	}
	if len(e.Details) > 0 {
		head += " (" + strings.Join(e.Details, "; ") + ")"
	}
	msg := strings.ToLower(e.Message)
	switch {
	case e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden:
		return head + "; the server did not take the API key: set " + EnvAPIKey + " to its api-key, and check webserver-allow-from lets this machine in"
	case e.Status == http.StatusNotFound && e.Zone != "":
		return head + "; the server has no such zone under server id; check the zone exists (pdnsutil list-all-zones) and " + EnvServerName + " (default localhost)"
	case e.Status == http.StatusNotFound:
		return head + "; no PowerDNS API at this URL: set " + EnvAPIURL + " to the webserver's base URL (without /api/v1), check api=yes and " + EnvServerName + " (default localhost)"
	case strings.Contains(msg, "not canonical"):
		return head + "; a name lacks its trailing dot (a client bug: report it)"
	case strings.Contains(msg, "should start with quote") || strings.Contains(msg, "parsing record content"):
		return head + "; a TXT record of this RRset is stored without quotes (inserted into the backend database directly); quote its content, see pdnsutil check-zone"
	case strings.Contains(msg, "duplicate record"):
		return head + "; the RRset holds the same value twice; remove the duplicate (pdnsutil edit-zone)"
	case strings.Contains(msg, "not support editing") || strings.Contains(msg, "does not support"):
		return head + "; the zone's backend is read-only through the API (the bind backend): move the zone to a database backend (gmysql, gpgsql, gsqlite3, lmdb)"
	case strings.Contains(msg, "secondary") || strings.Contains(msg, "slave"):
		return head + "; the zone is a secondary here: point " + EnvAPIURL + " at the zone's primary"
	case e.Status == http.StatusUnprocessableEntity:
		return head + "; the server refused the change"
	case e.Status == http.StatusTooManyRequests || e.Status == http.StatusServiceUnavailable:
		return head + "; still throttled after retrying; try again later"
	case e.Status >= 500:
		return head + "; the server failed (see its log)"
	}
	return head
}
