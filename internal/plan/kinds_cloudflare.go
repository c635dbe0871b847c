package plan

import (
	"github.com/strictacme/strictacme/internal/providers"
	"github.com/strictacme/strictacme/provider/cloudflare"
)

func init() {
	RegisterProvider(ProviderKind{
		Name:       "cloudflare",
		LegoPrefix: "CLOUDFLARE",
		Help:       "Cloudflare DNS (API token with Zone:Read and DNS:Edit)",
		Keys: []Key{
			{Name: "api_token", Env: cloudflare.EnvDNSToken, Secret: true, Help: "API token with DNS:Edit (and Zone:Read unless zone_token is set); lego's CF_DNS_API_TOKEN is read too"},
			{Name: "zone_token", Env: cloudflare.EnvZoneToken, Secret: true, Help: "API token with Zone:Read that finds the zones, when api_token may not"},
			{Name: "email", Env: cloudflare.EnvEmail, Help: "account e-mail, with api_key (legacy Global API Key)"},
			{Name: "api_key", Env: cloudflare.EnvAPIKey, Secret: true, Help: "legacy Global API Key, with email; prefer api_token"},
			{Name: "endpoint", Env: cloudflare.EnvBaseURL, Help: "API base URL (default " + cloudflare.DefaultBaseURL + ")", Check: checkWith(cloudflare.ParseBaseURL)},
			{Name: "http_timeout", Env: cloudflare.EnvHTTPTimeout, Help: "bound of one API call, seconds (default 60)", Type: Seconds, Check: checkWith(parseHTTPTimeout)},
			{Name: "ttl", Env: cloudflare.EnvTTL, Help: "TTL of the TXT records, seconds (default 120; 1 is automatic; TXT already at a name keep theirs)", Type: Integer, Check: checkWith(cloudflare.ParseTTL)},
			{Name: "serving_lag", Env: cloudflare.EnvServingLag, Help: "how long Cloudflare's edge takes to serve a change (default 5s)", Type: Seconds, Check: checkWith(cloudflare.ParseServingLag)},
		},
		Traits: Traits{
			Zones:    "GET /zones?name= for the name and its parents",
			Writes:   "one read of the zone's TXT and one batch (POST dns_records/batch, 200 records each) per zone",
			Delete:   "by value, by the IDs of the records holding it; other values at the name kept",
			ReadBack: "GET dns_records",
			Lag:      "`serving_lag` (default 5s)",
		},
		New: func(get func(string) (string, bool), env BuildEnv) (providers.Provider, error) {
			p, err := cloudflare.FromEnv(get)
			if err != nil {
				return nil, err
			}
			if p.HTTPClient, err = legoHTTPTimeout(get, cloudflare.EnvHTTPTimeout, env.HTTPClient); err != nil {
				return nil, err
			}
			p.Logger = env.Logger
			return p, nil
		},
	})
}
