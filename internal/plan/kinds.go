package plan

import (
	"fmt"
	"path/filepath"

	"github.com/strictacme/strictacme/internal/providers"
	"github.com/strictacme/strictacme/provider/acmedns"
	"github.com/strictacme/strictacme/provider/exec"
	"github.com/strictacme/strictacme/provider/namecheap"
	"github.com/strictacme/strictacme/provider/rfc2136"
)

// The DNS providers strictacme ships. Adding one is a folder under
// provider/ plus one RegisterProvider here.
func init() {
	RegisterProvider(ProviderKind{
		Name:       "exec",
		LegoPrefix: "EXEC",
		Help:       "a program called as PROGRAM present|cleanup FQDN VALUE (lego's exec provider)",
		Keys: []Key{
			{Name: "program", Env: "EXEC_PATH", Required: true, Help: "the program that writes and removes TXT records", Check: exec.CheckProgram},
			{Name: "sequence_interval", Env: "EXEC_SEQUENCE_INTERVAL", Help: "pause between two runs of the program (seconds)", Type: Seconds, Check: checkWith(exec.ParseSequenceInterval)},
			{Name: "serving_lag", Env: "EXEC_SERVING_LAG", Flag: "exec-serving-lag", Help: "how long the exec script's DNS service takes to serve a written record (default 0)", Type: Seconds, Check: checkWith(exec.ParseServingLag)},
			{Name: "parallel", Env: "EXEC_PARALLEL", Flag: "exec-parallel", Help: "how many runs of the program may overlap, for scripts safe to run several at once (default 1)", Type: Integer, Check: checkWith(exec.ParseParallel)},
		},
		Traits: Traits{
			Zones:  "the registered domain (public-suffix list), or the provider's `zones`",
			Writes: "one run of the program per record (up to `parallel` at once)",
			Delete: "`cleanup FQDN VALUE`: as exact as the script",
			Lag:    "`serving_lag` (default 0)",
		},
		New: func(get func(string) (string, bool), _ BuildEnv) (providers.Provider, error) {
			return exec.FromEnv(get)
		},
	})
	RegisterProvider(ProviderKind{
		Name:       "namecheap",
		LegoPrefix: "NAMECHEAP",
		Help:       "Namecheap DNS (API access and a whitelisted IPv4 needed)",
		Keys: []Key{
			{Name: "api_user", Env: namecheap.EnvAPIUser, Flag: "namecheap-api-user", Required: true, Help: "Namecheap ApiUser"},
			{Name: "api_key", Env: namecheap.EnvAPIKey, Flag: "namecheap-api-key-file", Secret: true, Required: true, Help: "file holding the Namecheap ApiKey"},
			{Name: "user_name", Env: namecheap.EnvUserName, Help: "account acted on (resellers); default api_user"},
			{Name: "client_ip", Env: namecheap.EnvClientIP, Flag: "namecheap-client-ip", Help: "IPv4 sent as ClientIp (must be whitelisted in the Namecheap account)", Check: checkWith(namecheap.ParseClientIP)},
			{Name: "client_ip_url", Env: namecheap.EnvClientIPURL, Flag: "namecheap-client-ip-url", Help: "HTTPS URL answering this machine's public IPv4, to discover ClientIp", Check: checkWith(namecheap.ParseClientIPURL)},
			{Name: "endpoint", Env: namecheap.EnvEndpoint, Flag: "namecheap-endpoint", Help: "Namecheap API base URL (sandbox, tests)", Check: checkWith(namecheap.ParseEndpoint)},
			{Name: "sandbox", Env: namecheap.EnvSandbox, Flag: "namecheap-sandbox", Help: "use the Namecheap sandbox API (true/false)", Type: Bool, Check: checkWith(namecheap.ParseBool)},
			{Name: "zone", Env: namecheap.EnvZone, Flag: "namecheap-zone", Help: "zone to write into (FreeDNS sub-zones, delegated setups)"},
			{Name: "allow_ddns", Env: namecheap.EnvAllowDDNS, Flag: "namecheap-allow-ddns", Help: "allow rewriting zones with Dynamic DNS hosts (their DDNS flag is lost)", Type: Bool, Check: checkWith(namecheap.ParseBool)},
			{Name: "settle_delay", Env: namecheap.EnvSettleDelay, Flag: "namecheap-settle-delay", Help: "how long Namecheap's name servers take to serve a change: waited after the write before resolvers are asked, and after the read-back of the provider strategy (default 2m)", Type: Seconds, Check: checkWith(namecheap.ParseSettleDelay)},
			{Name: "ttl", Env: namecheap.EnvTTL, Help: "TTL of the TXT records, seconds", Type: Integer, Check: checkWith(namecheap.ParseTTL)},
			{Name: "lock_dir", Env: namecheap.EnvLockDir, Help: "directory of the per-zone lock files (default: one for the whole machine)"},
		},
		Traits: Traits{
			Zones:    "public-suffix split confirmed by getHosts, or `zone`",
			Writes:   "one getHosts and one setHosts per zone, under a per-zone lock shared by the machine's processes, read back to verify",
			Delete:   "by name and value; every other host and the mail setting kept",
			ReadBack: "getHosts",
			Lag:      "`settle_delay` (default 2m)",
		},
		New: func(get func(string) (string, bool), env BuildEnv) (providers.Provider, error) {
			cfg, err := namecheap.ConfigFromEnv(get)
			if err != nil {
				return nil, err
			}
			cfg.RootCAs = env.RootCAs
			cfg.Logger = env.Logger // "" LockDir is the machine-wide one: runs on other paths share it
			return namecheap.New(cfg)
		},
	})
	RegisterProvider(ProviderKind{
		Name: "acmedns",
		Help: "an acme-dns compatible challenge server (strictacme serve, joohoi/acme-dns)",
		Keys: []Key{
			{Name: "server", Env: EnvAcmeDNSBase, Flag: "acmedns-server", Help: "acme-dns compatible server API URL, for accounts without server_url"},
			{Name: "credentials", Env: EnvAcmeDNSStorage, Flag: "acmedns-credentials", Help: "acme-dns credentials file (goacmedns JSON; default PATH/acmedns.json)"},
		},
		Traits: Traits{
			Zones:  "the account's subdomain, from the credentials file",
			Writes: "one POST /update per value",
			Delete: "POST /delete by value (strictacme serve); acme-dns keeps its two latest values",
			Lag:    "none: the server is authoritative",
		},
		New: func(get func(string) (string, bool), env BuildEnv) (providers.Provider, error) {
			path := AcmeDNSCredentialsPath(get, env.Path)
			creds, err := acmedns.LoadCredentials(path)
			if err != nil {
				return nil, fmt.Errorf("acme-dns credentials %s: %v; create them with strictacme register", path, err)
			}
			// Every name needs its account before anything is sent to the CA.
			for _, id := range env.Identifiers {
				if _, ok := creds.Lookup(id.Base()); !ok {
					return nil, fmt.Errorf("no acme-dns account for %s in %s; create one with: strictacme register -d %s", id.Base(), path, id.Base())
				}
			}
			base, _ := get(EnvAcmeDNSBase)
			return &acmedns.Provider{ServerURL: base, Credentials: creds, HTTPClient: env.HTTPClient}, nil
		},
	})
	RegisterProvider(ProviderKind{
		Name:       "rfc2136",
		LegoPrefix: "RFC2136",
		Help:       "DNS dynamic updates (RFC 2136) signed with a TSIG key, on the zone's primary (BIND, Knot, PowerDNS)",
		Keys: []Key{
			{Name: "nameserver", Env: rfc2136.EnvNameserver, Flag: "rfc2136-nameserver", Required: true, Help: "address of the zone's primary server, host or host:port (every DNS message goes there and nowhere else)", Check: checkWith(rfc2136.ParseNameserver)},
			{Name: "tsig_key", Env: rfc2136.EnvTSIGKey, Flag: "rfc2136-tsig-key", Help: "name of the TSIG key on the server"},
			{Name: "tsig_secret", Env: rfc2136.EnvTSIGSecret, Flag: "rfc2136-tsig-secret-file", Secret: true, Help: "file holding the TSIG key's base64 secret"},
			{Name: "tsig_algorithm", Env: rfc2136.EnvTSIGAlgorithm, Flag: "rfc2136-tsig-algorithm", Help: "hmac-sha256 (default), hmac-sha384 or hmac-sha512", Check: checkWith(rfc2136.Algorithm)},
			{Name: "tsig_file", Env: rfc2136.EnvTSIGFile, Flag: "rfc2136-tsig-file", Help: "TSIG key file in BIND syntax (tsig-keygen's output), instead of tsig_key and tsig_secret"},
			{Name: "zone", Env: rfc2136.EnvZone, Flag: "rfc2136-zone", Help: "zone to write in (default: asked of the nameserver with an SOA question)"},
			{Name: "ttl", Env: rfc2136.EnvTTL, Help: "TTL of the TXT records, seconds (default 120; TXT already at a name keep theirs)", Type: Integer, Check: checkWith(rfc2136.ParseTTL)},
			{Name: "dns_timeout", Env: rfc2136.EnvTimeout, Help: "bound of one exchange with the nameserver (default 10s)", Type: Seconds, Check: checkWith(rfc2136.ParseTimeout)},
			{Name: "serving_lag", Env: rfc2136.EnvServingLag, Flag: "rfc2136-serving-lag", Help: "how long the zone's secondaries take to serve a change the primary accepted (default 0)", Type: Seconds, Check: checkWith(rfc2136.ParseServingLag)},
			{Name: "transfer", Env: rfc2136.EnvTransfer, Flag: "rfc2136-transfer", Help: "the key may transfer the zone (AXFR): records can be read back by check, --propagation provider and CNAME look-ups (true/false, default false)", Type: Bool, Check: checkWith(rfc2136.ParseTransfer)},
		},
		Traits: Traits{
			Zones:    "an SOA question to the nameserver (and nowhere else), or `zone`",
			Writes:   "one UPDATE per zone, no prerequisites",
			Delete:   "by value (class NONE); other TXT at the name and their TTL kept",
			ReadBack: "zone transfer (AXFR) with `transfer = true`",
			Lag:      "`serving_lag` for the secondaries (default 0)",
		},
		New: func(get func(string) (string, bool), _ BuildEnv) (providers.Provider, error) {
			p, err := rfc2136.FromEnv(get)
			if err != nil {
				return nil, err
			}
			transfer, err := rfc2136.Transfer(get)
			if err != nil {
				return nil, err
			}
			if !transfer {
				return p.WriteOnly(), nil
			}
			return p, nil
		},
	})
}

// lego's names for the acme-dns provider settings.
const (
	EnvAcmeDNSBase    = "ACME_DNS_API_BASE"
	EnvAcmeDNSStorage = "ACME_DNS_STORAGE_PATH"
)

// AcmeDNSCredentialsPath is where the acme-dns credentials are read from:
// the credentials setting, else PATH/acmedns.json.
func AcmeDNSCredentialsPath(get func(string) (string, bool), statePath string) string {
	if v, ok := get(EnvAcmeDNSStorage); ok && v != "" {
		return v
	}
	return filepath.Join(statePath, "acmedns.json")
}

// checkWith turns a provider package's parser of one setting into a
// Key.Check, so the value is judged by the code that uses it.
func checkWith[T any](parse func(string) (T, error)) func(string) error {
	return func(v string) error {
		_, err := parse(v)
		return err
	}
}
