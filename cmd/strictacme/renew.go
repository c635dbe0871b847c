package main

import (
	"context"
	"encoding/json"
	"errors"
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
	"github.com/strictacme/strictacme/internal/hooks"
	"github.com/strictacme/strictacme/internal/issue"
	"github.com/strictacme/strictacme/internal/providers"
	"github.com/strictacme/strictacme/internal/renewal"
	"github.com/strictacme/strictacme/internal/store"
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
	pollEvery   time.Duration
	// plans, when set (strictacme run), gives the plan of each certificate
	// from the config file instead of rebuilding it from its metadata, so
	// the config's providers and credentials are used.
	plans map[string]*plan
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
	fl := cmd.Flags()
	fl.StringVar(&f.path, "path", defaultPath(), "state directory: accounts, certificates, journal")
	fl.BoolVar(&f.lockWait, "wait", false, "wait for another run on the same --path instead of failing")
	fl.BoolVar(&f.json, "json", false, "print one JSON summary of the run on stdout")
	fl.BoolVar(&f.force, "force", false, "renew every selected certificate now, due or not")
	fl.BoolVar(&f.noARI, "no-ari", false, "do not ask the CA for renewal windows (ARI); use the lifetime rule only")
	fl.DurationVar(&f.jitter, "jitter", 0, "before the first order, wait a random time up to this long (fleets on one schedule)")
	fl.StringArrayVar(&f.names, "cert-name", nil, "renew only this stored certificate (repeatable; default: all)")
	fl.StringArrayVar(&f.caCerts, "ca-cert", nil, "PEM file of extra trust roots, added to those each certificate was issued with (repeatable)")
	fl.DurationVar(&f.timeout, "timeout", 10*time.Minute, "give up one certificate's order after this long")
	fl.StringVar(&f.email, "email", "", "contact e-mail if the ACME account must be created (default: the one stored with the certificate)")
	fl.BoolVar(&f.acceptTOS, "accept-tos", false, "agree to the CA's terms of service if the account must be created")
	fl.StringVar(&f.eabKID, "eab-kid", "", "external account binding key ID, if the account must be created")
	fl.StringVar(&f.eabHMAC, "eab-hmac-key", "", "external account binding HMAC key; prefer the environment variable or --eab-hmac-key-file")
	fl.StringVar(&f.eabHMACFile, "eab-hmac-key-file", "", "file holding the external account binding HMAC key")
	fl.StringVar(&f.metricsFile, "metrics-file", "", "write Prometheus metrics here (textfile collector format, atomically)")
	f.hooks.register(cmd)
	fl.DurationVar(&f.pollEvery, "poll-interval", 0, "longest wait between two polls when the CA sends no Retry-After (0 = 2s)")
	_ = fl.MarkHidden("poll-interval")
	return withEnv(cmd)
}

// Status of one certificate in a renew run.
const (
	statusNotDue     = "not-due"
	statusRenewed    = "renewed"
	statusFailed     = "failed"
	statusDeferred   = "deferred" // rate limited earlier; retry time not reached
	statusHookFailed = "hook-failed"
)

// certRun is one certificate in a renew run (and the --json output).
type certRun struct {
	Name       string    `json:"name"`
	Names      []string  `json:"names"`
	Status     string    `json:"status"`
	Source     string    `json:"decided_by"`
	Reason     string    `json:"reason"`
	DueAt      time.Time `json:"due_at,omitzero"`
	NotAfter   time.Time `json:"not_after,omitzero"`
	Replaces   string    `json:"replaces,omitempty"`
	Serial     string    `json:"serial,omitempty"`
	Error      string    `json:"error,omitempty"`
	ExitCode   int       `json:"exit_code"`
	RetryAfter time.Time `json:"retry_after,omitzero"`
	DurationMS int64     `json:"duration_ms,omitempty"`

	cert  *store.Certificate
	state *renewal.State
	dec   renewal.Decision
	err   error
}

// renewSummary is the --json output of renew.
type renewSummary struct {
	OK           bool       `json:"ok"`
	ExitCode     int        `json:"exit_code"`
	Error        string     `json:"error,omitempty"`
	Due          int        `json:"due"`
	Renewed      int        `json:"renewed"`
	Failed       int        `json:"failed"`
	Certificates []*certRun `json:"certificates"`
	DurationMS   int64      `json:"duration_ms"`
}

func runRenew(ctx context.Context, f *renewFlags, stdout, stderr io.Writer) error {
	start := time.Now()
	logf := func(line string) { fmt.Fprintln(stderr, line) }
	now, err := renewal.ClockFromEnv(os.LookupEnv)
	if err != nil {
		return exitcode.With(exitcode.Usage, err)
	}
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
	st, unlock, err := openExistingLocked(ctx, f.path, f.lockWait)
	if err != nil {
		return err
	}
	defer unlock()

	runs, err := f.selectCerts(st)
	if err != nil {
		return err
	}
	if err := f.sweep(ctx, st, runs, logf); err != nil {
		return err
	}
	var due []*certRun
	for _, r := range runs {
		if r.err == nil {
			f.decide(ctx, st, r, now, logf)
		}
		if r.err != nil {
			r.Status, r.Error, r.ExitCode = statusFailed, r.err.Error(), exitcode.Of(r.err)
			logf(fmt.Sprintf("%s: %v", r.Name, r.err))
			continue
		}
		switch {
		case !r.dec.Due:
			r.Status = statusNotDue
			logf(fmt.Sprintf("%s: not due: %s", r.Name, r.dec.Reason))
		case !f.force && r.state.RetryAfter.After(now()):
			r.Status, r.RetryAfter = statusDeferred, r.state.RetryAfter
			logf(fmt.Sprintf("%s: due (%s), but the CA asked to wait until %s; skipped", r.Name, r.dec.Reason, r.state.RetryAfter.UTC().Format(time.RFC3339)))
		default:
			logf(fmt.Sprintf("%s: due: %s", r.Name, r.dec.Reason))
			due = append(due, r)
		}
	}

	if len(due) > 0 {
		if j := renewal.Jitter(f.jitter); j > 0 {
			logf(fmt.Sprintf("jitter: waiting %s before the first order", j.Round(time.Second)))
			t := time.NewTimer(j)
			select {
			case <-ctx.Done():
				t.Stop()
				return exitcode.With(exitcode.Canceled, ctx.Err())
			case <-t.C:
			}
		}
		f.renewDue(ctx, st, due, now, logf, stderr)
	} else {
		logf("nothing due")
	}

	sum := renewSummary{OK: true, Due: len(due), Certificates: runs}
	var firstErr, hookErr error
	var failures []string
	for _, r := range runs {
		switch r.Status {
		case statusRenewed:
			sum.Renewed++
		case statusHookFailed:
			sum.Renewed++
			if hookErr == nil {
				hookErr = r.err
			}
			failures = append(failures, r.Name+": "+r.Error)
		case statusFailed:
			sum.Failed++
			if firstErr == nil {
				firstErr = r.err
			}
			failures = append(failures, r.Name+": "+r.Error)
		}
	}
	if f.metricsFile != "" {
		if err := writeMetrics(f.metricsFile, now(), time.Since(start), runs); err != nil {
			logf(fmt.Sprintf("metrics: %v", err))
			failures = append(failures, err.Error()) // names --metrics-file
			if firstErr == nil {
				firstErr = exitcode.With(exitcode.Failure, err)
			}
		}
	}
	var runErr error
	if firstErr != nil || hookErr != nil {
		code := exitcode.Hook
		if firstErr != nil {
			code = exitcode.Of(firstErr)
		}
		msg := failures[0]
		if len(failures) > 1 {
			msg = fmt.Sprintf("%d certificates failed: %s", len(failures), strings.Join(failures, "; "))
		}
		runErr = exitcode.With(code, errors.New(msg))
		sum.OK, sum.ExitCode, sum.Error = false, code, msg
	}
	sum.DurationMS = time.Since(start).Milliseconds()
	if f.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(sum)
	} else if sum.Renewed > 0 || sum.Failed > 0 {
		fmt.Fprintf(stdout, "renewed %d, failed %d, not due %d\n", sum.Renewed, sum.Failed, len(runs)-len(due))
	}
	return runErr
}

// selectCerts lists the stored certificates (or the --cert-name ones) and
// loads each; a name that is not stored is a usage error.
func (f *renewFlags) selectCerts(st *store.Store) ([]*certRun, error) {
	stored, err := st.ListCertificates()
	if err != nil {
		return nil, err
	}
	names := stored
	if len(f.names) > 0 {
		for _, n := range f.names {
			if !slices.Contains(stored, n) {
				return nil, usage("--cert-name %q: no such certificate in %s (stored: %s)", n, f.path, strings.Join(stored, ", "))
			}
		}
		names = f.names
	}
	var runs []*certRun
	for _, n := range names {
		r := &certRun{Name: n}
		runs = append(runs, r)
		if r.cert, r.err = st.LoadCertificate(n); r.err != nil {
			continue
		}
		r.Names, r.NotAfter, r.Serial = r.cert.Meta.Names, r.cert.Meta.NotAfter, r.cert.Meta.Serial
		r.state, r.err = renewal.LoadState(st.CertDir(n))
	}
	return runs, nil
}

// decide refreshes the stored ARI answer when its Retry-After has passed
// and decides whether r is due.
func (f *renewFlags) decide(ctx context.Context, st *store.Store, r *certRun, now func() time.Time, logf func(string)) {
	m := r.cert.Meta
	if m.Renewal != nil && m.Renewal.Provider == sandboxProvider {
		// Its CA existed only while "strictacme sandbox" ran: nothing to
		// ask, nothing to renew with.
		r.dec = renewal.Decision{Source: "sandbox", At: m.NotAfter, Reason: "issued by the sandbox's local CA, which exists only while strictacme sandbox runs; run it again for a new certificate"}
		r.Source, r.Reason, r.DueAt = string(r.dec.Source), r.dec.Reason, r.dec.At
		return
	}
	certID := m.ARICertID
	if f.noARI {
		certID = ""
	}
	revoked := r.state.RevokedAt(m.Serial)
	if revoked.IsZero() && renewal.NeedsFetch(now(), certID, r.state.ARI) {
		client, err := f.acmeClient(m)
		if err == nil {
			var a *renewal.ARI
			a, err = renewal.Fetch(ctx, client, r.cert.Leaf, certID, now(), time.Now, r.state.ARI)
			if err == nil {
				r.state.ARI = a
				if err := renewal.SaveState(st.CertDir(r.Name), r.state); err != nil {
					logf(fmt.Sprintf("%s: saving the renewal state: %v", r.Name, err))
				}
			}
		}
		if err != nil {
			logf(fmt.Sprintf("%s: ARI: %v; deciding by the certificate's lifetime", r.Name, err))
		}
	}
	ari := r.state.ARI
	if f.noARI {
		ari = nil
	}
	r.dec = renewal.Decide(now(), renewal.Cert{NotBefore: m.NotBefore, NotAfter: m.NotAfter, ARICertID: m.ARICertID}, ari, f.force, revoked)
	r.Source, r.Reason, r.Replaces = string(r.dec.Source), r.dec.Reason, r.dec.Replaces
	r.DueAt = r.dec.At
}

// acmeClient returns a client for the CA that issued a certificate, with the
// trust roots it was issued with plus --ca-cert.
func (f *renewFlags) acmeClient(m store.Metadata) (*acme.Client, error) {
	var files []string
	ipv4 := false
	if m.Renewal != nil {
		files, ipv4 = m.Renewal.CACerts, m.Renewal.IPv4Only
	}
	roots, err := loadRoots(append(slices.Clone(files), f.caCerts...))
	if err != nil {
		return nil, err
	}
	return &acme.Client{Directory: m.Directory, HTTPClient: httpClient(roots, ipv4), UserAgent: "strictacme " + version}, nil
}

// renewDue runs the pre hook, every due order, the deploy hooks and the post
// hook. Results land in each certRun and its state file.
func (f *renewFlags) renewDue(ctx context.Context, st *store.Store, due []*certRun, now func() time.Time, logf func(string), stderr io.Writer) {
	var names []string
	for _, r := range due {
		names = append(names, r.Name)
	}
	runner := f.hooks.runner(stderr)
	if err := runner.Run(ctx, hooks.Pre, "", f.hooks.pre, hooks.RunEnv(hooks.Pre, names, nil, nil)); err != nil {
		for _, r := range due {
			r.err = err
			r.Status, r.Error, r.ExitCode = statusFailed, "not renewed: "+err.Error(), exitcode.Hook
		}
		logf("strictacme: " + err.Error() + "; no certificate renewed")
		return
	}
	var renewed, failed []string
	for _, r := range due {
		f.renewOne(ctx, st, r, now, logf, stderr)
		if r.Status == statusRenewed || r.Status == statusHookFailed {
			renewed = append(renewed, r.Name)
		} else {
			failed = append(failed, r.Name)
		}
		if ctx.Err() != nil {
			break
		}
	}
	if err := runner.Run(ctx, hooks.Post, "", f.hooks.post, hooks.RunEnv(hooks.Post, names, renewed, failed)); err != nil {
		logf("strictacme: " + err.Error())
		// Reported on the last renewed certificate so the exit code says Hook.
		for i := len(due) - 1; i >= 0; i-- {
			if r := due[i]; r.Status == statusRenewed {
				r.Status, r.err, r.Error, r.ExitCode = statusHookFailed, err, err.Error(), exitcode.Hook
				break
			}
		}
	}
}

func (f *renewFlags) renewOne(ctx context.Context, st *store.Store, r *certRun, now func() time.Time, logf func(string), stderr io.Writer) {
	t0 := time.Now()
	r.state.LastAttempt = now().UTC()
	p, err := f.planFor(ctx, r)
	var res *issue.Result
	if err == nil {
		p.replaces = r.dec.Replaces
		prefixed := func(line string) { logf(r.Name + ": " + line) }
		res, err = obtainLocked(ctx, st, p, prefixed)
		var prob acme.Problem
		if err != nil && p.replaces != "" && errors.As(err, &prob) && prob.Type == acme.ProblemTypeAlreadyReplaced {
			prefixed("the CA says the certificate was already replaced; ordering without \"replaces\"")
			p.replaces = ""
			res, err = obtainLocked(ctx, st, p, prefixed)
		}
	}
	r.DurationMS = time.Since(t0).Milliseconds()
	r.state.LastDurationSeconds = time.Since(t0).Seconds()
	if err != nil {
		r.err = err
		r.Status, r.Error, r.ExitCode = statusFailed, err.Error(), exitcode.Of(err)
		r.state.LastResult, r.state.LastError = "error", err.Error()
		r.state.Errors++
		var rl *issue.RateLimitedError
		if errors.As(err, &rl) {
			r.state.LastResult = "rate-limited"
			r.state.RetryAfter = rl.RetryAfter
			r.RetryAfter = rl.RetryAfter
		}
		logf(fmt.Sprintf("%s: renewal failed; the current certificate stays in place: %v", r.Name, err))
		f.saveState(st, r, logf)
		return
	}
	c := res.Certificate
	r.Status, r.Serial, r.NotAfter = statusRenewed, c.Meta.Serial, c.Meta.NotAfter
	r.state.LastResult, r.state.LastError = "ok", ""
	r.state.LastSuccess = now().UTC()
	r.state.RetryAfter = time.Time{}
	r.state.ARI = nil
	// Ask for the new certificate's window now, so that the next runs
	// decide without contacting the CA until its Retry-After.
	if !f.noARI && c.Meta.ARICertID != "" && c.Leaf != nil {
		if client, err := f.acmeClient(c.Meta); err == nil {
			if a, err := renewal.Fetch(ctx, client, c.Leaf, c.Meta.ARICertID, now(), time.Now, nil); err == nil {
				r.state.ARI = a
			}
		}
	}
	logf(fmt.Sprintf("%s: renewed (serial %s, not after %s)", r.Name, c.Meta.Serial, c.Meta.NotAfter.Format(time.RFC3339)))
	if err := f.hooks.deploy(ctx, stderr, f.path, c, true); err != nil {
		r.err = err
		r.Status, r.Error, r.ExitCode = statusHookFailed, err.Error(), exitcode.Hook
		r.state.LastResult, r.state.LastError = "hook-failed", err.Error()
		logf(fmt.Sprintf("%s: %v; the new certificate is stored", r.Name, err))
	}
	f.saveState(st, r, logf)
}

func (f *renewFlags) saveState(st *store.Store, r *certRun, logf func(string)) {
	if err := renewal.SaveState(st.CertDir(r.Name), r.state); err != nil {
		logf(fmt.Sprintf("%s: saving the renewal state: %v", r.Name, err))
	}
}

// planFor rebuilds the plan of a stored certificate from its metadata,
// through the same flag validation as issue.
func (f *renewFlags) planFor(ctx context.Context, r *certRun) (*plan, error) {
	if p, ok := f.plans[r.Name]; ok {
		return p, nil
	}
	m := r.cert.Meta
	if m.Renewal != nil && m.Renewal.Provider == sandboxProvider {
		return nil, usage("%s was issued by strictacme sandbox, whose CA is gone; run strictacme sandbox again", r.Name)
	}
	s := m.Renewal
	if s == nil {
		return nil, usage("%s was stored without renewal settings; issue it once more with strictacme issue", r.Name)
	}
	fl := issueFlags{
		domains: m.Names, server: m.Directory, keyType: m.KeyType, path: f.path, name: r.Name,
		dns: s.Provider, propagation: s.Propagation, resolvers: s.Resolvers, quorum: s.Quorum,
		reqTimeout: s.RequestTimeout, ipv4Only: s.IPv4Only, challenges: s.Challenges, profile: m.Profile,
		caCerts: append(slices.Clone(s.CACerts), f.caCerts...), email: s.Email, acceptTOS: f.acceptTOS,
		timeout: f.timeout, preferredChain: s.PreferredChain, reuseKey: s.ReuseKey,
		eabKID: f.eabKID, eabHMAC: f.eabHMAC, eabHMACFile: f.eabHMACFile, pollInterval: f.pollEvery,
		wait: 2 * time.Minute, aliases: s.ChallengeAliases, targets: s.ChallengeTargets, followCNAME: s.FollowCNAME,
		propTimeout: s.PropagationTimeout, fallback: s.PropagationFallback, allowPort53: s.AllowPort53,
	}
	if f.email != "" {
		fl.email = f.email
	}
	if fl.keyType == "" {
		fl.keyType = "ec256"
	}
	if fl.propagation == "" {
		fl.propagation = "doh"
	}
	if len(fl.challenges) == 0 {
		fl.challenges = []string{"dns-01"}
	}
	if fl.reqTimeout <= 0 {
		fl.reqTimeout = 5 * time.Second
	}
	if s.PropagationWait > 0 {
		fl.wait, fl.waitSet = s.PropagationWait, true
	}
	p, err := fl.plan(ctx)
	if err != nil {
		return nil, err
	}
	p.renewed = true
	return p, nil
}

// sweep removes challenge records that a killed run left behind (the
// journal), also when nothing is due: each journaled provider is built again
// from its environment. Failures are logged; the journal keeps what was not
// removed for the next run. Only a damaged journal is returned as an error.
func (f *renewFlags) sweep(ctx context.Context, st *store.Store, runs []*certRun, logf func(string)) error {
	defer useProviderLog(logf)()
	entries, err := st.Journal().Entries()
	if err := journalDamaged(err); err != nil {
		return err
	}
	if err != nil || len(entries) == 0 {
		if err != nil {
			logf(fmt.Sprintf("journal: %v", err))
		}
		return nil
	}
	var files []string
	directory := ""
	for _, r := range runs {
		if r.cert != nil && r.cert.Meta.Renewal != nil {
			files = append(files, r.cert.Meta.Renewal.CACerts...)
			directory = r.cert.Meta.Directory
		}
	}
	roots, err := loadRoots(append(files, f.caCerts...))
	if err != nil {
		logf(fmt.Sprintf("journal: %v", err))
		return nil
	}
	p := &plan{rootCAs: roots, httpClient: httpClient(roots, false)}
	if directory == "" {
		directory = "https://ca.invalid/directory" // Sweep talks to no CA
	}
	seen := map[string]bool{}
	for _, e := range entries {
		if seen[e.Provider] {
			continue
		}
		seen[e.Provider] = true
		entry, err := providerFromEnv(ctx, e.Provider, p)
		if err != nil {
			logf(fmt.Sprintf("journal: leftover records of provider %q cannot be removed now: %v", e.Provider, err))
			continue
		}
		entry.Name = e.Provider
		ps, err := providers.NewSet(entry)
		if err != nil {
			logf(fmt.Sprintf("journal: %v", err))
			continue
		}
		is, err := issue.New(issue.Config{Directory: directory, HTTPClient: p.httpClient, Store: st, Providers: ps, Log: logf})
		if err != nil {
			logf(fmt.Sprintf("journal: %v", err))
			continue
		}
		if n, err := is.Sweep(ctx); err != nil {
			logf(fmt.Sprintf("journal: %v", err))
		} else if n > 0 {
			logf(fmt.Sprintf("journal: removed %d leftover record(s) of an interrupted run", n))
		}
	}
	return nil
}
