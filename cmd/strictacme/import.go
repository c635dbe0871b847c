package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/strictacme/strictacme/internal/migrate"
	"github.com/strictacme/strictacme/internal/plan"
	"github.com/strictacme/strictacme/internal/store"
)

func init() { addCommand(newImportCmd) }

func newImportCmd() *cobra.Command {
	var (
		path, server, account, dns, propagation string
		caCerts                                 []string
		dryRun, force, wait                     bool
	)
	cmd := &cobra.Command{
		Use:   "import lego|certbot [PATH]",
		Short: "Adopt the account, certificates and renewal settings of lego or certbot",
		Long: `Adopt another client's state: its ACME account (lego's PEM key, certbot's
JWK) for the CA it was registered with, each certificate with its key as the
current certificate, and the renewal settings the client recorded (names, key
type, CA, hooks; lego v5's DNS provider and its plain settings; certbot's DNS
plugin). The next renewal names the adopted certificate in the order's ARI
"replaces" field. One line per certificate says what was mapped and what was
not carried and what to set instead (docs/migrating.md).

PATH is lego's --path (the .lego folder) or certbot's --config-dir (default
/etc/letsencrypt). Nothing is written when anything cannot be read, and an
already stored certificate or another account for the same CA is kept unless
--force: a source that cannot be read, or a certificate already stored,
exits 2; a failed write keeps nothing and exits 1; a damaged stored
account of --path exits 9.`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			tool := args[0]
			src := ""
			if len(args) > 1 {
				src = args[1]
			} else if tool == "certbot" {
				src = migrate.DefaultCertbotPath
			} else {
				return usage("give the .lego directory: strictacme import lego PATH")
			}
			p, err := migrate.Read(tool, src, migrate.Options{Server: server, Account: account, DNS: dns, Propagation: propagation, CACerts: caCerts, Now: now()})
			if err != nil {
				return flagError(err)
			}
			out := cmd.OutOrStdout()
			p.WriteMapping(out, dryRun)
			if dryRun {
				return nil
			}
			// Refuse before the lock file is touched; Apply checks again
			// under the lock.
			if err := p.Check(&store.Store{Root: path}, force); err != nil {
				return err
			}
			st, unlock, err := store.OpenLocked(cmd.Context(), path, wait)
			if err != nil {
				return err
			}
			defer unlock()
			if err := p.Apply(st, force); err != nil {
				return err
			}
			fmt.Fprintf(out, "imported %d account(s) and %d certificate(s) into %s; renew them with: strictacme renew --path %s\n", len(p.Accounts), len(p.Certificates), path, path)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&path, "path", defaultPath(), "state directory: accounts, certificates, journal")
	fl.BoolVar(&dryRun, "dry-run", false, "print the mapping and write nothing")
	fl.BoolVar(&force, "force", false, "overwrite stored certificates of the same name and another account for the same CA")
	fl.BoolVar(&wait, "wait", false, "wait for another run on the same --path instead of failing")
	fl.StringVar(&server, "server", "", "CA of a lego v4 account whose CA is not a preset (lego records only its host): "+caChoices)
	fl.StringVar(&account, "account", "", "the account to adopt where the source has several for one CA: lego's account ID, certbot's account hash")
	fl.StringVar(&dns, "dns", "", "DNS provider of certificates whose source records none: "+strings.Join(plan.ProviderNames(), ", "))
	fl.StringVar(&propagation, "propagation", "", "how to know the CA can see the records: "+strings.Join(plan.StrategyNames(), ", "))
	fl.StringArrayVar(&caCerts, "ca-cert", nil, "PEM file of extra trust roots for the CA and DoH servers, stored with every imported certificate (repeatable)")
	return withEnv(cmd)
}

// hintOut is where list says its path is another client's tree: stdout,
// or stderr when stdout is JSON.
func hintOut(cmd *cobra.Command, asJSON bool) io.Writer {
	if asJSON {
		return cmd.ErrOrStderr()
	}
	return cmd.OutOrStdout()
}
