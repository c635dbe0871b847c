package plan

import (
	"github.com/strictacme/strictacme/internal/providers"
	"github.com/strictacme/strictacme/provider/route53"
)

func init() {
	RegisterProvider(ProviderKind{
		Name:       "route53",
		LegoPrefix: "AWS",
		Help:       "Amazon Route 53 (credentials from the AWS standard chain or static keys)",
		Keys: []Key{
			{Name: "access_key_id", Env: route53.EnvAccessKeyID, Help: "access key ID of static credentials (default: the AWS credential chain)"},
			{Name: "secret_access_key", Env: route53.EnvSecretAccessKey, Secret: true, Help: "secret access key of static credentials"},
			{Name: "session_token", Env: route53.EnvSessionToken, Secret: true, Help: "session token of temporary static credentials"},
			{Name: "region", Env: route53.EnvRegion, Help: "region the requests are signed for (default us-east-1, where Route 53's API lives)"},
			{Name: "profile", Env: route53.EnvProfile, Help: "profile of the shared AWS config and credentials files"},
			{Name: "hosted_zone_id", Env: route53.EnvHostedZoneID, Help: "hosted zone to write in, instead of choosing among the listed ones (public before private)", Check: checkWith(route53.ParseHostedZoneID)},
			{Name: "max_retries", Env: route53.EnvMaxRetries, Help: "retries of a throttled or failed request (default 5)", Type: Integer, Check: checkWith(route53.ParseMaxRetries)},
			{Name: "ttl", Env: route53.EnvTTL, Help: "TTL of a new TXT RRset, seconds (default 10; an RRset already there keeps its TTL)", Type: Integer, Check: checkWith(route53.ParseTTL)},
			{Name: "wait_for_sync", Env: route53.EnvWaitForSync, Help: "wait until Route 53 reports the change INSYNC on all its name servers, and skip the propagation check (true/false, default true)", Type: Bool, Check: checkWith(route53.ParseWaitForSync)},
			{Name: "sync_timeout", Env: route53.EnvSyncTimeout, Help: "bound of the wait for INSYNC (default 3m)", Type: Seconds, Check: checkWith(route53.ParseSyncTimeout)},
			{Name: "endpoint", Env: route53.EnvEndpoint, Help: "Route 53 API URL (API proxies, tests)", Check: checkWith(route53.ParseEndpoint)},
		},
		Traits: Traits{
			Zones:    "ListHostedZones, every page (public before private), or `hosted_zone_id`",
			Writes:   "one ListResourceRecordSets per name and one ChangeResourceRecordSets batch per zone, then GetChange until INSYNC",
			Delete:   "by value: DELETE of the RRset as read and CREATE of what remains, refused by Route 53 if another writer changed it meanwhile (then redone); TTL kept",
			ReadBack: "ListResourceRecordSets",
			Lag:      "none: the write returns once the change is INSYNC on every Route 53 name server (with `wait_for_sync = false`, left to the propagation check)",
		},
		New: func(get func(string) (string, bool), env BuildEnv) (providers.Provider, error) {
			p, err := route53.FromEnv(get)
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
