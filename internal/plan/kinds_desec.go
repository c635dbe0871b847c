package plan

import (
	"github.com/strictacme/strictacme/internal/providers"
	"github.com/strictacme/strictacme/provider/desec"
)

func init() {
	RegisterProvider(ProviderKind{
		Name:       "desec",
		LegoPrefix: "DESEC",
		Help:       "deSEC (desec.io) through its API token",
		Keys: []Key{
			{Name: "token", Env: desec.EnvToken, Secret: true, Required: true, Help: "deSEC API token (scoped to the domains' _acme-challenge TXT RRsets where possible)"},
			{Name: "ttl", Env: desec.EnvTTL, Help: "TTL of new TXT RRsets, seconds; raised to the domain's minimum (3600 unless deSEC lowered it)", Type: Integer, Check: checkWith(desec.ParseTTL)},
			{Name: "endpoint", Env: desec.EnvEndpoint, Help: "deSEC API base URL (default " + desec.DefaultEndpoint + ")", Check: checkWith(desec.ParseEndpoint)},
			{Name: "serving_lag", Env: desec.EnvServingLag, Help: "how long deSEC's name servers take to serve a change (default 1m; 0 none)", Type: Seconds, Check: checkWith(desec.ParseServingLag)},
			{Name: "lock_dir", Env: desec.EnvLockDir, Help: "directory of the per-domain lock files (default: one for the whole machine)"},
		},
		Traits: Traits{
			Zones:    "GET /domains/?owns_qname= (the account's longest matching domain)",
			Writes:   "one TXT RRset read and one bulk PATCH per zone, atomic, under a per-zone lock shared by the machine's processes",
			Delete:   "by value: the RRset is rewritten without it, other values and the TTL kept; emptied RRsets removed",
			ReadBack: "GET …/rrsets/ (paginated)",
			Lag:      "`serving_lag` (default 1m)",
		},
		New: func(get func(string) (string, bool), env BuildEnv) (providers.Provider, error) {
			p, err := desec.FromEnv(get)
			if err != nil {
				return nil, err
			}
			p.HTTPClient, p.Logger = env.HTTPClient, env.Logger
			return p, nil
		},
	})
}
