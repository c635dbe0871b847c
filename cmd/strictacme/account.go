package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/strictacme/strictacme/internal/issue"
	"github.com/strictacme/strictacme/internal/jsonout"
	"github.com/strictacme/strictacme/internal/migrate"
	"github.com/strictacme/strictacme/internal/plan"
	"github.com/strictacme/strictacme/internal/store"
)

func init() { addCommand(newAccountCmd) }

type accountFlags struct {
	path       string
	server     string
	caCerts    []string
	email      string
	rollKey    bool
	deactivate bool
	yes        bool
	json       bool
	lockWait   bool
}

func newAccountCmd() *cobra.Command {
	var f accountFlags
	cmd := &cobra.Command{
		Use:   "account",
		Short: "Show or change the stored ACME account of a CA",
		Long: `Show the ACME account stored for --server as the CA knows it (RFC 8555
§7.3), or change it: --email replaces the contact (§7.3.2), --roll-key
replaces the account key with a new P-256 key (§7.3.5) and stores it,
--deactivate deactivates the account for good (§7.3.6; needs --yes).`,
		Example: `  strictacme account --server letsencrypt
  strictacme account --server letsencrypt --email new-ops@example.com --roll-key`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runAccount(cmd.Context(), &f, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.path, "path", defaultPath(), "state directory: accounts, certificates, journal")
	fl.StringVar(&f.server, "server", plan.DefaultServer, serverUsage)
	fl.StringArrayVar(&f.caCerts, "ca-cert", nil, "PEM file of extra trust roots for the CA (repeatable)")
	fl.StringVarP(&f.email, "email", "m", "", "replace the account's contact with this e-mail address")
	fl.BoolVar(&f.rollKey, "roll-key", false, "replace the account key with a new one")
	fl.BoolVar(&f.deactivate, "deactivate", false, "deactivate the account at the CA (irreversible; needs --yes)")
	fl.BoolVar(&f.yes, "yes", false, "confirm --deactivate")
	fl.BoolVar(&f.json, "json", false, "print the account as JSON")
	fl.BoolVar(&f.lockWait, "wait", false, "wait for another run on the same --path instead of failing")
	return withEnv(cmd)
}

func runAccount(ctx context.Context, f *accountFlags, stdout, stderr io.Writer) error {
	if f.deactivate && !f.yes {
		return usage("--deactivate cannot be undone: the account can never order again; add --yes")
	}
	if f.deactivate && (f.rollKey || f.email != "") {
		return usage("--deactivate goes alone; leave out --email and --roll-key")
	}
	view, err := plan.ManageAccount(ctx, plan.Reach{Server: f.server, CACerts: f.caCerts}, func(ctx context.Context) (*store.Store, func(), error) {
		return migrate.OpenExistingLocked(ctx, f.path, f.lockWait)
	}, issue.AccountChange{Email: f.email, RollKey: f.rollKey, Deactivate: f.deactivate})
	if err != nil {
		return flagError(err)
	}
	if f.json {
		return jsonout.Write(stdout, view)
	}
	view.WriteText(stdout)
	if len(view.Changed) > 0 {
		fmt.Fprintf(stderr, "changed: %s\n", strings.Join(view.Changed, ", "))
	}
	if f.deactivate {
		fmt.Fprintln(stderr, "the account is deactivated; remove its folder under "+f.path+"/accounts before issuing again, so a new account is created")
	}
	return nil
}
