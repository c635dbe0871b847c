package digitalocean

import (
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
		u, err := url.Parse(v)
		if err != nil || u.Host == "" || u.Scheme != "https" && u.Scheme != "http" {
			return nil, fmt.Errorf("%s=%q: want the API's URL, e.g. %s", EnvBaseURL, v, DefaultBaseURL)
		}
		p.BaseURL = v
	}
	if v := get(EnvTTL); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 30 || n > 86400 {
			return nil, fmt.Errorf("%s=%q: want whole seconds between 30 and 86400", EnvTTL, v)
		}
		p.TTL = n
	}
	if v := get(EnvServingLag); v != "" {
		d, err := seconds(v)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("%s=%q: want seconds or a duration such as 10s", EnvServingLag, v)
		}
		if d == 0 {
			d = -1 // none, not the default
		}
		p.Lag = d
	}
	return p, nil
}

// seconds reads whole seconds (lego's form) or a Go duration.
func seconds(v string) (time.Duration, error) {
	if n, err := strconv.Atoi(v); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	return time.ParseDuration(v)
}
