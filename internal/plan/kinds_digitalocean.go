package plan

import (
	"github.com/strictacme/strictacme/internal/providers"
	"github.com/strictacme/strictacme/provider/digitalocean"
)

func init() {
	RegisterProvider(ProviderKind{
		Name:       "digitalocean",
		LegoPrefix: "DO",
		Help:       "DigitalOcean DNS (personal access token with domain:read, domain:create, domain:delete)",
		Keys: []Key{
			{Name: "auth_token", Env: digitalocean.EnvToken, Secret: true, Required: true, Help: "personal access token with domain:read, domain:create and domain:delete"},
			{Name: "endpoint", Env: digitalocean.EnvBaseURL, Help: "API base URL (default " + digitalocean.DefaultBaseURL + ")", Check: checkWith(digitalocean.ParseBaseURL)},
			{Name: "ttl", Env: digitalocean.EnvTTL, Help: "TTL of the TXT records, seconds (default 30, the least; TXT already at a name keep theirs)", Type: Integer, Check: checkWith(digitalocean.ParseTTL)},
			{Name: "http_timeout", Env: digitalocean.EnvHTTPTimeout, Help: "bound of one API call, seconds (default 60)", Type: Seconds, Check: checkWith(parseHTTPTimeout)},
			{Name: "serving_lag", Env: digitalocean.EnvServingLag, Help: "how long DigitalOcean's name servers take to serve a new record (default 5s)", Type: Seconds, Check: checkWith(digitalocean.ParseServingLag)},
		},
		Traits: Traits{
			Zones:    "the account's domains (GET /v2/domains)",
			Writes:   "one read of the domain's TXT, then one POST per record: the API has no batch",
			Delete:   "by value: one DELETE per record holding it; other values at the name kept",
			ReadBack: "GET records",
			Lag:      "`serving_lag` (default 5s)",
		},
		New: func(get func(string) (string, bool), env BuildEnv) (providers.Provider, error) {
			p, err := digitalocean.FromEnv(get)
			if err != nil {
				return nil, err
			}
			if p.HTTPClient, err = legoHTTPTimeout(get, digitalocean.EnvHTTPTimeout, env.HTTPClient); err != nil {
				return nil, err
			}
			p.Logger = env.Logger
			return p, nil
		},
	})
}
