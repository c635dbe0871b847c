package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/strictacme/strictacme/internal/issue"
	"github.com/strictacme/strictacme/internal/job"
	"github.com/strictacme/strictacme/internal/migrate"
	"github.com/strictacme/strictacme/internal/sandbox"
)

func init() { addCommand(newRevokeCmd) }

func newRevokeCmd() *cobra.Command {
	var path, reason string
	var caCerts []string
	var lockWait bool
	cmd := &cobra.Command{
		Use:   "revoke NAME",
		Short: "Revoke a stored certificate at its CA",
		Long: `Revoke the current version of the stored certificate NAME at the CA that
issued it (RFC 8555 §7.6). The request is signed with the ACME account key,
or with the certificate's own key for --reason keyCompromise (what CAs require
to accept a key-compromise report) or when the issuing account is not stored.

The certificate stays on disk and the next renew replaces it at once.`,
		Example: `  strictacme revoke example.com --reason superseded`,
		Args:    certificateArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			code, ok := issue.RevocationReasons[reason]
			if !ok {
				return usage("--reason %q: use one of %s", reason, issue.ReasonNames())
			}
			return runRevoke(cmd.Context(), path, args[0], code, reason, caCerts, lockWait, func(s string) { fmt.Fprintln(cmd.ErrOrStderr(), s) })
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&path, "path", defaultPath(), "state directory: accounts, certificates, journal")
	fl.StringVar(&reason, "reason", "unspecified", "revocation reason: "+issue.ReasonNames())
	fl.StringArrayVar(&caCerts, "ca-cert", nil, "PEM file of extra trust roots for the CA (repeatable)")
	fl.BoolVar(&lockWait, "wait", false, "wait for another run on the same --path instead of failing")
	return withEnv(cmd)
}

func runRevoke(ctx context.Context, path, name string, code int, reason string, caCerts []string, wait bool, logf func(string)) error {
	st, unlock, err := migrate.OpenExistingLocked(ctx, path, wait)
	if err != nil {
		return err
	}
	defer unlock()
	return flagError(revocation(code, reason, caCerts, logf).Named(ctx, st, name))
}

// revocation is job.Revocation with the sandbox's certificates refused:
// their CA existed only while the sandbox ran.
func revocation(code int, reason string, caCerts []string, logf func(string)) job.Revocation {
	return job.Revocation{Code: code, Reason: reason, CACerts: caCerts, Now: now, Log: logf, Refuse: sandbox.RefuseRevoke}
}
