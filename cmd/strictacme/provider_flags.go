package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/spf13/pflag"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/propagation"
	"github.com/strictacme/strictacme/internal/providers"
	"github.com/strictacme/strictacme/provider/acmedns"
	"github.com/strictacme/strictacme/provider/namecheap"
)

// providerFlags are provider settings given as flags; each one stands for
// the provider's own environment variable and wins over it. Secrets have
// only a *-file flag: a key on the command line would show in ps and in CI
// logs.
var providerFlags = []struct{ flag, env, usage string }{
	{"namecheap-api-user", namecheap.EnvAPIUser, "Namecheap ApiUser"},
	{"namecheap-api-key-file", namecheap.EnvAPIKey + "_FILE", "file holding the Namecheap ApiKey"},
	{"namecheap-client-ip", namecheap.EnvClientIP, "IPv4 sent as ClientIp (must be whitelisted in the Namecheap account)"},
	{"namecheap-client-ip-url", namecheap.EnvClientIPURL, "HTTPS URL answering this machine's public IPv4, to discover ClientIp"},
	{"namecheap-endpoint", namecheap.EnvEndpoint, "Namecheap API base URL (sandbox, tests)"},
	{"namecheap-sandbox", namecheap.EnvSandbox, "use the Namecheap sandbox API (true/false)"},
	{"namecheap-zone", namecheap.EnvZone, "zone to write into (FreeDNS sub-zones, delegated setups)"},
	{"namecheap-allow-ddns", namecheap.EnvAllowDDNS, "allow rewriting zones with Dynamic DNS hosts (their DDNS flag is lost)"},
	{"namecheap-settle-delay", namecheap.EnvSettleDelay, "how long Namecheap's name servers take to serve a change: waited after the write before resolvers are asked, and after the read-back of --propagation provider (default 2m)"},
	{"exec-serving-lag", "EXEC_SERVING_LAG", "how long the exec script's DNS service takes to serve a written record (default 0)"},
	{"acmedns-server", envAcmeDNSBase, "acme-dns compatible server API URL, for accounts without server_url"},
	{"acmedns-credentials", envAcmeDNSStorage, "acme-dns credentials file (goacmedns JSON; default <path>/acmedns.json)"},
}

// lego's names for the acme-dns provider settings.
const (
	envAcmeDNSBase    = "ACME_DNS_API_BASE"
	envAcmeDNSStorage = "ACME_DNS_STORAGE_PATH"
)

func registerProviderFlags(fl *pflag.FlagSet, values map[string]*string) {
	for _, p := range providerFlags {
		v := new(string)
		values[p.flag] = v
		fl.StringVar(v, p.flag, "", p.usage+" (or $"+p.env+")")
	}
}

// providerLookup reads a provider setting: the flag when given, else the
// environment.
func providerLookup(fl *pflag.FlagSet, values map[string]*string) func(string) (string, bool) {
	byEnv := map[string]string{}
	for _, p := range providerFlags {
		if f := fl.Lookup(p.flag); f != nil && f.Changed {
			byEnv[p.env] = *values[p.flag]
		}
	}
	return func(k string) (string, bool) {
		if v, ok := byEnv[k]; ok {
			return v, true
		}
		return os.LookupEnv(k)
	}
}

func namecheapEntry(lookup func(string) (string, bool), p *plan) (providers.Entry, error) {
	cfg, err := namecheap.ConfigFromEnv(lookup)
	if err != nil {
		return providers.Entry{}, exitcode.With(exitcode.Usage, err)
	}
	cfg.RootCAs = p.rootCAs
	cfg.Logger = providerLogger()
	prov, err := namecheap.New(cfg)
	if err != nil {
		return providers.Entry{}, exitcode.With(exitcode.Usage, err)
	}
	return providers.Entry{Name: "namecheap", Provider: prov}, nil
}

// acmednsCredentialsPath is where the acme-dns credentials are read from.
func acmednsCredentialsPath(lookup func(string) (string, bool), p *plan) string {
	if v, ok := lookup(envAcmeDNSStorage); ok && v != "" {
		return v
	}
	return filepath.Join(p.path, "acmedns.json")
}

func acmednsEntry(lookup func(string) (string, bool), p *plan) (providers.Entry, error) {
	path := acmednsCredentialsPath(lookup, p)
	creds, err := acmedns.LoadCredentials(path)
	if err != nil {
		return providers.Entry{}, exitcode.With(exitcode.Usage, fmt.Errorf("acme-dns credentials %s: %v; create them with strictacme register, or set %s", path, err, envAcmeDNSStorage))
	}
	// Every name needs its account before anything is sent to the CA.
	for _, id := range p.identifiers {
		if _, ok := creds.Lookup(id.Base()); !ok {
			return providers.Entry{}, usage("no acme-dns account for %s in %s; create one with: strictacme register -d %s", id.Base(), path, id.Base())
		}
	}
	base, _ := lookup(envAcmeDNSBase)
	return providers.Entry{Name: "acmedns", Provider: &acmedns.Provider{ServerURL: base, Credentials: creds, HTTPClient: p.httpClient}}, nil
}

// relayStrategy builds --propagation relay: the challenge server's /lookup
// asks every authoritative server of each record's zone, over HTTPS only.
// It authenticates with an account from the acme-dns credentials file.
func relayStrategy(lookup func(string) (string, bool), p *plan) (*propagation.Relay, error) {
	path := acmednsCredentialsPath(lookup, p)
	creds, err := acmedns.LoadCredentials(path)
	if err != nil || len(creds) == 0 {
		return nil, usage("--propagation relay needs an account on the challenge server in %s (strictacme register)", path)
	}
	base, _ := lookup(envAcmeDNSBase)
	keys := make([]string, 0, len(creds))
	for k := range creds {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	a := creds[keys[0]]
	url := a.ServerURL
	if url == "" {
		url = base
	}
	if url == "" {
		return nil, usage("--propagation relay: the account in %s has no server_url; set --acmedns-server", path)
	}
	return &propagation.Relay{URL: url, Username: a.Username, Password: a.Password, HTTPClient: p.httpClient}, nil
}
