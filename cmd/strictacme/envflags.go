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

// envName returns the environment variable that sets flag name.
func envName(flag string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// bindEnv appends "[$STRICTACME_…]" to every flag's usage of cmd so --help
// shows it, and sets flags the user did not give on the command line from
// their environment variables. Repeatable flags take a comma-separated list.
// Call it from PreRunE (bindEnvHook does this for a whole command).
func bindEnv(cmd *cobra.Command) error {
	var err error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed || f.Name == "help" {
			return
		}
		v, ok := os.LookupEnv(envName(f.Name))
		if !ok {
			return
		}
		if sv, isSlice := f.Value.(pflag.SliceValue); isSlice {
			if e := sv.Replace(splitList(v)); e != nil {
				err = exitcode.With(exitcode.Usage, fmt.Errorf("%s=%q: %v", envName(f.Name), v, e))
			}
			f.Changed = true
			return
		}
		if e := f.Value.Set(v); e != nil {
			err = exitcode.With(exitcode.Usage, fmt.Errorf("%s=%q: %v", envName(f.Name), v, e))
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
		f.Usage += " [$" + envName(f.Name) + "]"
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
