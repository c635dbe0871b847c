package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/job"
	"github.com/strictacme/strictacme/internal/jsonout"
	"github.com/strictacme/strictacme/internal/names"
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
(xn--bcher-kva.example): names must be in them. The certificate chains to the
sandbox CA's root, written next to it as sandbox-root.pem, so "openssl
verify" can check it. It cannot be renewed: the CA is gone when sandbox ends.
As with issue, a certificate of the same name, names and key type already
stored in --path and not due is kept unless --force.

Its flags are read from STRICTACME_SANDBOX_* variables (--path from
STRICTACME_SANDBOX_PATH), never from those of the other commands, so that a
shell or service environment set up for production can never make it write
into a real state directory, install files or run a real deploy hook.`,
		Example: `  strictacme sandbox
  strictacme sandbox -d example.com -d '*.example.com' -d bücher.example --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(f.domains) == 0 {
				f.domains = sandbox.DefaultNames
			}
			ids, err := names.ParseAll(f.domains)
			if err != nil {
				return exitcode.With(exitcode.Usage, err) // bad input: refuse before starting anything
			}
			if err := sandbox.CheckNames(ids); err != nil {
				return usage("%v", err)
			}
			if err := sandbox.CheckProfile(f.profile); err != nil {
				return usage("%s %v", givenAs("profile"), err)
			}
			// Every other flag is checked by the plan built for a sandbox
			// not started yet: refused flags start nothing, write nothing.
			f.pointAt(sandbox.Pending())
			if _, err := f.plan(); err != nil && !errors.Is(err, sandbox.ErrNotRunning) {
				return err
			}
			logw := cmd.ErrOrStderr()
			fmt.Fprintln(logw, "sandbox: starting Pebble CA, authoritative DNS, DoH resolver and provider API on loopback")
			w, err := sandbox.Start()
			if err != nil {
				return err
			}
			defer w.Close()
			fmt.Fprintf(logw, "sandbox: CA %s, DoH %s, provider API %s\n", w.DirectoryURL, w.DoHURL, w.APIURL)
			f.pointAt(w.Target())
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
			rootFile := filepath.Join(p.Path, sandbox.RootFile)
			// As issue: a certificate of this name, names and key type
			// stored and not due is kept (with the root it chains to).
			out, done, err := p.NotDue(now())
			switch {
			case err != nil:
			case done && !force:
				err = printNotDue(out, f.json, stdout, logw)
			default:
				p.Replaces = "" // this run's CA never saw the stored one
				if err = runJob(cmd.Context(), p, f.json, stdout, logw); err == nil {
					rootFile, err = w.WriteRoot(p.Path)
				}
			}
			if f.json {
				return sandboxJSON(cmd.OutOrStdout(), doc.Bytes(), rootFile, err)
			}
			if err != nil {
				return err
			}
			dir := filepath.Join(p.Path, "certificates", p.Settings.Name)
			fmt.Fprintf(logw, "sandbox: check it with: openssl verify -CAfile %s -untrusted %s %s\n",
				rootFile, filepath.Join(dir, "chain.pem"), filepath.Join(dir, "cert.pem"))
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
