package main

import (
	"os"

	"github.com/spf13/pflag"

	"github.com/strictacme/strictacme/internal/plan"
)

// providerFlagEnv maps each provider flag of the registry to the provider's
// own environment variable it stands for (a secret's flag takes a file:
// VAR_FILE). A key on the command line would show in ps and in CI logs.
func providerFlagEnv() map[string]string {
	out := map[string]string{}
	for _, k := range plan.ProviderKinds() {
		for _, key := range k.Keys {
			if key.Flag == "" {
				continue
			}
			env := key.Env
			if key.Secret {
				env += "_FILE"
			}
			out[key.Flag] = env
		}
	}
	return out
}

func registerProviderFlags(fl *pflag.FlagSet, values map[string]*string) {
	for _, k := range plan.ProviderKinds() {
		for _, key := range k.Keys {
			if key.Flag == "" {
				continue
			}
			env := providerFlagEnv()[key.Flag]
			v := new(string)
			values[key.Flag] = v
			fl.StringVar(v, key.Flag, "", key.Help+" (or $"+env+")")
		}
	}
}

// providerFlagsGiven are the provider flags given, by the variable each
// stands for.
func providerFlagsGiven(fl *pflag.FlagSet, values map[string]*string) map[string]string {
	byEnv := map[string]string{}
	for flag, env := range providerFlagEnv() {
		if f := fl.Lookup(flag); f != nil && f.Changed {
			byEnv[env] = *values[flag]
		}
	}
	return byEnv
}

// providerValues are the given provider flags of kind as the settings of
// its definition, so that renew needs them no more: a plain value, or for
// a secret the file it is in.
func providerValues(kind string, given map[string]string) map[string]string {
	k, ok := plan.LookupProvider(kind)
	if !ok {
		return nil
	}
	var out map[string]string
	for _, key := range k.Keys {
		name, env := key.Name, key.Env
		if key.Secret {
			name, env = key.Name+"_file", key.Env+"_FILE"
		}
		if v, ok := given[env]; ok && key.Flag != "" {
			if out == nil {
				out = map[string]string{}
			}
			out[name] = v
		}
	}
	return out
}

// providerLookup reads a provider setting: the flag when given, else the
// environment.
func providerLookup(byEnv map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		if v, ok := byEnv[k]; ok {
			return v, true
		}
		return os.LookupEnv(k)
	}
}
