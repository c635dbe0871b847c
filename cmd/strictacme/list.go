package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/jsonout"
	"github.com/strictacme/strictacme/internal/migrate"
	"github.com/strictacme/strictacme/internal/plan"
	"github.com/strictacme/strictacme/internal/renewal"
	"github.com/strictacme/strictacme/internal/sandbox"
	"github.com/strictacme/strictacme/internal/store"
)

func init() { addCommand(newListCmd) }

func newListCmd() *cobra.Command {
	var path string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "Show the stored certificates and when each is renewed",
		Long: `Show the stored certificates: names, expiry, days left, the CA's renewal
window (ARI) as last fetched by renew, the profile, the CA and the result of
the last renewal attempt. Nothing is sent to the CA.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if migrate.Hint(hintOut(cmd, asJSON), path) {
				if asJSON { // nothing of strictacme's stored there
					return jsonout.Write(cmd.OutOrStdout(), listDoc{})
				}
				return nil
			}
			entries, err := listCerts(path, now())
			if err != nil {
				return err
			}
			if asJSON {
				return jsonout.Write(cmd.OutOrStdout(), listDoc{Certificates: entries})
			}
			renewal.WriteTable(cmd.OutOrStdout(), entries, plan.CAName)
			return nil
		},
	}
	cmd.Flags().StringVar(&path, "path", defaultPath(), "state directory: accounts, certificates, journal")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object with the list of certificates instead of a table")
	return withEnv(cmd)
}

// listDoc is list's --json document.
type listDoc struct {
	Certificates []renewal.Entry `json:"certificates"`
}

// listCerts lists the certificates stored in path (renewal.List).
func listCerts(path string, now time.Time) ([]renewal.Entry, error) {
	st, err := store.OpenExisting(path)
	if err != nil {
		return nil, exitcode.With(exitcode.Usage, err)
	}
	return renewal.List(st, now, sandbox.Skip)
}
