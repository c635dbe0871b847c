package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/strictacme/strictacme/internal/job"
	"github.com/strictacme/strictacme/internal/jsonout"
	"github.com/strictacme/strictacme/internal/sandbox"
)

func init() { addCommand(newSandboxCmd) }

func newSandboxCmd() *cobra.Command {
	var f issueFlags
	var force bool
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "Issue a real certificate offline, against a local CA and DNS built in",
		Long: `Issue a certificate end to end on this machine, with no network.

sandbox starts, on loopback only: Pebble (Let's Encrypt's reference ACME
server) as the CA, an authoritative DNS server that Pebble validates against,
a caching DNS-over-HTTPS resolver, and a fake DNS provider API. It then runs
exactly the code of "strictacme issue": account, order, one provider write per
zone, DoH propagation check, validation, finalize, store, clean-up.

The sandbox serves the zones example.com, example.net and bücher.example
(xn--bcher-kva.example): names must be in them. With --csr and no -d the
names are the CSR's; with neither, example.com, *.example.com and
www.example.com. The certificate chains to the
sandbox CA's root, written next to it as sandbox-root.pem, so "openssl
verify" can check it. It cannot be renewed: the CA is gone when sandbox ends.
As with issue, a certificate of the same name, names and key type already
stored in --path and not due is kept unless --force. A --path holding
certificates or accounts of another CA is refused: the sandbox would replace
a real certificate with one that never renews. The account at the sandbox CA
is removed after each run, since that CA is gone when sandbox ends.

Its flags are read from STRICTACME_SANDBOX_* variables (--path from
STRICTACME_SANDBOX_PATH), never from those of the other commands, so that a
shell or service environment set up for production can never make it write
into a real state directory, install files or run a real deploy hook.`,
		Example: `  strictacme sandbox
  strictacme sandbox -d example.com -d '*.example.com' -d bücher.example --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(f.domains) == 0 && f.csr == "" {
				f.domains = sandbox.DefaultNames
			}
			s := &sandbox.Session{Names: f.domains, CSR: f.csr, Profile: f.profile, Path: f.path, Force: force, Now: now, Log: cmd.ErrOrStderr(),
				Plan: func(t sandbox.Target) (*job.Job, error) { f.pointAt(t); return f.plan() }}
			if err := s.Check(); err != nil {
				return flagError(err) // refused flags start nothing, write nothing
			}
			out, err := s.Run(cmd.Context())
			if out == nil {
				return err
			}
			if f.json { // issue's document with the root it chains to
				doc := struct {
					*job.Result
					RootCA string `json:"root_ca,omitempty"`
				}{Result: out}
				if err == nil {
					doc.RootCA = s.RootFile
				}
				_ = jsonout.Write(cmd.OutOrStdout(), doc)
				return err
			}
			_ = printResult(out, false, cmd.OutOrStdout(), cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			dir := filepath.Join(s.Job.Path, "certificates", s.Job.Settings.Name)
			fmt.Fprintf(cmd.ErrOrStderr(), "sandbox: check it with: openssl verify -CAfile %s -untrusted %s %s\n",
				s.RootFile, filepath.Join(dir, "chain.pem"), filepath.Join(dir, "cert.pem"))
			return nil
		},
	}
	f.register(cmd, false)
	cmd.Flags().BoolVar(&force, "force", false, "order even when a certificate of this name, names and key type is stored and not due")
	cmd.Flags().Lookup("path").DefValue = "./sandbox"
	_ = cmd.Flags().Set("path", "sandbox")
	cmd.Flags().Lookup("path").Changed = false
	return withEnv(cmd)
}

// pointAt sets the flags that say where the certificate is ordered to t,
// the sandbox's.
func (f *issueFlags) pointAt(t sandbox.Target) {
	f.server, f.caCerts, f.resolvers, f.propagation, f.reqTimeout, f.dns = t.Server, t.CACerts, t.Resolvers, t.Propagation, t.RequestTimeout, t.Provider
	f.acceptTOS = true
	if f.profile == "" {
		f.profile = t.Profile
	}
}
