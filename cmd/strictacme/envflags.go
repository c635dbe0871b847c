package main

import (
	"github.com/spf13/cobra"

	"github.com/strictacme/strictacme/internal/cliflag"
)

// given is how the flags of the command being run were given (on the
// command line or by which variable); execute starts each command line
// with a new one.
var given = cliflag.New()

// envName returns the environment variable derived from flag name.
func envName(flag string) string { return cliflag.EnvName(flag) }

// givenAs is how the user gave flag name: its variable or --NAME.
func givenAs(name string) string { return given.As(name) }

// flagError says a settings problem in the words the user gave it.
func flagError(err error) error { return given.Explain(err) }

// withEnv documents the environment variable of each of cmd's flags in
// its help and sets the flags not given on the command line from them
// before the command runs; it chains any PreRunE already set.
func withEnv(cmd *cobra.Command) *cobra.Command {
	cliflag.Document(cmd.Flags(), cmd.Name())
	prev := cmd.PreRunE
	cmd.PreRunE = func(c *cobra.Command, args []string) error {
		if err := given.Bind(c.Flags(), c.Name(), nil, warn); err != nil {
			return err
		}
		if prev != nil {
			return prev(c, args)
		}
		return nil
	}
	return cmd
}
