package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/strictacme/strictacme/internal/job"
	"github.com/strictacme/strictacme/internal/jsonout"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/names"

	"github.com/spf13/cobra"

	"github.com/strictacme/strictacme/internal/testworld"
)

func init() { addCommand(newSandboxCmd) }

func newSandboxCmd() *cobra.Command {
	var f issueFlags
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
(xn--bcher-kva.example): names must be in them. The certificate chains to the
sandbox CA's root, written next to it as sandbox-root.pem, so "openssl
verify" can check it. It cannot be renewed: the CA is gone when sandbox ends.

sandbox ignores STRICTACME_* environment variables, so that a shell or
service environment set up for production can never make it write into a
real state directory or run a real deploy hook.`,
		Example: `  strictacme sandbox
  strictacme sandbox -d example.com -d '*.example.com' -d bücher.example --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(f.domains) == 0 {
				f.domains = []string{"example.com", "*.example.com", "www.example.com"}
			}
			ids, err := names.ParseAll(f.domains)
			if err != nil {
				return exitcode.With(exitcode.Usage, err) // bad input: refuse before starting anything
			}
			if err := inSandboxZones(ids); err != nil {
				return err
			}
			logw := cmd.ErrOrStderr()
			fmt.Fprintln(logw, "sandbox: starting Pebble CA, authoritative DNS, DoH resolver and provider API on loopback")
			w, err := testworld.New(testworld.Options{})
			if err != nil {
				return fmt.Errorf("starting the sandbox: %w", err)
			}
			defer w.Close()
			fmt.Fprintf(logw, "sandbox: CA %s, DoH %s, provider API %s\n", w.DirectoryURL, w.DoHURL, w.APIURL)

			// The same flags a user gives to issue, pointed at the world.
			f.server = w.DirectoryURL
			f.caCerts = []string{w.TLSRootFile}
			f.resolvers = []string{w.DoHURL}
			f.propagation = "doh"
			f.reqTimeout = 5 * time.Second
			f.dns = sandboxProvider
			f.acceptTOS = true
			if f.profile == "" {
				// Pebble picks a random profile for orders without one
				// (sometimes 6-day certificates); the sandbox shows the
				// ordinary 90-day one unless asked otherwise.
				f.profile = testworld.ProfileDefault
			}
			sandboxWorldProvider = w.Provider()
			p, err := f.plan()
			if err != nil {
				return err
			}
			p.PollEvery = 200 * time.Millisecond // the sandbox CA answers at once
			// --json: the document gets the root's path, known only once
			// the root is written.
			var doc bytes.Buffer
			stdout := cmd.OutOrStdout()
			if f.json {
				stdout = &doc
			}
			err = runJob(cmd.Context(), p, f.json, stdout, logw)
			// Written only once the certificate is stored, so a run that
			// failed (or lost the lock to another one) leaves the root that
			// matches the stored certificate.
			rootFile := filepath.Join(p.Path, "sandbox-root.pem")
			if err == nil {
				err = os.WriteFile(rootFile, w.CA.RootPEM(), 0o644)
			}
			if f.json {
				return sandboxJSON(cmd.OutOrStdout(), doc.Bytes(), rootFile, err)
			}
			if err != nil {
				return err
			}
			{
				fmt.Fprintf(logw, "sandbox: check it with: openssl verify -CAfile %s -untrusted %s %s\n",
					rootFile, filepath.Join(p.Path, "certificates", p.Settings.Name, "chain.pem"), filepath.Join(p.Path, "certificates", p.Settings.Name, "cert.pem"))
			}
			return nil
		},
	}
	f.register(cmd, false)
	cmd.Flags().Lookup("path").DefValue = "./sandbox"
	_ = cmd.Flags().Set("path", "sandbox")
	cmd.Flags().Lookup("path").Changed = false
	return cmd
}

// inSandboxZones refuses names outside the zones the sandbox serves, before
// anything starts.
func inSandboxZones(ids []names.Identifier) error {
	for _, id := range ids {
		if !testworld.InDefaultZones(id.Base()) {
			zones := slices.Clone(testworld.DefaultZones)
			for i, z := range zones {
				zones[i] = strings.TrimSuffix(z, ".")
			}
			return usage("domain %q: the sandbox serves only %s and names under them", id.Input, strings.Join(zones, ", "))
		}
	}
	return nil
}

// sandboxJSON prints issue's --json document with root_ca, the sandbox CA's
// root certificate file, once the run succeeded (its chain verifies to
// it); err is the run's.
func sandboxJSON(w io.Writer, doc []byte, rootFile string, err error) error {
	var out struct {
		job.Result
		RootCA string `json:"root_ca,omitempty"`
	}
	if jerr := json.Unmarshal(doc, &out.Result); jerr != nil {
		_, _ = w.Write(doc)
		return errors.Join(err, jerr)
	}
	if err == nil {
		out.RootCA = rootFile
	}
	if eerr := jsonout.Write(w, out); eerr != nil {
		return errors.Join(err, eerr)
	}
	return err
}
