package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/strictacme/strictacme/internal/job"
	"github.com/strictacme/strictacme/internal/jsonout"
	"github.com/strictacme/strictacme/internal/migrate"
	"github.com/strictacme/strictacme/internal/plan"
	"github.com/strictacme/strictacme/internal/renewal"
	"github.com/strictacme/strictacme/internal/sandbox"
)

func init() { addCommand(newRenewCmd) }

// renewFlags are the flags of renew.
type renewFlags struct {
	path        string
	lockWait    bool
	json        bool
	force       bool
	noARI       bool
	jitter      time.Duration
	names       []string
	caCerts     []string
	timeout     time.Duration
	email       string
	acceptTOS   bool
	eabKID      string
	eabHMAC     string
	eabHMACFile string
	metricsFile string
	dryRun      bool
	hooks       job.Hooks
	// conf, when set (strictacme run), gives the settings of each
	// certificate of the config file instead of its stored ones.
	conf plan.Configured
}

func newRenewCmd() *cobra.Command {
	var f renewFlags
	cmd := &cobra.Command{
		Use:   "renew",
		Short: "Renew every stored certificate that is due",
		Long: `Renew every stored certificate that is due, with the settings it was issued
with (names, key type, challenges, profile, provider, propagation), kept in
its metadata. Credentials are never stored: the provider reads them from its
environment variables or files, as on the first issue.

A certificate is due when the CA's renewal window (ARI, RFC 9773) says so —
the new order then names the old certificate in "replaces" — or, from a CA
without ARI, when less than a third of its lifetime remains (half for
certificates shorter than 10 days). The CA's answer is kept next to the
certificate and asked again only after the Retry-After the CA gave, so a run
with nothing due sends no request at all. Safe to run as often as you like.

A CA rate limit (429) stops that certificate's order and records when to
retry (exit 3); the other certificates go on, and later runs skip it until
then. With several failures the first failed certificate's code wins.`,
		Example: `  # daily from cron, a systemd timer or CI
  NAMECHEAP_API_USER=... NAMECHEAP_API_KEY_FILE=/run/secrets/nc strictacme renew \
    --deploy-hook 'systemctl reload nginx' --metrics-file /var/lib/node_exporter/strictacme.prom`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRenew(cmd.Context(), &f, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f.register(cmd)
	return withEnv(cmd)
}

// register adds the flags renew and run share.
func (f *renewFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.path, "path", defaultPath(), "state directory: accounts, certificates, journal")
	fl.BoolVar(&f.lockWait, "wait", false, "wait for another run on the same --path (at most --timeout) instead of failing")
	fl.BoolVar(&f.json, "json", false, "print one JSON summary of the run on stdout")
	fl.BoolVar(&f.force, "force", false, "renew every selected certificate now, due or not")
	fl.BoolVar(&f.noARI, "no-ari", false, "do not ask the CA for renewal windows (ARI); use the lifetime rule only")
	fl.DurationVar(&f.jitter, "jitter", 0, "before the first order, wait a random time up to this long (fleets on one schedule)")
	fl.StringArrayVar(&f.names, "cert-name", nil, "renew only this stored certificate (repeatable; default: all)")
	fl.StringArrayVar(&f.caCerts, "ca-cert", nil, "PEM file of extra trust roots, added to those each certificate was issued with (repeatable)")
	fl.DurationVar(&f.timeout, "timeout", plan.DefaultOrderTimeout, "give up one certificate's order after this long")
	fl.StringVarP(&f.email, "email", "m", "", "contact e-mail if the ACME account must be created (default: the one stored with the certificate)")
	fl.BoolVar(&f.acceptTOS, "accept-tos", false, "agree to the CA's terms of service if the account must be created")
	fl.StringVar(&f.eabKID, "eab-kid", "", "external account binding key ID, if the account must be created")
	fl.StringVar(&f.eabHMAC, "eab-hmac-key", "", "external account binding HMAC key; prefer the environment variable or --eab-hmac-key-file")
	fl.StringVar(&f.eabHMACFile, "eab-hmac-key-file", "", "file holding the external account binding HMAC key")
	fl.StringVar(&f.metricsFile, "metrics-file", "", "write Prometheus metrics here (textfile collector format, atomically)")
	fl.BoolVar(&f.dryRun, "dry-run", false, dryRunUsage)
	registerHookFlags(cmd, &f.hooks)
}

// dryRunUsage is the help of --dry-run of issue, renew and run (one
// meaning, one variable).
const dryRunUsage = "test the whole order against the configured CA's staging CA (else the CA itself) with a throwaway account and state; nothing stored or deployed"

// runRenew is renew and run: the renewal run of internal/renewal with this
// command's flags, output and exit codes.
func runRenew(ctx context.Context, f *renewFlags, stdout, stderr io.Writer) error {
	run := &job.Renewal{
		Path: f.path, LockWait: f.lockWait, Timeout: f.timeout, Names: f.names, Conf: f.conf,
		Force: f.force, NoARI: f.noARI, Jitter: f.jitter, Now: now, Hooks: f.hooks, CACerts: f.caCerts,
		Email: f.email, AcceptTOS: f.acceptTOS, EABKeyID: f.eabKID, EABKey: f.eabHMAC, EABKeyFile: f.eabHMACFile,
		MetricsFile: f.metricsFile, DryRun: f.dryRun, PollEvery: pollInterval, BeforeOrder: beforeOrder, Skip: sandbox.Skip, Explain: flagError, Output: stderr, Debug: logDebug,
		Refuse: sandbox.RefuseRenew,
	}
	if err := run.Check(); err != nil {
		return flagError(err)
	}
	if migrate.Hint(stderr, f.path) {
		if f.json { // still the one document a script reads: nothing ran
			return jsonout.Write(stdout, &renewal.Summary{OK: true})
		}
		return nil
	}
	sum, runErr := run.Do(ctx)
	if sum == nil {
		return runErr
	}
	if f.json {
		_ = jsonout.Write(stdout, sum)
	} else if line := sum.Text(); line != "" {
		if f.dryRun {
			fmt.Fprint(stdout, "dry run, nothing stored: ")
		}
		fmt.Fprintln(stdout, line)
	}
	return runErr
}

// now is the clock of renewal decisions.
var now = time.Now
