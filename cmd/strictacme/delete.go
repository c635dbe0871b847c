package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/strictacme/strictacme/internal/config"
	"github.com/strictacme/strictacme/internal/issue"
	"github.com/strictacme/strictacme/internal/job"
	"github.com/strictacme/strictacme/internal/migrate"
)

func init() { addCommand(newDeleteCmd) }

type deleteFlags struct {
	path, reason, config string
	revoke, lockWait     bool
	caCerts              []string
}

func newDeleteCmd() *cobra.Command {
	var f deleteFlags
	cmd := &cobra.Command{
		Use:   "delete NAME",
		Short: "Stop managing a stored certificate",
		Long: `Remove the stored certificate NAME from --path: every version, its key,
its metadata and its renewal state, so that renew no longer renews it.
Challenge records the journal still lists for its DNS provider are removed
first; if that fails, nothing is deleted. With --revoke the certificate is
revoked at its CA first (as strictacme revoke does); if that fails, nothing
is deleted. Files written by install outputs and deploy hooks stay.`,
		Example: `  strictacme delete old.example.com
  strictacme delete old.example.com --revoke --reason cessationOfOperation`,
		Args: certificateArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			code, ok := issue.RevocationReasons[f.reason]
			if !ok {
				return usage("--reason %q: use one of %s", f.reason, issue.ReasonNames())
			}
			if cmd.Flags().Changed("reason") && !f.revoke {
				return usage("--reason applies only with --revoke; add --revoke or drop --reason")
			}
			logf := func(s string) { fmt.Fprintln(cmd.ErrOrStderr(), s) }
			if err := runDelete(cmd.Context(), f, args[0], code, logf); err != nil {
				return err
			}
			for _, w := range config.StillLists(f.config, args[0], cmd.Flags().Changed("config")) {
				logf(w)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.path, "path", defaultPath(), "state directory: accounts, certificates, journal")
	fl.BoolVar(&f.revoke, "revoke", false, "revoke the certificate at its CA before deleting it")
	fl.StringVar(&f.reason, "reason", "unspecified", "revocation reason with --revoke: "+issue.ReasonNames())
	fl.StringArrayVar(&f.caCerts, "ca-cert", nil, "PEM file of extra trust roots for the CA and the DNS provider (repeatable)")
	fl.StringVar(&f.config, "config", "strictacme.toml", "configuration file to look for the certificate in, to warn that run would issue it again")
	fl.BoolVar(&f.lockWait, "wait", false, "wait for another run on the same --path instead of failing")
	return withEnv(cmd)
}

func runDelete(ctx context.Context, f deleteFlags, name string, code int, logf func(string)) error {
	st, unlock, err := migrate.OpenExistingLocked(ctx, f.path, f.lockWait)
	if err != nil {
		return err
	}
	defer unlock()
	d := job.Deletion{CACerts: f.caCerts, Log: logf}
	if f.revoke {
		r := revocation(code, f.reason, f.caCerts, logf)
		d.Revoke = &r
	}
	return flagError(d.Locked(ctx, st, name))
}
