package hetzner

import (
	"errors"
	"strings"
	"time"

	"github.com/strictacme/strictacme/internal/apiclient"
	"github.com/strictacme/strictacme/internal/envsecret"
	"github.com/strictacme/strictacme/internal/envvar"
)

// FromEnv builds a Provider from lego's variables: HETZNER_API_TOKEN (or
// HETZNER_API_TOKEN_FILE) selects the Hetzner Cloud API, HETZNER_API_KEY
// (or HETZNER_API_KEY_FILE) the DNS Console API; both set is an error
// naming which to drop. Also HETZNER_TTL (seconds), and this provider's
// HETZNER_ENDPOINT and HETZNER_SERVING_LAG (seconds or a duration). Errors
// name the variable and the fix, never the token.
func FromEnv(lookup func(string) (string, bool)) (*Provider, error) {
	l := envvar.Lookup(lookup)
	cloudTok, _, err := envsecret.Read(lookup, EnvAPIToken)
	if err != nil {
		return nil, err
	}
	key, _, err := envsecret.Read(lookup, EnvAPIKey)
	if err != nil {
		return nil, err
	}
	tok, cloud, err := chooseToken(cloudTok, key)
	if err != nil {
		return nil, errors.New(strings.TrimPrefix(err.Error(), "hetzner: "))
	}
	p := &Provider{Endpoint: l.Get(EnvEndpoint)}
	if cloud {
		p.APIToken = tok
	} else {
		p.APIKey = tok
	}
	ttl, err := envvar.Parse(l, EnvTTL, ParseTTL)
	if err != nil {
		return nil, err
	}
	p.TTL = time.Duration(ttl) * time.Second
	if p.Lag, err = l.Duration(EnvServingLag, true); err != nil {
		return nil, err
	}
	if _, err := endpointURL(p.Endpoint, cloud); err != nil {
		return nil, err
	}
	return p, nil
}

// ParseTTL parses the TTL of new TXT records: whole seconds from 60 (the
// lowest lego sends this API) to a day. Its error says what to give, not
// the setting.
func ParseTTL(v string) (int, error) { return envvar.ParseSeconds(v, minTTL, 86400) }

// ParseEndpoint parses an API base URL (apiclient.ParseBaseURL): https,
// or plain http to a loopback test server, without credentials. Its error
// says what to give, not the setting, and never quotes the URL.
func ParseEndpoint(v string) (string, error) {
	u, err := apiclient.ParseBaseURL(v, DefaultCloudEndpoint)
	if err != nil {
		return "", err
	}
	return u.String(), nil
}
