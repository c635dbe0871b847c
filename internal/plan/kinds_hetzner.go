package plan

import (
	"github.com/strictacme/strictacme/internal/providers"
	"github.com/strictacme/strictacme/provider/hetzner"
)

func init() {
	RegisterProvider(ProviderKind{
		Name:       "hetzner",
		LegoPrefix: "HETZNER",
		Help:       "Hetzner DNS through the DNS Console API (dns.hetzner.com), not yet the Cloud API",
		Keys: []Key{
			{Name: "api_key", Env: hetzner.EnvAPIKey, Secret: true, Required: true, Help: "Hetzner DNS API token (DNS Console)"},
			{Name: "ttl", Env: hetzner.EnvTTL, Help: "TTL of new TXT records, seconds, at least 60 (TXT already at a name give theirs)"},
			{Name: "endpoint", Env: hetzner.EnvEndpoint, Help: "DNS API base URL (default " + hetzner.DefaultEndpoint + ")"},
			{Name: "serving_lag", Env: hetzner.EnvServingLag, Help: "how long Hetzner's name servers take to serve a change (default 0)"},
		},
		Traits: Traits{
			Zones:    "GET /zones (paginated), the longest zone holding the name",
			Writes:   "one records read and one POST /records/bulk per zone; deletes are one DELETE per record (no bulk delete in the API)",
			Delete:   "by the ID of the record holding exactly our value; other values at the name kept",
			ReadBack: "GET /records (paginated)",
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
