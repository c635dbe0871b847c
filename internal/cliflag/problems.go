package cliflag

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/plan"
)

// keyFlags are the settings keys whose flag is not the key with dashes
// for underscores (key_type is --key-type).
var keyFlags = map[string]string{
	"names": "domain", "name": "cert-name", "challenges": "challenge", "ca_certs": "ca-cert", "resolvers": "resolver",
	"provider": "dns", "providers": "dns", "challenge_aliases": "challenge-alias", "challenge_targets": "challenge-target",
	"eab_hmac_key_env": "eab-hmac-key-file",
}

// FlagOf is the flag (without dashes) that sets settings key, when the
// command being run (its flags as bound) has it.
func (g *Given) FlagOf(key string) (string, bool) {
	name, ok := keyFlags[key]
	if !ok {
		name = strings.ReplaceAll(key, "_", "-")
	}
	if g.flags == nil || g.flags.Lookup(name) == nil {
		return "", false
	}
	return name, true
}

// Explain says a settings problem (plan.ProblemsError, plan.BuildError)
// in the words the user gave it, one line per problem, as a usage error;
// other errors are returned as they are.
func (g *Given) Explain(err error) error {
	var pe *plan.ProblemsError
	var be *plan.BuildError
	switch {
	case errors.As(err, &pe):
		lines := make([]string, 0, len(pe.Problems))
		for _, p := range pe.Problems {
			lines = append(lines, g.Problem(p))
		}
		return exitcode.With(exitcode.Usage, errors.New(strings.Join(lines, "\n")))
	case errors.As(err, &be):
		if be.Provider != "" {
			return exitcode.With(exitcode.Usage, be.Err)
		}
		return exitcode.With(exitcode.Usage, errors.New(g.Problem(plan.Problem{Key: be.Key, Msg: be.Err.Error()})))
	}
	return err
}

// Problem is one settings problem as a line naming what the user set: a
// flag as --NAME, a flag set from its variable by that variable's name, a
// provider setting read from the provider's own variable by that one.
func (g *Given) Problem(p plan.Problem) string {
	key, msg := p.Key, p.Msg
	if p.Provider != "" {
		if key == "type" {
			return fmt.Sprintf("--dns %q: unknown provider; use %s", p.Provider, strings.Join(plan.ProviderNames(), ", "))
		}
		if k, ok := plan.LookupProvider(p.Provider); ok {
			if pk, ok := k.Key(strings.TrimSuffix(strings.TrimSuffix(key, "_env"), "_file")); ok {
				switch {
				case pk.Flag != "" && g.Has(pk.Flag):
					return joinMsg(g.As(pk.Flag), msg)
				case p.Env != "":
					return joinMsg(p.Env, msg)
				case pk.Flag != "":
					return joinMsg("--"+pk.Flag, msg)
				}
			}
		}
		if p.Env != "" {
			return joinMsg(p.Env, msg)
		}
		return fmt.Sprintf("--dns %s: %s: %s", p.Provider, key, msg)
	}
	switch key {
	case "provider":
		if strings.HasPrefix(msg, "no DNS provider") {
			return fmt.Sprintf("--dns is required: %s (see --help)", strings.Join(plan.ProviderNames(), ", "))
		}
	case "names":
		return msg
	case "csr":
		if rest, ok := strings.CutPrefix(msg, "names "); ok { // -d and --csr disagree
			return joinMsg(g.As("csr"), "-d "+rest)
		}
	case "eab_hmac_key_file":
		if strings.Contains(msg, "needs the HMAC key") {
			return fmt.Sprintf("%s needs the HMAC key: --eab-hmac-key-file FILE or %s", g.As("eab-kid"), EnvName("eab-hmac-key"))
		}
	}
	msg = g.flagWords(msg)
	if fl, ok := g.FlagOf(key); ok {
		return joinMsg(g.As(fl), msg)
	}
	return key + ": " + msg
}

// configKey is a config key as settings problems name other settings in
// their text: "set pkcs12_password_file or pkcs12_password_env".
var configKey = regexp.MustCompile(`\b[a-z0-9]+(?:_[a-z0-9]+)+\b`)

// flagWords names, in msg, every other setting by the flag (or variable)
// that gave it instead of its config key. Only keys with an underscore are
// replaced: "name" or "server" in a sentence are words, not keys.
func (g *Given) flagWords(msg string) string {
	return configKey.ReplaceAllStringFunc(msg, func(k string) string {
		if fl, ok := g.FlagOf(k); ok {
			return g.As(fl)
		}
		return k
	})
}

// joinMsg puts the name of a setting before msg: `--server "ftp://x": ...`
// when msg starts with the value, else `--server: ...`.
func joinMsg(name, msg string) string {
	if strings.HasPrefix(msg, "\"") {
		return name + " " + msg
	}
	return name + ": " + msg
}
