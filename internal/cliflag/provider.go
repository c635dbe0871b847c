package cliflag

import (
	"os"

	"github.com/spf13/pflag"

	"github.com/strictacme/strictacme/internal/plan"
)

// RegisterProviderFlags defines on fs the flag of every provider setting
// that has one in the provider registry (plan.Key.Flag), its value in
// values by flag name; a secret's flag takes a file (plan.Key.FlagEnv).
func RegisterProviderFlags(fs *pflag.FlagSet, values map[string]*string) {
	for _, k := range plan.ProviderKinds() {
		for _, key := range k.Keys {
			if key.Flag != "" {
				values[key.Flag] = fs.String(key.Flag, "", key.Help+" (or $"+key.FlagEnv()+")")
			}
		}
	}
}

// ProviderFlagsGiven are the provider flags of fs given, by the variable
// each stands for.
func ProviderFlagsGiven(fs *pflag.FlagSet, values map[string]*string) map[string]string {
	byEnv := map[string]string{}
	for _, k := range plan.ProviderKinds() {
		for _, key := range k.Keys {
			if f := fs.Lookup(key.Flag); key.Flag != "" && f != nil && f.Changed {
				byEnv[key.FlagEnv()] = *values[key.Flag]
			}
		}
	}
	return byEnv
}

// ProviderLookup reads a provider setting: the flag when given (byEnv,
// from ProviderFlagsGiven), else the environment.
func ProviderLookup(byEnv map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		if v, ok := byEnv[k]; ok {
			return v, true
		}
		return os.LookupEnv(k)
	}
}
