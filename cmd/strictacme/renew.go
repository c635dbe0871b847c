package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mholt/acmez/v3/acme"
	"github.com/spf13/cobra"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/plan"
	"github.com/strictacme/strictacme/internal/renewal"
	"github.com/strictacme/strictacme/internal/store"
	buildversion "github.com/strictacme/strictacme/internal/version"
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
	hooks       hookFlags
	// config, when set (strictacme run), gives the settings of each
	// certificate of the config file instead of its stored ones; order
	// lists those to order now (not stored, or changed).
	config map[string]plan.Settings
	order  map[string]renewal.OrderReason
	// pre and post hooks of the config file's [defaults].
	configPre, configPost string
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
retry; the other certificates go on, and later runs skip it until then.

Exit codes: 0 nothing due or all renewed, 2 usage, 3 CA refused or rate
limited, 4 DNS, 5 timeout, 7 another run holds the lock, 8 a hook failed (the
certificate was kept), 9 journal.json was damaged (see the message), 130
interrupted.`,
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
	fl.StringVar(&f.email, "email", "", "contact e-mail if the ACME account must be created (default: the one stored with the certificate)")
	fl.BoolVar(&f.acceptTOS, "accept-tos", false, "agree to the CA's terms of service if the account must be created")
	fl.StringVar(&f.eabKID, "eab-kid", "", "external account binding key ID, if the account must be created")
	fl.StringVar(&f.eabHMAC, "eab-hmac-key", "", "external account binding HMAC key; prefer the environment variable or --eab-hmac-key-file")
	fl.StringVar(&f.eabHMACFile, "eab-hmac-key-file", "", "file holding the external account binding HMAC key")
	fl.StringVar(&f.metricsFile, "metrics-file", "", "write Prometheus metrics here (textfile collector format, atomically)")
	f.hooks.register(cmd)
}

// runRenew is renew and run: the renewal run of internal/renewal with this
// command's flags, output and exit codes.
func runRenew(ctx context.Context, f *renewFlags, stdout, stderr io.Writer) error {
	start := time.Now()
	logf := func(line string) { fmt.Fprintln(stderr, line) }
	if f.jitter < 0 {
		return usage("--jitter %s: must not be negative", f.jitter)
	}
	if f.metricsFile != "" {
		// A monitoring file that can never be written must not pass silently.
		if info, err := os.Stat(filepath.Dir(f.metricsFile)); err != nil || !info.IsDir() {
			return usage("--metrics-file %s: directory %s does not exist", f.metricsFile, filepath.Dir(f.metricsFile))
		}
		if info, err := os.Stat(f.metricsFile); err == nil && info.IsDir() {
			return usage("--metrics-file %s: is a directory; give a file name such as %s", f.metricsFile, filepath.Join(f.metricsFile, "strictacme.prom"))
		}
	}
	if f.eabHMAC != "" && f.eabHMACFile != "" {
		return usage("give the EAB HMAC key once: --eab-hmac-key (or %s) or --eab-hmac-key-file", envName("eab-hmac-key"))
	}
	open := openExistingLocked
	if f.config != nil {
		open = openLocked // run creates the state directory
	}
	// --wait waits for another run at most --timeout.
	lockCtx, cancelLock := context.WithTimeout(ctx, f.timeout)
	st, unlock, err := open(lockCtx, f.path, f.lockWait)
	cancelLock()
	if err != nil {
		return err
	}
	defer unlock()

	f.recordSettings(st, logf)
	plan.RecordConfiguredOutputs(st, f.config, f.order, logf)
	jobs := map[string]*job{}
	run := &renewal.Run{
		Store: st, Names: f.names, Order: f.order, Force: f.force, NoARI: f.noARI, Jitter: f.jitter,
		Now: now, Log: logf, Hooks: f.hooks.runner(stderr),
		Client: f.acmeClient,
		Skip: func(m store.Metadata) (renewal.Decision, bool) {
			if !issuedBySandbox(m) {
				return renewal.Decision{}, false
			}
			// Its CA existed only while "strictacme sandbox" ran: nothing
			// to ask, nothing to renew with.
			return renewal.Decision{Source: "sandbox", At: m.NotAfter, Reason: "issued by the sandbox's local CA, which exists only while strictacme sandbox runs; run it again for a new certificate"}, true
		},
		Issue: func(ctx context.Context, c *renewal.CertRun, replaces string, logf func(string)) (*store.Certificate, error) {
			j, err := f.job(c)
			if err != nil {
				return nil, err
			}
			jobs[c.Name] = j
			j.replaces, j.renewed = replaces, c.Cert != nil && c.Order == ""
			res, err := obtainLocked(ctx, st, j, logf)
			if err != nil {
				return nil, err
			}
			return res.Certificate, nil
		},
		Deploy: func(ctx context.Context, c *renewal.CertRun, cert *store.Certificate) error {
			h := f.hooks
			if j := jobs[c.Name]; j != nil {
				if h.deployCmd == "" {
					h.deployCmd = j.hooks.deployCmd
				}
				h.outputs = j.hooks.outputs
			}
			return h.deploy(ctx, stderr, f.path, cert, c.Order == "")
		},
		Install: f.install(stderr),
		Sweep:   func(ctx context.Context, runs []*renewal.CertRun) error { return f.sweep(ctx, st, runs, logf) },
	}
	run.PreHook, run.PostHook = f.runHooks(st)
	sum, runErr := run.Do(ctx)
	if sum == nil {
		return runErr
	}
	if f.metricsFile != "" {
		if err := writeMetrics(f.metricsFile, now(), time.Since(start), sum.Certificates); err != nil {
			logf(fmt.Sprintf("metrics: %v", err))
			runErr = sum.Fail(exitcode.With(exitcode.Failure, err))
		}
	}
	sum.DurationMS = time.Since(start).Milliseconds()
	if f.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(sum)
	} else if sum.Renewed > 0 || sum.Failed > 0 {
		notDue, issued := 0, 0
		for _, c := range sum.Certificates {
			switch c.Status {
			case renewal.StatusNotDue, renewal.StatusDeferred:
				notDue++
			case renewal.StatusIssued:
				issued++
			}
		}
		// sum.Renewed (and the JSON "renewed") counts first issues too;
		// the line a person reads after "run" names them for what they are.
		if issued > 0 {
			fmt.Fprintf(stdout, "issued %d, renewed %d, failed %d, not due %d\n", issued, sum.Renewed-issued, sum.Failed, notDue)
		} else {
			fmt.Fprintf(stdout, "renewed %d, failed %d, not due %d\n", sum.Renewed, sum.Failed, notDue)
		}
	}
	return runErr
}

// now is the clock of renewal decisions.
var now = time.Now

// recordSettings stores the config file's settings with each certificate of
// the file that the previous release stored without them (run --config kept
// none), so that renew can renew it from then on.
func (f *renewFlags) recordSettings(st *store.Store, logf func(string)) {
	for name, s := range f.config {
		if _, ordered := f.order[name]; ordered {
			continue // stored with its settings when ordered
		}
		c, err := st.LoadCertificate(name)
		if err != nil {
			continue
		}
		if _, ok, _ := plan.FromMetadata(c.Meta); ok {
			continue
		}
		raw, err := s.Stored().Encode()
		if err == nil {
			c.Meta.Settings, c.Meta.SettingsVersion = raw, plan.SchemaVersion
			err = st.SaveMetadata(name, c.Meta)
		}
		if err != nil {
			logf(fmt.Sprintf("%s: recording its settings for renew: %v", name, err))
			continue
		}
		logf(name + ": stored without its settings; recorded those of the config file, so renew can renew it")
	}
}

// runHooks are the pre and post hooks of a run: the flags, else those of
// the config file, else those the selected certificates were stored with
// (each distinct command once, in name order).
func (f *renewFlags) runHooks(st *store.Store) (pre, post string) {
	pre, post = f.hooks.pre, f.hooks.post
	if f.config != nil {
		return firstOf(pre, f.configPre), firstOf(post, f.configPost)
	}
	if pre != "" && post != "" {
		return pre, post
	}
	var pres, posts []string
	names := f.names
	if len(names) == 0 {
		names, _ = st.ListCertificates()
	}
	for _, n := range names {
		c, err := st.LoadCertificate(n)
		if err != nil {
			continue
		}
		if s, ok, _ := plan.FromMetadata(c.Meta); ok {
			if s.PreHook != "" && !slices.Contains(pres, s.PreHook) {
				pres = append(pres, s.PreHook)
			}
			if s.PostHook != "" && !slices.Contains(posts, s.PostHook) {
				posts = append(posts, s.PostHook)
			}
		}
	}
	return firstOf(pre, strings.Join(pres, " && ")), firstOf(post, strings.Join(posts, " && "))
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// acmeClient returns a client for the CA that issued a certificate, with the
// trust roots it was issued with plus --ca-cert.
func (f *renewFlags) acmeClient(m store.Metadata) (*acme.Client, error) {
	s, _, _ := plan.FromMetadata(m)
	roots, err := loadRoots(append(slices.Clone(s.CACerts), f.caCerts...))
	if err != nil {
		return nil, err
	}
	return &acme.Client{Directory: m.Directory, HTTPClient: httpClient(roots, s.IPv4Only), UserAgent: buildversion.UserAgent()}, nil
}

// job builds the order of one certificate: from the config file's settings
// (run), else from those stored with it, with this command's account and
// trust-root flags on top.
func (f *renewFlags) job(c *renewal.CertRun) (*job, error) {
	s, ok := f.config[c.Name]
	if !ok {
		m := c.Cert.Meta
		if issuedBySandbox(m) {
			return nil, usage("%s was issued by strictacme sandbox, whose CA is gone; run strictacme sandbox again", c.Name)
		}
		var err error
		if s, ok, err = plan.FromMetadata(m); err != nil {
			return nil, exitcode.With(exitcode.Usage, fmt.Errorf("%s: %w", c.Name, err))
		}
		if !ok {
			return nil, usage("%s was stored without its settings; order it once more with strictacme issue or strictacme run --config", c.Name)
		}
		s.Name = c.Name
		s.Timeout = plan.Duration(f.timeout)
	}
	s.CACerts = append(slices.Clone(s.CACerts), f.caCerts...)
	if f.email != "" {
		s.Email = f.email
	}
	if f.acceptTOS {
		s.AcceptTOS = true
	}
	if f.eabKID != "" {
		s.EABKeyID, s.EABKeyEnv, s.EABKeyFile = f.eabKID, "", f.eabHMACFile
	}
	j, err := newJob(s, f.path, f.eabHMAC, nil)
	if err != nil {
		return nil, err
	}
	j.json, j.lockWait = f.json, f.lockWait
	j.why = c.Order
	return j, nil
}

// sweep removes challenge records that a killed run left behind, with the
// providers of the config file's and the stored certificates' settings.
func (f *renewFlags) sweep(ctx context.Context, st *store.Store, runs []*renewal.CertRun, logf func(string)) error {
	defer useProviderLog(logf)()
	var known []plan.Settings
	for _, s := range f.config {
		known = append(known, s)
	}
	for _, r := range runs {
		if r.Cert != nil {
			if s, ok, _ := plan.FromMetadata(r.Cert.Meta); ok {
				known = append(known, s)
			}
		}
	}
	return plan.Sweep(ctx, st, known, f.caCerts, providerLogger(), logf)
}
