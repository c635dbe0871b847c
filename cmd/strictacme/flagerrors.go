package main

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/plan"
	"github.com/strictacme/strictacme/provider/acmedns"
)

// flagNames are the flags that set each settings key.
var flagNames = map[string]string{
	"names": "--domain", "name": "--cert-name", "server": "--server", "email": "--email", "key_type": "--key-type",
	"profile": "--profile", "challenges": "--challenge", "ca_certs": "--ca-cert", "timeout": "--timeout",
	"propagation": "--propagation", "propagation_fallback": "--propagation-fallback", "resolvers": "--resolver",
	"quorum": "--quorum", "request_timeout": "--request-timeout", "propagation_wait": "--propagation-wait",
	"propagation_timeout": "--propagation-timeout", "provider": "--dns", "providers": "--dns",
	"challenge_alias": "--challenge-alias", "challenge_aliases": "--challenge-alias", "challenge_targets": "--challenge-target",
	"follow_cname": "--follow-cname", "hook_timeout": "--hook-timeout", "eab_kid": "--eab-kid",
	"eab_hmac_key_file": "--eab-hmac-key-file", "eab_hmac_key_env": "--eab-hmac-key-file", "preferred_chain": "--preferred-chain",
	"pre_hook": "--pre-hook", "deploy_hook": "--deploy-hook", "post_hook": "--post-hook",
	"reuse_key": "--reuse-key", "csr": "--csr",
}

// flagError says a settings problem in the words the user gave it: the
// flag, or the environment variable that set it; one line per problem.
func flagError(err error) error {
	var pe *plan.ProblemsError
	var be *plan.BuildError
	switch {
	case errors.As(err, &pe):
		lines := make([]string, 0, len(pe.Problems))
		for _, p := range pe.Problems {
			lines = append(lines, flagProblem(p))
		}
		return exitcode.With(exitcode.Usage, errors.New(strings.Join(lines, "\n")))
	case errors.As(err, &be):
		if be.Provider != "" {
			return exitcode.With(exitcode.Usage, be.Err)
		}
		return exitcode.With(exitcode.Usage, errors.New(flagProblem(plan.Problem{Key: be.Key, Msg: be.Err.Error()})))
	}
	return err
}

// flagProblem is one settings problem as a line naming what the user set:
// a flag as --NAME, a flag set from its variable by that variable's name,
// a provider setting read from the provider's own variable by that one.
func flagProblem(p plan.Problem) string {
	key, msg := p.Key, p.Msg
	if p.Provider != "" {
		if key == "type" {
			return fmt.Sprintf("--dns %q: unknown provider; use %s", p.Provider, strings.Join(plan.ProviderNames(), ", "))
		}
		if k, ok := plan.LookupProvider(p.Provider); ok {
			if pk, ok := k.Key(strings.TrimSuffix(strings.TrimSuffix(key, "_env"), "_file")); ok {
				switch {
				case pk.Flag != "" && flagGiven(pk.Flag):
					return joinMsg(givenAs(pk.Flag), msg)
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
			return joinMsg(givenAs("csr"), "-d "+rest)
		}
	case "eab_hmac_key_file":
		if strings.Contains(msg, "needs the HMAC key") {
			return fmt.Sprintf("%s needs the HMAC key: --eab-hmac-key-file FILE or %s", givenAs("eab-kid"), envName("eab-hmac-key"))
		}
	}
	msg = flagWords(msg)
	if fl, ok := flagNames[key]; ok {
		return joinMsg(givenAs(strings.TrimPrefix(fl, "--")), msg)
	}
	return key + ": " + msg
}

// configKey is a config key as settings problems name other settings in
// their text: "set pkcs12_password_file or pkcs12_password_env".
var configKey = regexp.MustCompile(`\b[a-z0-9]+(?:_[a-z0-9]+)+\b`)

// flagWords names, in msg, every other setting by the flag (or variable)
// that gave it instead of its config key. Only keys with an underscore are
// replaced: "name" or "server" in a sentence are words, not keys.
func flagWords(msg string) string {
	return configKey.ReplaceAllStringFunc(msg, func(k string) string {
		if fl, ok := flagNames[k]; ok {
			return givenAs(strings.TrimPrefix(fl, "--"))
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

// registerError says why register could not create an account: a server
// that refuses registration without the admin token names the flag that
// gives it (usage: the fix is a flag); anything else is the server's
// failure (DNS).
func registerError(err error, server, tokenFile string) error {
	var api *acmedns.APIError
	if errors.As(err, &api) && api.Op == "register" && (api.Status == http.StatusUnauthorized || api.Status == http.StatusForbidden) {
		if tokenFile == "" {
			return exitcode.With(exitcode.Usage, fmt.Errorf("%s refuses to register accounts without its admin token (%v); pass --admin-token-file FILE with the token", server, err))
		}
		return exitcode.With(exitcode.Usage, fmt.Errorf("%s refused the admin token in %s (%v); check --admin-token-file against the server's admin_token_file", server, tokenFile, err))
	}
	return err // delegation.AcmeDNSSetup gave it its exit code
}
