package main

import (
	"os"

	"github.com/spf13/pflag"

	"github.com/strictacme/strictacme/internal/plan"
)

// registerProviderFlags defines the flag of every provider setting that has
// one in the registry; a secret's flag takes a file (plan.Key.FlagEnv).
func registerProviderFlags(fl *pflag.FlagSet, values map[string]*string) {
	for _, k := range plan.ProviderKinds() {
		for _, key := range k.Keys {
			if key.Flag != "" {
				values[key.Flag] = fl.String(key.Flag, "", key.Help+" (or $"+key.FlagEnv()+")")
			}
		}
	}
}

// providerFlagsGiven are the provider flags given, by the variable each
// stands for.
func providerFlagsGiven(fl *pflag.FlagSet, values map[string]*string) map[string]string {
	byEnv := map[string]string{}
	for _, k := range plan.ProviderKinds() {
		for _, key := range k.Keys {
			if f := fl.Lookup(key.Flag); key.Flag != "" && f != nil && f.Changed {
				byEnv[key.FlagEnv()] = *values[key.Flag]
			}
		}
	}
	return byEnv
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
