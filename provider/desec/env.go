package desec

import (
	"fmt"
	"time"

	"github.com/strictacme/strictacme/internal/envsecret"
	"github.com/strictacme/strictacme/internal/envvar"
)

// FromEnv builds a Provider from lego's variables: DESEC_TOKEN (or
// DESEC_TOKEN_FILE), DESEC_TTL (seconds), and this provider's
// DESEC_ENDPOINT and DESEC_SERVING_LAG (seconds or a duration; 0 for
// none). Errors name the variable and the fix, never the token.
func FromEnv(lookup func(string) (string, bool)) (*Provider, error) {
	l := envvar.Lookup(lookup)
	tok, _, err := envsecret.Read(lookup, EnvToken)
	if err != nil {
		return nil, err
	}
	p := &Provider{Token: tok, Endpoint: l.Get(EnvEndpoint)}
	ttl, err := l.Seconds(EnvTTL, 1, 604800)
	if err != nil {
		return nil, err
	}
	p.TTL = time.Duration(ttl) * time.Second
	lag, set := lookup(EnvServingLag)
	if p.Lag, err = l.Duration(EnvServingLag, true); err != nil {
		return nil, err
	}
	if set && p.Lag == 0 && lag != "" {
		p.Lag = -1 // an explicit 0: no lag at all
	}
	if tok == "" {
		return nil, fmt.Errorf("%s is not set; set it (or %s_FILE) to a deSEC API token", EnvToken, EnvToken)
	}
	if _, err := endpointURL(p.Endpoint); err != nil {
		return nil, err
	}
	return p, nil
}
