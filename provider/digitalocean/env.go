package digitalocean

import (
	"fmt"
	"time"

	"github.com/strictacme/strictacme/internal/envsecret"
	"github.com/strictacme/strictacme/internal/envvar"
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
	l := envvar.Lookup(lookup)
	if p.BaseURL, err = envvar.Parse(l, EnvBaseURL, ParseBaseURL); err != nil {
		return nil, err
	}
	if p.TTL, err = envvar.Parse(l, EnvTTL, ParseTTL); err != nil {
		return nil, err
	}
	if p.Lag, err = envvar.Parse(l, EnvServingLag, ParseServingLag); err != nil {
		return nil, err
	}
	return p, nil
}

// ParseBaseURL parses an API base URL: http(s) with a host. Its error
// says what to give, not the setting.
func ParseBaseURL(v string) (string, error) { return envvar.ParseURL(v, DefaultBaseURL) }

// ParseTTL parses a TTL of TXT records: whole seconds from 30 to 86400.
// Its error says what to give, not the setting.
func ParseTTL(v string) (int, error) { return envvar.ParseSeconds(v, 30, 86400) }

// ParseServingLag parses Lag: whole seconds or a duration; an explicit 0
// is -1 (none, not the default). Its error says what to give, not the
// setting.
func ParseServingLag(v string) (time.Duration, error) {
	d, err := envvar.ParseDuration(v, true)
	if err != nil {
		return 0, err
	}
	if d == 0 {
		d = -1
	}
	return d, nil
}
