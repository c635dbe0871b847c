package job

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/mholt/acmez/v3/acme"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/metrics"
	"github.com/strictacme/strictacme/internal/plan"
	"github.com/strictacme/strictacme/internal/renewal"
	"github.com/strictacme/strictacme/internal/steplog"
	"github.com/strictacme/strictacme/internal/store"
)

// Renewal is one run of renew, or of run with a config file (Conf set):
// under the store's run lock, the renewal run of internal/renewal over the
// stored certificates and those the file lists, each due one ordered as a
// Job built from the file's settings, else from those stored with it.
type Renewal struct {
	// Path is the state directory; it must exist unless Conf is set.
	Path string
	// LockWait waits for another run, at most Timeout, instead of failing.
	LockWait bool
	// Timeout bounds waiting for the lock, and each order of a certificate
	// ordered with its stored settings (a config file's have their own).
	Timeout time.Duration
	// Names limits the run to these certificates; nil means all.
	Names []string
	// Conf, when it has Settings (run), gives the settings of the config
	// file's certificates and those to order now.
	Conf         plan.Configured
	Force, NoARI bool
	Jitter       time.Duration
	// Now is the clock of renewal decisions (time.Now if nil).
	Now func() time.Time
	// Hooks are those given for this run: Pre and Post instead of the
	// file's or the stored ones, Deploy instead of each certificate's;
	// Env and Timeout for every hook.
	Hooks Hooks
	// CACerts are PEM files of roots trusted besides each certificate's.
	CACerts []string
	// Email, AcceptTOS and the EAB key (ID, HMAC key, or file holding it)
	// are used if the ACME account must be created.
	Email                        string
	AcceptTOS                    bool
	EABKeyID, EABKey, EABKeyFile string
	PollEvery                    time.Duration
	BeforeOrder                  func(j *Job, logf func(string))
	Skip                         func(store.Metadata) (renewal.Decision, bool)
	// Refuse, when it returns an error, refuses to order a stored
	// certificate with its stored settings (one whose CA is gone).
	Refuse func(name string, m store.Metadata) error
	// MetricsFile, when set, receives the run's metrics (internal/metrics)
	// once it is done; failing to write it fails the run.
	MetricsFile string
	// Explain turns a problem of a certificate's settings into the
	// caller's words; nil leaves it.
	Explain func(error) error
	// Output receives every log line and what hooks print.
	Output io.Writer
	// Debug, when set, receives the lines of renewal.Run's Debug instead
	// of Output.
	Debug func(string)
	// DryRun orders every selected certificate, due or not, as a dry run
	// (dryrun.go): nothing is written to Path or MetricsFile, no deploy.
	DryRun bool

	// dryFrom is the state directory a dry run's copy (Path) was made of.
	dryFrom string
	// orderAll is renewal.Run's OrderAll (a dry run).
	orderAll bool
}

// Check says every problem of r's own settings (not those of its
// certificates) as a *plan.ProblemsError, keys as plan.Problem names them;
// Do checks first.
func (r *Renewal) Check() error {
	ps := runProblems(r.Path, r.EABKey, r.EABKeyFile)
	if r.Jitter < 0 {
		ps = append(ps, plan.Problem{Key: "jitter", Msg: fmt.Sprintf("must not be negative, got %s", r.Jitter)})
	}
	if r.MetricsFile != "" {
		if err := metrics.CheckPath(r.MetricsFile); err != nil {
			ps = append(ps, plan.Problem{Key: "metrics_file", Msg: fmt.Sprintf("%q: %v", r.MetricsFile, err)})
		}
	}
	if len(ps) > 0 {
		return &plan.ProblemsError{Problems: ps}
	}
	return nil
}

// Do runs r and writes MetricsFile. The summary is nil when the run
// stopped before deciding anything (the lock, a damaged journal); its
// DurationMS is the whole run's. The error carries the exit code of the
// first failure (renewal.Run.Do).
func (r *Renewal) Do(ctx context.Context) (*renewal.Summary, error) {
	if err := r.Check(); err != nil {
		return nil, r.explain(exitcode.With(exitcode.Usage, err))
	}
	if r.DryRun && r.dryFrom == "" {
		return r.doDry(ctx)
	}
	start := time.Now()
	now := r.Now
	if now == nil {
		now = time.Now
	}
	logf := lineWriter(r.Output)
	open := store.OpenExistingLocked
	if r.Conf.Settings != nil {
		open = store.OpenLocked // run creates the state directory
	}
	lockCtx, cancelLock := context.WithTimeout(ctx, r.Timeout)
	st, unlock, err := open(lockCtx, r.Path, r.LockWait)
	cancelLock()
	if err != nil {
		return nil, err
	}
	defer unlock()

	plan.RecordSettings(st, r.Conf.Settings, r.Conf.Order, logf)
	plan.RecordConfiguredOutputs(st, r.Conf.Settings, r.Conf.Order, logf)
	jobs := map[string]*Job{}
	run := &renewal.Run{
		Store: st, Dir: cmp.Or(r.dryFrom, r.Path), Names: r.Names, Order: r.Conf.Order, Force: r.Force, OrderAll: r.orderAll, NoARI: r.NoARI, DryRun: r.DryRun, Jitter: r.Jitter,
		Now: r.Now, Log: logf, Debug: r.Debug, Hooks: r.Hooks.Runner(r.Output),
		Client: r.client,
		Skip:   r.Skip,
		Issue: func(ctx context.Context, c *renewal.CertRun, replaces string, logf func(string)) (*store.Certificate, error) {
			j, err := r.job(c)
			if err != nil {
				return nil, err
			}
			jobs[c.Name] = j
			j.Replaces, j.Renewed = replaces, c.Cert != nil && c.Order == ""
			if r.DryRun {
				j.SetDryRun()
				c.DryRun = j.DryRun
				logf(DryRunLine(j.DryRun))
			}
			res, err := j.ObtainLocked(ctx, st, logf)
			if err != nil {
				return nil, err
			}
			return res.Certificate, nil
		},
		Deploy: func(ctx context.Context, c *renewal.CertRun, cert *store.Certificate) error {
			if r.DryRun {
				return nil
			}
			h := r.Hooks
			if j := jobs[c.Name]; j != nil {
				h.Deploy = cmp.Or(h.Deploy, j.Hooks.Deploy)
				h.Outputs = j.Hooks.Outputs
			}
			return h.DeployCert(ctx, r.Output, r.Path, cert, c.Order == "")
		},
		Install: r.install,
		Sweep: func(ctx context.Context, runs []*renewal.CertRun) error {
			defer steplog.Use(logf)()
			return plan.Sweep(ctx, st, plan.Known(r.Conf.Settings, runs), r.CACerts, steplog.Logger(), logf)
		},
	}
	if r.DryRun {
		run.Install = nil
	}
	run.PreHook, run.PostHook = r.runHooks(st)
	sum, runErr := run.Do(ctx)
	if sum == nil {
		return nil, runErr
	}
	if r.MetricsFile != "" {
		if err := metrics.WriteFile(r.MetricsFile, now(), time.Since(start), sum.Certificates); err != nil {
			err = fmt.Errorf("writing the metrics: %w", err)
			logf(fmt.Sprintf("metrics: %v", err))
			runErr = sum.Fail(exitcode.With(exitcode.Failure, err))
		}
	}
	sum.DurationMS = time.Since(start).Milliseconds()
	return sum, runErr
}

// runHooks are the pre and post hooks of a run: those given, else those
// of the config file, else those the selected certificates were stored
// with.
func (r *Renewal) runHooks(st *store.Store) (pre, post string) {
	pre, post = r.Hooks.Pre, r.Hooks.Post
	if r.Conf.Settings != nil {
		return cmp.Or(pre, r.Conf.PreHook), cmp.Or(post, r.Conf.PostHook)
	}
	if pre != "" && post != "" {
		return pre, post
	}
	storedPre, storedPost := plan.StoredHooks(st, r.Names)
	return cmp.Or(pre, storedPre), cmp.Or(post, storedPost)
}

// client is plan.ClientFor with CACerts; a root that cannot be read is a
// problem of key ca_certs.
func (r *Renewal) client(m store.Metadata) (*acme.Client, error) {
	c, err := plan.ClientFor(m, r.CACerts)
	if err != nil {
		return nil, r.explain(exitcode.With(exitcode.Usage, &plan.BuildError{Key: "ca_certs", Err: err}))
	}
	return c, nil
}

// explain is Explain, if set.
func (r *Renewal) explain(err error) error {
	if r.Explain != nil {
		return r.Explain(err)
	}
	return err
}

// install is renewal.Run's Install: the outputs of the config file's
// settings (run), else of the stored ones.
func (r *Renewal) install(ctx context.Context, c *renewal.CertRun, cert *store.Certificate) error {
	s, ok := r.Conf.Settings[c.Name]
	if !ok {
		if s, ok, _ = plan.FromMetadata(cert.Meta); !ok {
			return nil
		}
	}
	h := r.Hooks
	h.Outputs = s.Outputs
	return h.Install(ctx, r.Output, r.Path, cert, false)
}

// job builds the order of one certificate: from the config file's settings
// (run), else from those stored with it, with this run's account and
// trust-root settings on top.
func (r *Renewal) job(c *renewal.CertRun) (*Job, error) {
	s, fromConfig, err := plan.SettingsFor(c, r.Conf.Settings)
	switch {
	case errors.Is(err, plan.ErrNoSettings):
		return nil, exitcode.With(exitcode.Usage, fmt.Errorf("%s was stored without its settings; order it once more with strictacme issue or strictacme run --config", c.Name))
	case err != nil:
		return nil, exitcode.With(exitcode.Usage, err)
	case fromConfig:
	default:
		if r.Refuse != nil {
			if err := r.Refuse(c.Name, c.Cert.Meta); err != nil {
				return nil, err
			}
		}
		s.Timeout = plan.Duration(r.Timeout)
	}
	s.CACerts = append(slices.Clone(s.CACerts), r.CACerts...)
	if r.Email != "" {
		s.Email = r.Email
	}
	if r.AcceptTOS {
		s.AcceptTOS = true
	}
	if r.EABKeyID != "" {
		s.EABKeyID, s.EABKeyEnv, s.EABKeyFile = r.EABKeyID, "", r.EABKeyFile
	}
	// A dry run's copy holds no acme-dns credentials: they are read
	// where they are.
	j, err := New(s, Options{Path: cmp.Or(r.dryFrom, r.Path), EABKey: r.EABKey, Log: lineWriter(r.Output), PollEvery: r.PollEvery, BeforeOrder: r.BeforeOrder})
	if err != nil {
		return nil, r.explain(err)
	}
	j.LockWait = r.LockWait
	j.Why = c.Order
	return j, nil
}
