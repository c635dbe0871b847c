package main

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/strictacme/strictacme/internal/cliflag"
	"github.com/strictacme/strictacme/internal/hooks"
	"github.com/strictacme/strictacme/internal/plan"
	"github.com/strictacme/strictacme/internal/renewal"
)

// reading is one place strictacme reads (or, for hooks, sets) an
// environment variable, with what the variable means there.
type reading struct {
	where   string // "issue --server", "deploy hook", "provider namecheap"
	meaning string
}

var envSuffix = regexp.MustCompile(`\s*\[\$[A-Z0-9_]+\]$`)

// envReadings derives every environment variable strictacme reads or sets
// from its sources: the flags of every command of the CLI that reads them
// (env names as cliflag.EnvOf derives them), the variables set for hooks, the provider kinds'
// variables and the renewal clock. The meaning of a flag's variable is its
// help text.
func envReadings(envOf func(*cobra.Command, *pflag.Flag) string) map[string][]reading {
	out := map[string][]reading{}
	add := func(env string, r reading) { out[env] = append(out[env], r) }
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.Flags().VisitAll(func(f *pflag.Flag) {
			// Only commands set up by withEnv read their flags'
			// variables; it documents each in the flag's help.
			if f.Name == "help" || !envSuffix.MatchString(f.Usage) {
				return
			}
			add(envOf(c, f), reading{c.CommandPath()[len("strictacme "):] + " --" + f.Name, envSuffix.ReplaceAllString(f.Usage, "")})
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	root := newRootCmd()
	// The log flags are every command's, read by each from one variable.
	root.PersistentFlags().VisitAll(func(f *pflag.Flag) {
		add(envOf(root, f), reading{"--" + f.Name, envSuffix.ReplaceAllString(f.Usage, "")})
	})
	for _, c := range root.Commands() {
		walk(c)
	}
	for _, n := range hooks.VarNames() {
		add(n, reading{"hook", "set for hooks"})
	}
	for _, k := range plan.ProviderKinds() {
		for _, key := range k.Keys {
			add(key.Env, reading{"provider " + k.Name, key.Help})
			add(key.Env+"_FILE", reading{"provider " + k.Name, "file holding: " + key.Help})
		}
	}
	add(renewal.NowEnv, reading{"renewal clock", "clock of renewal decisions"})
	return out
}

// sameMeaning lists the variables read under different help texts that
// still mean one thing, by the commands allowed to read them: the help
// says it in each command's words. A new command reading one of them, or
// a variable not listed read with two texts, fails the test until a person
// decides.
var sameMeaning = map[string][]string{
	"STRICTACME_PATH":              {"issue", "check", "renew", "run", "account", "revoke", "list", "persist", "import", "delete"}, // the state directory
	"STRICTACME_JSON":              {"issue", "check", "renew", "run", "account", "list", "persist", "sandbox"},                    // print JSON on stdout
	"STRICTACME_WAIT":              {"issue", "check", "renew", "run", "account", "revoke", "import", "delete"},                    // wait for the run lock
	"STRICTACME_TIMEOUT":           {"issue", "check", "renew", "run", "persist"},                                                  // give up the command's work after this long
	"STRICTACME_EMAIL":             {"issue", "check", "renew", "run", "account", "persist"},                                       // the ACME account's contact
	"STRICTACME_ACCEPT_TOS":        {"issue", "check", "renew", "run", "persist"},                                                  // agree to the CA's terms
	"STRICTACME_EAB_KID":           {"issue", "check", "renew", "run"},
	"STRICTACME_EAB_HMAC_KEY":      {"issue", "check", "renew", "run"},
	"STRICTACME_EAB_HMAC_KEY_FILE": {"issue", "check", "renew", "run"},
	"STRICTACME_CA_CERT":           {"issue", "check", "renew", "run", "account", "revoke", "persist", "query", "register", "import", "delete"}, // extra trust roots
	"STRICTACME_SERVER":            {"issue", "check", "account", "persist", "import"},                                                          // the CA
	"STRICTACME_CERTIFICATE":       {"issue", "check", "renew", "run"},                                                                          // the certificate's name in the store
	"STRICTACME_DOMAIN":            {"issue", "check", "persist", "register"},                                                                   // the domain names to act on
	"STRICTACME_RESOLVER":          {"issue", "check", "persist", "query", "register"},                                                          // recursive resolvers to ask
	"STRICTACME_REQUEST_TIMEOUT":   {"issue", "check", "persist", "query", "register"},                                                          // one DNS question's limit
	"STRICTACME_IPV4_ONLY":         {"issue", "check", "persist", "query", "register"},
	"STRICTACME_DNS":               {"issue", "check", "persist", "import"}, // the DNS provider
	"STRICTACME_CONFIG":            {"check", "run", "persist", "delete"},   // the strictacme.toml config file
	"STRICTACME_FORCE":             {"renew", "run", "issue"},               // order now, due or not
	"STRICTACME_REASON":            {"revoke", "delete"},                    // the revocation reason (RFC 5280 §5.3.1)
	"STRICTACME_CERT_NAME":         {},                                      // only the hook's: see cliflag.Renamed
}

// conflicts lists, per variable, the readings whose meanings differ and
// that sameMeaning does not cover.
func conflicts(readings map[string][]reading) []string {
	var out []string
	for env, rs := range readings {
		meanings := map[string]bool{}
		for _, r := range rs {
			meanings[r.meaning] = true
		}
		if len(meanings) < 2 {
			continue
		}
		allowed, listed := sameMeaning[env]
		ok := listed
		for _, r := range rs {
			cmd, _, isFlag := strings.Cut(r.where, " --")
			if !isFlag || !slices.Contains(allowed, cmd) {
				ok = false
			}
		}
		if ok {
			continue
		}
		var lines []string
		for _, r := range rs {
			lines = append(lines, fmt.Sprintf("%s: %q", r.where, r.meaning))
		}
		sort.Strings(lines)
		out = append(out, env+" means:\n\t"+strings.Join(lines, "\n\t"))
	}
	sort.Strings(out)
	return out
}

// No environment variable means two things: derived from every command's
// flags, the hook variables and the providers' variables, each name has
// one meaning (or is listed in sameMeaning as one meaning in each
// command's words).
func TestNoEnvironmentVariableHasTwoMeanings(t *testing.T) {
	got := conflicts(envReadings(func(c *cobra.Command, f *pflag.Flag) string { n, _, _ := cliflag.EnvOf(c.Name(), f.Name); return n }))
	for _, c := range got {
		t.Error(c)
	}
}

// The test bites: with every variable derived from its flag's name alone,
// as before the renames, it finds the collisions people ran into.
func TestEnvMeaningCheckFindsTheOldCollisions(t *testing.T) {
	got := strings.Join(conflicts(envReadings(func(_ *cobra.Command, f *pflag.Flag) string { return envName(f.Name) })), "\n")
	for _, want := range []string{
		"STRICTACME_SERVER means:",    // issue's CA, register's challenge server
		"STRICTACME_CONFIG means:",    // run's and serve's files
		"STRICTACME_CHECK means:",     // persist's and serve's --check
		"STRICTACME_CERT_NAME means:", // --cert-name and the deploy hook's
	} {
		if !strings.Contains(got, want) {
			t.Errorf("not found: %s\n%s", want, got)
		}
	}
}
