package desec

import (
	"fmt"
	"time"

	"github.com/strictacme/strictacme/internal/envsecret"
	"github.com/strictacme/strictacme/internal/envvar"
)

// FromEnv builds a Provider from lego's variables: DESEC_TOKEN (or
// DESEC_TOKEN_FILE), DESEC_TTL (seconds), and this provider's
// DESEC_ENDPOINT, DESEC_SERVING_LAG (seconds or a duration; 0 for none)
// and DESEC_LOCK_DIR. Errors name the variable and the fix, never the token.
func FromEnv(lookup func(string) (string, bool)) (*Provider, error) {
	l := envvar.Lookup(lookup)
	tok, _, err := envsecret.Read(lookup, EnvToken)
	if err != nil {
		return nil, err
	}
	p := &Provider{Token: tok, Endpoint: l.Get(EnvEndpoint), LockDir: l.Get(EnvLockDir)}
	if v := l.Get(EnvTTL); v != "" {
		if p.TTL, err = ParseTTL(v); err != nil {
			return nil, fmt.Errorf("%s=%q: %v", EnvTTL, v, err)
		}
	}
	if v := l.Get(EnvServingLag); v != "" {
		if p.Lag, err = ParseServingLag(v); err != nil {
			return nil, fmt.Errorf("%s=%q: %v", EnvServingLag, v, err)
		}
	}
	if tok == "" {
		return nil, fmt.Errorf("%s is not set; set it (or %s_FILE) to a deSEC API token", EnvToken, EnvToken)
	}
	if _, err := endpointURL(p.Endpoint); err != nil {
		return nil, err
	}
	return p, nil
}

// ParseTTL parses a TTL of new RRsets: whole seconds from 1 to 604800
// (deSEC raises it to the domain's minimum). Its error says what to give,
// not the setting.
func ParseTTL(v string) (time.Duration, error) {
	n, err := envvar.ParseSeconds(v, 1, 604800)
	return time.Duration(n) * time.Second, err
}

// ParseServingLag parses Lag: whole seconds or a duration; an explicit 0
// is -1 (no lag at all, not the default). Its error says what to give,
// not the setting.
func ParseServingLag(v string) (time.Duration, error) {
	d, err := envvar.ParseDuration(v, true)
	if err == nil && d == 0 {
		d = -1
	}
	return d, err
}
