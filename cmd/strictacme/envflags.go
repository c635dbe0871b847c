package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/strictacme/strictacme/internal/exitcode"
)

// envPrefix is prepended to every flag's environment variable:
// --key-type is STRICTACME_KEY_TYPE.
const envPrefix = "STRICTACME_"

// envName returns the environment variable derived from flag name.
func envName(flag string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// renamedEnv are the flags whose derived variable would mean two things:
// one name read by two commands for different settings, or also set for
// hooks. Each gets its own variable; Old is the name it had. ReadOld: the
// old name is still read (with a deprecation warning) where it is
// unambiguous; otherwise a set old name only gets a warning naming the new
// one. TestNoEnvironmentVariableHasTwoMeanings keeps this list complete.
var renamedEnv = []struct {
	Cmd, Flag, Name, Old string
	ReadOld              bool
}{
	// --cert-name: STRICTACME_CERT_NAME is the deploy hook's certificate.
	// Outside a hook (no STRICTACME_HOOK) the old name can mean nothing else.
	{"", "cert-name", "STRICTACME_CERTIFICATE", "STRICTACME_CERT_NAME", true},
	// serve's file and check are not run's and check's (persist's).
	{"serve", "config", "STRICTACME_SERVE_CONFIG", "STRICTACME_CONFIG", false},
	{"serve", "check", "STRICTACME_SERVE_CHECK", "STRICTACME_CHECK", false},
	// register's server is a challenge server, not the CA of issue.
	{"register", "server", "STRICTACME_REGISTER_SERVER", "STRICTACME_SERVER", false},
	// import's --force overwrites stored state, renew's orders early; its
	// --dry-run and --account are its own (a source account, not a CA's).
	{"import", "force", "STRICTACME_IMPORT_FORCE", "", false},
	{"import", "dry-run", "STRICTACME_IMPORT_DRY_RUN", "", false},
	{"import", "account", "STRICTACME_IMPORT_ACCOUNT", "", false},
}

// ownPrefix are the commands whose flags read variables of their own,
// by prefix: a production environment's STRICTACME_PATH or
// STRICTACME_DEPLOY_HOOK must never reach the sandbox. --json only
// changes what is printed and stays STRICTACME_JSON.
var ownPrefix = map[string]string{"sandbox": envPrefix + "SANDBOX_"}

// envOf returns the environment variable of flag f of cmd, and the name
// it had before a rename ("" if none) with whether that is still read.
func envOf(cmd *cobra.Command, f *pflag.Flag) (name, old string, readOld bool) {
	if p, ok := ownPrefix[cmd.Name()]; ok && f.Name != "json" {
		return p + strings.TrimPrefix(envName(f.Name), envPrefix), "", false
	}
	for _, r := range renamedEnv {
		if r.Flag == f.Name && (r.Cmd == "" || r.Cmd == cmd.Name()) {
			return r.Name, r.Old, r.ReadOld
		}
	}
	return envName(f.Name), "", false
}

// insideHook reports whether strictacme runs as (part of) one of its own
// hooks, whose variables are set in its environment.
func insideHook() bool {
	return os.Getenv("STRICTACME_HOOK") != ""
}

// fromEnv records, for the command being run, the flags bindEnv set from
// their environment variable, by flag name; execute starts each command
// line with it empty.
var fromEnv = map[string]string{}

// givenSet records the flags of the command being run that were given,
// on the command line or by their variable.
var givenSet = map[string]bool{}

// givenAs is how the user gave flag name: the environment variable that
// set it, else "--NAME". Messages about a value use it, so they name what
// the user actually set.
func givenAs(name string) string {
	if env, ok := fromEnv[name]; ok {
		return env
	}
	return "--" + name
}

// flagGiven reports whether flag name was given to the command being
// run, on the command line or by its variable.
func flagGiven(name string) bool { return givenSet[name] }

// bindEnv appends "[$STRICTACME_…]" to every flag's usage of cmd so --help
// shows it, and sets flags the user did not give on the command line from
// their environment variables. Repeatable flags take a comma-separated list.
// Call it from PreRunE (bindEnvHook does this for a whole command).
func bindEnv(cmd *cobra.Command) error { return bindEnvOf(cmd, nil) }

// bindEnvOf is bindEnv for the flags of cmd that only accepts (all if
// nil).
func bindEnvOf(cmd *cobra.Command, only func(name string) bool) error {
	var err error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if only != nil && !only(f.Name) {
			return
		}
		if f.Changed {
			givenSet[f.Name] = true
		}
		if err != nil || f.Changed || f.Name == "help" {
			return
		}
		name, old, readOld := envOf(cmd, f)
		v, ok := os.LookupEnv(name)
		if v == "" && old != "" {
			if ov := os.Getenv(old); ov != "" {
				if readOld && !insideHook() {
					logger.Warn(fmt.Sprintf("strictacme: warning: %s is deprecated for --%s; use %s", old, f.Name, name))
					name, v, ok = old, ov, true
				} else if !readOld {
					logger.Warn(fmt.Sprintf("strictacme: warning: %s is not read by %s (it sets another command's --%s); use %s", old, cmd.Name(), f.Name, name))
				}
			}
		}
		if !ok {
			return
		}
		fromEnv[f.Name] = name
		givenSet[f.Name] = true
		if sv, isSlice := f.Value.(pflag.SliceValue); isSlice {
			if e := sv.Replace(splitList(v)); e != nil {
				err = exitcode.With(exitcode.Usage, fmt.Errorf("%s=%q: %v", name, v, e))
			}
			f.Changed = true
			return
		}
		if e := f.Value.Set(v); e != nil {
			err = exitcode.With(exitcode.Usage, fmt.Errorf("%s=%q: %s", name, v, valueHint(f.Value.Type(), e)))
			return
		}
		f.Changed = true
	})
	return err
}

// documentEnv adds the environment variable of each flag of cmd to its usage
// text. Call once after the flags are defined.
func documentEnv(cmd *cobra.Command) {
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Name == "help" || strings.Contains(f.Usage, "[$") {
			return
		}
		name, _, _ := envOf(cmd, f)
		f.Usage += " [$" + name + "]"
	})
}

// withEnv documents and binds the environment variables of cmd's flags; it
// chains any PreRunE already set.
func withEnv(cmd *cobra.Command) *cobra.Command {
	documentEnv(cmd)
	prev := cmd.PreRunE
	cmd.PreRunE = func(c *cobra.Command, args []string) error {
		if err := bindEnv(c); err != nil {
			return err
		}
		if prev != nil {
			return prev(c, args)
		}
		return nil
	}
	return cmd
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// valueHint says what a value of a flag's type looks like, instead of the
// parser's own words (strconv.ParseBool: ..., time: invalid duration ...).
func valueHint(typ string, err error) string {
	switch typ {
	case "duration":
		return "give a duration such as 90s, 10m or 1h30m"
	case "bool":
		return "give true or false"
	case "int", "uint", "int64", "uint64":
		return "give a whole number"
	}
	return err.Error()
}
