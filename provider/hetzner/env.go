package hetzner

import (
	"fmt"
	"time"

	"github.com/strictacme/strictacme/internal/envsecret"
	"github.com/strictacme/strictacme/internal/envvar"
)

// FromEnv builds a Provider from lego's variables for the DNS API:
// HETZNER_API_KEY (or HETZNER_API_KEY_FILE), HETZNER_TTL (seconds), and
// this provider's HETZNER_ENDPOINT and HETZNER_SERVING_LAG (seconds or a
// duration). Errors name the variable and the fix, never the token.
func FromEnv(lookup func(string) (string, bool)) (*Provider, error) {
	l := envvar.Lookup(lookup)
	tok, _, err := envsecret.Read(lookup, EnvAPIKey)
	if err != nil {
		return nil, err
	}
	if tok == "" {
		if l.Get("HETZNER_API_TOKEN") != "" {
			return nil, fmt.Errorf("%s is not set but HETZNER_API_TOKEN is: that is lego's variable for the Hetzner Cloud API, which this provider does not speak; set %s to a DNS Console token", EnvAPIKey, EnvAPIKey)
		}
		return nil, fmt.Errorf("%s is not set; set it (or %s_FILE) to a Hetzner DNS API token", EnvAPIKey, EnvAPIKey)
	}
	p := &Provider{APIKey: tok, Endpoint: l.Get(EnvEndpoint)}
	ttl, err := l.Seconds(EnvTTL, minTTL, 86400)
	if err != nil {
		return nil, err
	}
	p.TTL = time.Duration(ttl) * time.Second
	if p.Lag, err = l.Duration(EnvServingLag, true); err != nil {
		return nil, err
	}
	if _, err := endpointURL(p.Endpoint); err != nil {
		return nil, err
	}
	return p, nil
}
