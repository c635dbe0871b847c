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

// certificateArg is the argument rule of commands that act on one stored
// certificate: cobra's "accepts 1 arg(s), received 0" does not say which.
func certificateArg(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return usage("give one stored certificate's name: strictacme %s NAME (strictacme list shows them); got %d arguments", cmd.Name(), len(args))
	}
	return nil
}
