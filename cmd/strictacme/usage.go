package main

import (
	"strings"

	"github.com/strictacme/strictacme/internal/plan"
)

// serverUsage is the help of every --server that names a CA: the short
// names plan.DirectoryURL accepts, from its table.
var serverUsage = "CA: " + strings.Join(plan.CANames(), ", ") + ", or a directory URL"

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
