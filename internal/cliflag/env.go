// Package cliflag is the command line's vocabulary: the environment
// variable each flag of each command reads, setting flags from them, and
// a settings problem (plan.Problem, in config words) said in the words the
// user gave: the flag, or the variable that set it.
//
// The names are derived from the flags themselves: --key-type is read
// from STRICTACME_KEY_TYPE, and the settings key key_type is the flag
// --key-type, except where a table below says otherwise.
package cliflag

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/strictacme/strictacme/internal/exitcode"
)

// Prefix is prepended to every flag's environment variable: --key-type is
// STRICTACME_KEY_TYPE.
const Prefix = "STRICTACME_"

// EnvName returns the environment variable derived from flag name.
func EnvName(flag string) string {
	return Prefix + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// Rename is a flag whose derived variable would mean two things: one name
// read by two commands for different settings, or also set for hooks. It
// gets its own variable Name; Old is the name it had. ReadOld: the old
// name is still read (with a deprecation warning) where it is
// unambiguous; otherwise a set old name only gets a warning naming the
// new one. Cmd "" is every command.
type Rename struct {
	Cmd, Flag, Name, Old string
	ReadOld              bool
}

// Renamed are the renamed flags' variables. The command's test that no
// variable means two things keeps this list complete.
var Renamed = []Rename{
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
var ownPrefix = map[string]string{"sandbox": Prefix + "SANDBOX_"}

// EnvOf returns the environment variable of flag of command cmd, and the
// name it had before a rename ("" if none) with whether that is still
// read.
func EnvOf(cmd, flag string) (name, old string, readOld bool) {
	if p, ok := ownPrefix[cmd]; ok && flag != "json" {
		return p + strings.TrimPrefix(EnvName(flag), Prefix), "", false
	}
	for _, r := range Renamed {
		if r.Flag == flag && (r.Cmd == "" || r.Cmd == cmd) {
			return r.Name, r.Old, r.ReadOld
		}
	}
	return EnvName(flag), "", false
}

// insideHook reports whether strictacme runs as (part of) one of its own
// hooks, whose variables are set in its environment.
func insideHook() bool { return os.Getenv("STRICTACME_HOOK") != "" }

// Document adds the environment variable of each flag of command cmd to
// its usage text, once.
func Document(fs *pflag.FlagSet, cmd string) {
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Name == "help" || strings.Contains(f.Usage, "[$") {
			return
		}
		name, _, _ := EnvOf(cmd, f.Name)
		f.Usage += " [$" + name + "]"
	})
}

// Given is how the user gave the flags of the command being run: on the
// command line, or by which variable. The zero value is not usable; New
// makes one per command line.
type Given struct {
	fromEnv map[string]string // flag name → variable that set it
	set     map[string]bool   // flags given either way
	flags   *pflag.FlagSet    // the command's flags, once bound
}

// New returns an empty Given.
func New() *Given { return &Given{fromEnv: map[string]string{}, set: map[string]bool{}} }

// As is how the user gave flag name: the environment variable that set
// it, else "--NAME". Messages about a value use it, so they name what the
// user actually set.
func (g *Given) As(name string) string {
	if env, ok := g.fromEnv[name]; ok {
		return env
	}
	return "--" + name
}

// Has reports whether flag name was given, on the command line or by its
// variable.
func (g *Given) Has(name string) bool { return g.set[name] }

// Bind sets the flags of fs (of command cmd) that only accepts (all if
// nil) and that were not given on the command line from their environment
// variables, and records how each was given. Repeatable flags take a
// comma-separated list. warn receives the deprecation warnings of renamed
// variables. A bad value is a usage error naming the variable.
func (g *Given) Bind(fs *pflag.FlagSet, cmd string, only func(name string) bool, warn func(string)) error {
	g.flags = fs
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if only != nil && !only(f.Name) {
			return
		}
		if f.Changed {
			g.set[f.Name] = true
		}
		if err != nil || f.Changed || f.Name == "help" {
			return
		}
		name, old, readOld := EnvOf(cmd, f.Name)
		v, ok := os.LookupEnv(name)
		if v == "" && old != "" {
			if ov := os.Getenv(old); ov != "" {
				if readOld && !insideHook() {
					warn(fmt.Sprintf("strictacme: warning: %s is deprecated for --%s; use %s", old, f.Name, name))
					name, v, ok = old, ov, true
				} else if !readOld {
					warn(fmt.Sprintf("strictacme: warning: %s is not read by %s (it sets another command's --%s); use %s", old, cmd, f.Name, name))
				}
			}
		}
		if !ok {
			return
		}
		g.fromEnv[f.Name] = name
		g.set[f.Name] = true
		if sv, isSlice := f.Value.(pflag.SliceValue); isSlice {
			if e := sv.Replace(SplitList(v)); e != nil {
				err = exitcode.With(exitcode.Usage, fmt.Errorf("%s=%q: %v", name, v, e))
			}
			f.Changed = true
			return
		}
		if e := f.Value.Set(v); e != nil {
			err = exitcode.With(exitcode.Usage, fmt.Errorf("%s=%q: %s", name, v, ValueHint(f.Value.Type(), e)))
			return
		}
		f.Changed = true
	})
	return err
}

// SplitList splits a comma-separated variable into its non-empty items.
func SplitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// ValueHint says what a value of a flag's type looks like, instead of the
// parser's own words (strconv.ParseBool: ..., time: invalid duration ...).
func ValueHint(typ string, err error) string {
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

// Default sets flag of fs to v, a value from a config file (string, bool
// or []string), unless the flag was given or v is empty: the command line
// and the environment win over the file, the file over the flag's
// default. The flag still counts as not given.
func Default(fs *pflag.FlagSet, flag string, v any) error {
	f := fs.Lookup(flag)
	if f == nil || f.Changed {
		return nil
	}
	var err error
	switch v := v.(type) {
	case string:
		if v != "" {
			err = f.Value.Set(v)
		}
	case bool:
		if v {
			err = f.Value.Set("true")
		}
	case []string:
		if len(v) > 0 {
			if sv, ok := f.Value.(pflag.SliceValue); ok {
				err = sv.Replace(v)
			} else {
				err = fmt.Errorf("--%s takes one value", flag)
			}
		}
	default:
		err = fmt.Errorf("--%s: no config value of type %T", flag, v)
	}
	return err
}

// Defaults sets, from a config file's settings by key (as plan.Problem
// names them), each flag of the command being run that sets one (FlagOf),
// as Default does: what the user gave wins.
func (g *Given) Defaults(settings map[string]any) error {
	for _, key := range slices.Sorted(maps.Keys(settings)) {
		if name, ok := g.FlagOf(key); ok {
			if err := Default(g.flags, name, settings[key]); err != nil {
				return err
			}
		}
	}
	return nil
}

// JSONAsked reports whether --json was asked for: by the flag of fs once
// parsed (fs may be nil), else on the command line args (a line that
// failed to parse), else by its variable.
func JSONAsked(fs *pflag.FlagSet, args []string) bool {
	if fs != nil {
		if f := fs.Lookup("json"); f != nil && f.Changed {
			return f.Value.String() == "true"
		}
	}
	if slices.Contains(args, "--json") || slices.Contains(args, "--json=true") {
		return true
	}
	v, _ := strconv.ParseBool(os.Getenv(EnvName("json")))
	return v
}
