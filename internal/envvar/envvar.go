// Package envvar reads provider settings from environment-style
// variables as lego names them: durations as whole seconds (lego's form)
// or Go durations, TTLs as whole seconds in a range. Errors name the
// variable and the fix. Secrets are read by internal/envsecret.
package envvar

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/strictacme/strictacme/internal/apiclient"
	"github.com/strictacme/strictacme/internal/redact"
)

// Lookup reads one variable, as os.LookupEnv does.
type Lookup func(name string) (string, bool)

// Get is name's value with surrounding white space trimmed, "" when unset.
func (l Lookup) Get(name string) string {
	v, _ := l(name)
	return strings.TrimSpace(v)
}

// Parse reads name with parse, one of this package's or a provider's
// Parse functions; the zero T when unset. Its error names the variable
// and its value ahead of parse's: NAME="v": what to give.
func Parse[T any](l Lookup, name string, parse func(string) (T, error)) (T, error) {
	var zero T
	v := l.Get(name)
	if v == "" {
		return zero, nil
	}
	t, err := parse(v)
	if err != nil {
		// A URL's userinfo is not echoed (redact.String).
		return zero, fmt.Errorf("%s=%q: %v", name, redact.String(v), err)
	}
	return t, nil
}

// Duration reads name as whole seconds or a Go duration ("90s", "2m");
// 0 when unset. Negative values are refused, and so is zero unless zeroOK.
func (l Lookup) Duration(name string, zeroOK bool) (time.Duration, error) {
	return Parse(l, name, func(v string) (time.Duration, error) { return ParseDuration(v, zeroOK) })
}

// ParseDuration is Duration's parser of one value, v not empty: whole
// seconds or a Go duration. Its error says what to give, not the setting.
func ParseDuration(v string, zeroOK bool) (time.Duration, error) {
	v = strings.TrimSpace(v)
	d, err := time.ParseDuration(v)
	if err != nil {
		if n, err2 := strconv.Atoi(v); err2 == nil {
			d, err = time.Duration(n)*time.Second, nil
		}
	}
	if err != nil || d < 0 || (d == 0 && !zeroOK) {
		return 0, errors.New("want seconds or a duration such as 90s")
	}
	return d, nil
}

// Seconds reads name as whole seconds within [lo, hi]; 0 when unset.
func (l Lookup) Seconds(name string, lo, hi int) (int, error) {
	return Parse(l, name, func(v string) (int, error) { return ParseSeconds(v, lo, hi) })
}

// ParseSeconds is Seconds' parser of one value, v not empty: whole
// seconds within [lo, hi]. Its error says what to give, not the setting.
func ParseSeconds(v string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("want whole seconds between %d and %d", lo, hi)
	}
	return n, nil
}

// ParseBool parses a switch: true or false (as strconv.ParseBool reads
// them). Its error says what to give, not the setting.
func ParseBool(v string) (bool, error) {
	b, err := strconv.ParseBool(strings.TrimSpace(v))
	if err != nil {
		return false, errors.New("want true or false")
	}
	return b, nil
}

// ParseURL parses an API base URL (apiclient.ParseBaseURL: https, or
// plain http to a loopback test server, no credentials, query, fragment
// or space around it); example is the URL its error offers (the API's
// default). Its error says what to give, not the setting.
func ParseURL(v, example string) (string, error) {
	if _, err := apiclient.ParseBaseURL(v, example); err != nil {
		return "", err
	}
	return v, nil
}
