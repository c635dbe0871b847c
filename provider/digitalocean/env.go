package digitalocean

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/strictacme/strictacme/internal/envsecret"
)

// Environment variable names: lego's, so a lego set-up works unchanged.
const (
	EnvToken   = "DO_AUTH_TOKEN"
	EnvBaseURL = "DO_API_URL"
	EnvTTL     = "DO_TTL"
	// EnvHTTPTimeout bounds each API call, seconds (lego's, default 30);
	// read where the HTTP client is built.
	EnvHTTPTimeout = "DO_HTTP_TIMEOUT"
	// EnvServingLag is strictacme's: Provider.Lag.
	EnvServingLag = "DO_SERVING_LAG"
)

// FromEnv returns a Provider configured by the variables read through
// lookup (os.LookupEnv for the environment): DO_AUTH_TOKEN (or
// DO_AUTH_TOKEN_FILE), DO_API_URL, DO_TTL (seconds, at least 30) and
// DO_SERVING_LAG (seconds or a duration). Errors name the variable and
// the fix, never the token.
func FromEnv(lookup func(string) (string, bool)) (*Provider, error) {
	tok, _, err := envsecret.Read(lookup, EnvToken)
	if err != nil {
		return nil, err
	}
	if tok == "" {
		return nil, fmt.Errorf("%s is not set; create a personal access token with domain:read, domain:create and domain:delete and set it (or %s_FILE)", EnvToken, EnvToken)
	}
	p := &Provider{Token: tok}
	get := func(name string) string { v, _ := lookup(name); return strings.TrimSpace(v) }
	if v := get(EnvBaseURL); v != "" {
		if p.BaseURL, err = ParseBaseURL(v); err != nil {
			return nil, fmt.Errorf("%s=%q: %v", EnvBaseURL, v, err)
		}
	}
	if v := get(EnvTTL); v != "" {
		if p.TTL, err = ParseTTL(v); err != nil {
			return nil, fmt.Errorf("%s=%q: %v", EnvTTL, v, err)
		}
	}
	if v := get(EnvServingLag); v != "" {
		if p.Lag, err = ParseServingLag(v); err != nil {
			return nil, fmt.Errorf("%s=%q: %v", EnvServingLag, v, err)
		}
	}
	return p, nil
}

// ParseBaseURL parses an API base URL: http(s) with a host. Its error
// says what to give, not the setting.
func ParseBaseURL(v string) (string, error) {
	v = strings.TrimSpace(v)
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || u.Scheme != "https" && u.Scheme != "http" {
		return "", fmt.Errorf("want the API's URL, e.g. %s", DefaultBaseURL)
	}
	return v, nil
}

// ParseTTL parses a TTL of TXT records: whole seconds from 30 to 86400.
// Its error says what to give, not the setting.
func ParseTTL(v string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 30 || n > 86400 {
		return 0, errors.New("want whole seconds between 30 and 86400")
	}
	return n, nil
}

// ParseServingLag parses Lag: whole seconds or a duration; an explicit 0
// is -1 (none, not the default). Its error says what to give, not the
// setting.
func ParseServingLag(v string) (time.Duration, error) {
	d, err := seconds(strings.TrimSpace(v))
	if err != nil || d < 0 {
		return 0, errors.New("want seconds or a duration such as 10s")
	}
	if d == 0 {
		d = -1
	}
	return d, nil
}

// seconds reads whole seconds (lego's form) or a Go duration.
func seconds(v string) (time.Duration, error) {
	if n, err := strconv.Atoi(v); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	return time.ParseDuration(v)
}
