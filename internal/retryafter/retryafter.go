// Package retryafter reads the HTTP Retry-After header (RFC 9110 §10.2.3),
// the one answer to "how long did the server ask us to wait" for the ACME
// client and the challenge server's relay alike.
package retryafter

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Parse parses a Retry-After value, delay-seconds or HTTP-date, relative to
// now. It returns the zero time when the value is empty or malformed.
func Parse(v string, now time.Time) time.Time {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil && secs >= 0 {
		return now.Add(time.Duration(secs) * time.Second)
	}
	if t, err := http.ParseTime(v); err == nil {
		return t
	}
	return time.Time{}
}
