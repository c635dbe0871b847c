package main

import (
	"github.com/spf13/cobra"

	"github.com/strictacme/strictacme/internal/jsonout"
	"github.com/strictacme/strictacme/internal/preflight"
)

func init() { addCommand(newCheckCmd) }

func newCheckCmd() *cobra.Command {
	var (
		f    issueFlags
		file string
	)
	cmd := &cobra.Command{
		Use:   "check [--config FILE | -d NAME --dns PROVIDER ...]",
		Short: "Check that issuance would work from here, without issuing",
		Long: `Check that issuance would work from here, without issuing anything.

For each certificate of --config FILE, or the one given with the same flags
as issue, print one row per check with ok, warn or FAIL and a one-line detail
that says how to fix a failure: the CA directory (and its caaIdentities and
profiles), the account in --path, each provider's credentials and zone (read,
never written), where each TXT record would be written after delegation,
which resolvers answer from here, port 53 (probed only when allowed), whether
the propagation strategy can work, and CAA records that would forbid the CA
(RFC 8659). No challenge name is ever asked about (RFC 2308 negative caching).

The exit code is 0 when every check passed (warnings allowed), else that of
the first failure. See docs/check.md.`,
		Example: `  EXEC_PATH=./dns-hook.sh strictacme check --server letsencrypt-staging --dns exec -d example.com
  strictacme check --config strictacme.toml --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f.waitSet = cmd.Flags().Changed("propagation-wait")
			f.provGiven = providerFlagsGiven(cmd.Flags(), f.provValues)
			f.lookup = providerLookup(f.provGiven)
			targets, err := checkTargets(cmd, &f, file)
			if err != nil {
				return err
			}
			out, err := preflight.RunAll(cmd.Context(), targets, authoritativePort)
			if f.json {
				_ = jsonout.Write(cmd.OutOrStdout(), out)
			} else {
				out.WriteText(cmd.OutOrStdout())
			}
			return err
		},
	}
	f.register(cmd, true)
	fl := cmd.Flags()
	fl.StringVar(&file, "config", "", "check every certificate of this configuration file (TOML, see docs/config.md) instead of -d")
	return withEnv(cmd)
}

// authoritativePort is the port of the authoritative servers for the port
// 53 probe; "" means 53 (tests use another).
var authoritativePort string

// checkTargets builds one preflight target per certificate, through the
// same plan code as issue (flags) and run (config file).
func checkTargets(cmd *cobra.Command, f *issueFlags, file string) ([]preflight.Target, error) {
	if file == "" {
		j, err := f.plan()
		if err != nil {
			return nil, err
		}
		return []preflight.Target{preflight.TargetOf(j.Plan, j.Path)}, nil
	}
	if len(f.domains) > 0 {
		return nil, usage("check: give either --config or -d, not both")
	}
	cf, err := loadConfig(file)
	if err != nil {
		return nil, err
	}
	logOut = cmd.ErrOrStderr()
	return preflight.ConfigTargets(cf, cf.PathOr(f.path, cmd.Flags().Changed("path")), f.allowPort53, providerLogger())
}
