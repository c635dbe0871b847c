package plan

import (
	"time"

	"github.com/strictacme/strictacme/internal/envvar"
	"github.com/strictacme/strictacme/internal/providers"
	"github.com/strictacme/strictacme/provider/hetzner"
)

func init() {
	RegisterProvider(ProviderKind{
		Name:       "hetzner",
		LegoPrefix: "HETZNER",
		Help:       "Hetzner DNS through the Hetzner Cloud API (api_token), or the older DNS Console API (api_key) for zones not yet moved",
		Keys: []Key{
			{Name: "api_token", Env: hetzner.EnvAPIToken, Secret: true, Help: "Hetzner Cloud API token, Read & Write (selects the Cloud API; give this or api_key)"},
			{Name: "api_key", Env: hetzner.EnvAPIKey, Secret: true, Help: "DNS Console API token (selects that API; give this or api_token)"},
			{Name: "ttl", Env: hetzner.EnvTTL, Help: "TTL of new TXT records, seconds, at least 60 (TXT already at a name give theirs)", Type: Integer, Check: checkWith(hetzner.ParseTTL)},
			{Name: "endpoint", Env: hetzner.EnvEndpoint, Help: "API base URL (default " + hetzner.DefaultCloudEndpoint + ", or " + hetzner.DefaultEndpoint + " with api_key)", Check: checkWith(hetzner.ParseEndpoint)},
			{Name: "serving_lag", Env: hetzner.EnvServingLag, Help: "how long Hetzner's name servers take to serve a change (default 0)", Type: Seconds, Check: checkWith(func(v string) (time.Duration, error) { return envvar.ParseDuration(v, true) })},
		},
		Traits: Traits{
			Zones:    "GET /zones (paginated), the longest zone holding the name",
			Writes:   "Cloud API: one TXT RRsets read per zone, then one add_records / remove_records action per name (the API changes one RRset a call), each polled until it ends; DNS Console API: one POST /records/bulk per zone, one DELETE per record",
			Delete:   "by exact value (remove_records names the values; DNS Console: by record ID); other values at the name kept",
			ReadBack: "GET /zones/{zone}/rrsets (Cloud), GET /records (DNS Console), paginated",
			Lag:      "`serving_lag` (default 0)",
		},
		New: func(get func(string) (string, bool), env BuildEnv) (providers.Provider, error) {
			p, err := hetzner.FromEnv(get)
			if err != nil {
				return nil, err
			}
			p.HTTPClient, p.Logger = env.HTTPClient, env.Logger
			return p, nil
		},
	})
}
