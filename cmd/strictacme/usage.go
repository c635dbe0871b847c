package main

import (
	"strings"

	"github.com/spf13/cobra"
	"github.com/strictacme/strictacme/internal/plan"
)

// caChoices is what a CA setting takes: the short names plan.DirectoryURL
// accepts, from its table, or a directory URL.
var caChoices = strings.Join(plan.CANames(), ", ") + ", or a directory URL"

// serverUsage is the help of every --server that names a CA.
var serverUsage = "CA: " + caChoices

// isUsageError recognises cobra's own argument errors (unknown command, wrong
// number of arguments), which it returns as plain errors.
func isUsageError(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand", "accepts ", "requires at least", "requires at most", "invalid argument", "flag needs an argument", "required flag"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

// certificateArg is the argument rule of commands that act on one stored
// certificate: cobra's "accepts 1 arg(s), received 0" does not say which.
func certificateArg(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return usage("give one stored certificate's name: strictacme %s NAME (strictacme list shows them); got %d arguments", cmd.Name(), len(args))
	}
	return nil
}
