package main

import (
	"os"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/providers"
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
	{"namecheap-settle-delay", namecheap.EnvSettleDelay, "settle delay of --propagation provider for Namecheap"},
}

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
	if cfg.LockDir == "" {
		cfg.LockDir = filepath.Join(p.path, "locks")
	}
	prov, err := namecheap.New(cfg)
	if err != nil {
		return providers.Entry{}, exitcode.With(exitcode.Usage, err)
	}
	return providers.Entry{Name: "namecheap", Provider: prov}, nil
}
