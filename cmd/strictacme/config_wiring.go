package main

import (
	"io"
	"os"

	"github.com/spf13/cobra"
)

// logOut receives the delegation lines of issue (run and check pass their
// own writer).
var logOut io.Writer = os.Stderr

// registerDelegation adds the delegation and propagation-fallback flags.
func (f *issueFlags) registerDelegation(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringArrayVar(&f.aliases, "challenge-alias", nil, "write the TXT for DOMAIN at _acme-challenge.ALIAS: DOMAIN=ALIAS, or ALIAS alone for every domain (no DNS look-up; repeatable)")
	fl.StringArrayVar(&f.targets, "challenge-target", nil, "write the TXT for DOMAIN at exactly FQDN: DOMAIN=FQDN (repeatable)")
	fl.BoolVar(&f.followCNAME, "follow-cname", false, "also ask --resolver for the CNAME at _acme-challenge.NAME where the provider cannot read records (may cache NXDOMAIN for the name; wildcard CNAMEs and unserved zones are refused)")
	fl.BoolVar(&f.sequential, "sequential", false, "validate names that share a TXT name (an apex and its wildcard) one after the other, for providers or scripts that replace the TXT value on each write (config: single_value; exec: EXEC_SEQUENTIAL)")
	fl.DurationVar(&f.propTimeout, "propagation-timeout", 0, "give up the propagation check after this long (0 = only --timeout bounds it)")
	fl.StringVar(&f.fallback, "propagation-fallback", "", "strategy to use when --propagation fails, e.g. wait or relay (a resolver holding a negative answer longer than the time left); default: provider when the provider can read records back")
}
