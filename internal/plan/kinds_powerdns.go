package plan

import (
	"github.com/strictacme/strictacme/internal/providers"
	"github.com/strictacme/strictacme/provider/powerdns"
)

func init() {
	RegisterProvider(ProviderKind{
		Name:       "powerdns",
		LegoPrefix: "PDNS",
		Help:       "PowerDNS Authoritative Server through its HTTP API (api=yes, api-key)",
		Keys: []Key{
			{Name: "api_url", Env: powerdns.EnvAPIURL, Required: true, Help: "the PowerDNS webserver's base URL, e.g. https://pdns.example.net:8081 (without /api/v1)", Check: checkWith(powerdns.ParseAPIURL)},
			{Name: "api_key", Env: powerdns.EnvAPIKey, Secret: true, Required: true, Help: "the server's api-key, sent as X-API-Key"},
			{Name: "server_name", Env: powerdns.EnvServerName, Help: "server id in the API paths (default localhost)"},
			{Name: "api_version", Env: powerdns.EnvAPIVersion, Help: "API version in the paths; only 1 (PowerDNS 4 and later)", Type: Integer, Check: checkWith(powerdns.ParseAPIVersion)},
			{Name: "ttl", Env: powerdns.EnvTTL, Help: "TTL of a new TXT RRset, seconds (default 120; an RRset already there keeps its TTL)", Type: Integer, Check: checkWith(powerdns.ParseTTL)},
			{Name: "serving_lag", Env: powerdns.EnvServingLag, Help: "how long the zone's secondaries take to serve a change the API accepted (default 0)", Type: Seconds, Check: checkWith(powerdns.ParseServingLag)},
			{Name: "lock_dir", Env: powerdns.EnvLockDir, Help: "directory of the per-zone lock files (default: one for the whole machine)"},
		},
		Traits: Traits{
			Zones:    "the server's zone list (GET …/zones)",
			Writes:   "one GET and one PATCH per zone (RRsets replaced whole, read-modify-write under a per-zone lock shared by the machine's processes)",
			Delete:   "by value; other values at the name keep their content, disabled flag, TTL and comments; an emptied RRset is deleted",
			ReadBack: "GET of the zone",
			Lag:      "`serving_lag` for the secondaries (default 0)",
		},
		New: func(get func(string) (string, bool), env BuildEnv) (providers.Provider, error) {
			p, err := powerdns.FromEnv(get)
			if err != nil {
				return nil, err
			}
			p.HTTPClient = env.HTTPClient
			if p.HTTPClient == nil && env.RootCAs != nil {
				p.HTTPClient = HTTPClient(env.RootCAs, false)
			}
			return p, nil
		},
	})
}
