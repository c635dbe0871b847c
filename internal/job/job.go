// Package job runs one order for one certificate from its settings, the
// way issue, sandbox, run and renew all do: build the plan
// (internal/plan), take the store's run lock, order between the pre and
// post hooks, bring the deploy outputs up to date and run the deploy hook
// (internal/hooks, internal/deploy). Renewal (renewal.go) is the renew run
// of internal/renewal with each due certificate ordered as a Job.
//
// The package prints nothing of its own: results come back as values
// (Result, renewal.Summary) and log lines go to the writer or function the
// caller gives.
package job

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/issue"
	"github.com/strictacme/strictacme/internal/plan"
	"github.com/strictacme/strictacme/internal/renewal"
	"github.com/strictacme/strictacme/internal/steplog"
	"github.com/strictacme/strictacme/internal/store"
)

// Job is one order to run: the certificate's plan and how this run goes.
type Job struct {
	*plan.Plan
	// Path is the state directory.
	Path string
	// LockWait waits for another run holding the store's lock instead of
	// failing with exitcode.Locked.
	LockWait bool
	// PollEvery is the longest wait between two polls when the CA sends no
	// Retry-After; 0 means the order flow's default.
	PollEvery time.Duration
	Hooks     Hooks
	// Replaces is the ARI ID of the certificate being renewed (RFC 9773).
	Replaces string
	// Renewed marks an order that renews a stored certificate.
	Renewed bool
	// Why is why a stored certificate is ordered again, if it is.
	Why string
	// BeforeOrder, when set, sees the job before its order.
	BeforeOrder func(j *Job, logf func(string))
	// DryRun, set by SetDryRun, is the CA of a dry run (dryrun.go); nil
	// for a real order.
	DryRun *renewal.DryRunCA
}

// Options are what building a Job needs besides the settings.
type Options struct {
	// Path is the state directory.
	Path string
	// EABKey is an HMAC key given outside the settings (a flag).
	EABKey string
	// Lookup reads provider settings the settings do not hold; nil means
	// the environment.
	Lookup func(string) (string, bool)
	// Log receives the delegation decisions made while building.
	Log         func(string)
	PollEvery   time.Duration
	BeforeOrder func(j *Job, logf func(string))
	// CommandLine marks settings given on issue's command line: what they
	// leave out of a stored certificate of that name is kept
	// (plan.KeepStored), and a change of its identity is the reason to
	// order it again (Why). Given says whether the command line gave a
	// settings key (key_type, pre_hook, deploy_hook, post_hook), even as
	// ""; nil means none was.
	CommandLine bool
	Given       func(key string) bool
}

// New builds the plan of s (plan.Build, its errors unchanged) into a Job
// whose hooks and deploy outputs are the settings'. An empty Path, or an
// EABKey besides the settings' key file, is a *plan.ProblemsError.
func New(s plan.Settings, o Options) (*Job, error) {
	if ps := runProblems(o.Path, o.EABKey, s.EABKeyFile); len(ps) > 0 {
		return nil, &plan.ProblemsError{Problems: ps}
	}
	p, err := plan.Build(s, plan.BuildOptions{Path: o.Path, Lookup: o.Lookup, EABKey: o.EABKey, Log: o.Log, Logger: steplog.Logger(),
		KeepStored: o.CommandLine, Given: o.Given})
	if err != nil {
		return nil, err
	}
	j := &Job{Plan: p, Path: o.Path, Hooks: HooksOf(p.Settings), PollEvery: o.PollEvery, BeforeOrder: o.BeforeOrder}
	if o.CommandLine && o.Path != "" {
		if diff, stored := plan.Changes(&store.Store{Root: o.Path}, p.Settings); stored && len(diff) > 0 {
			j.Why = plan.ChangeReason("the command line", diff)
		}
	}
	return j, nil
}

// runProblems are the problems of the settings of a run that are not a
// certificate's: its state directory and an HMAC key given outside the
// settings (keys as plan.Problem names them).
func runProblems(path, eabKey, eabKeyFile string) []plan.Problem {
	var ps []plan.Problem
	if path == "" {
		ps = append(ps, plan.Problem{Key: "path", Msg: "empty; give a state directory"})
	}
	if eabKey != "" && eabKeyFile != "" {
		ps = append(ps, plan.Problem{Key: "eab_hmac_key", Msg: "give the HMAC key once: drop it or eab_hmac_key_file"})
	}
	return ps
}

// Obtain runs the order of j under the store's run lock (exitcode.Locked
// when another run holds it and LockWait is off), bounded by the settings'
// timeout.
func (j *Job) Obtain(ctx context.Context, logf func(string)) (*issue.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, j.Settings.Timeout.D())
	defer cancel()
	st, unlock, err := store.OpenLocked(ctx, j.Path, j.LockWait)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return j.ObtainLocked(ctx, st, logf)
}

// ObtainLocked runs the order of j with the run lock already held (a renew
// run holds it for all its certificates); what providers log goes to logf.
// Whatever failed once ctx was interrupted is the interrupt
// (exitcode.Interrupt), not a failure of that step.
func (j *Job) ObtainLocked(ctx context.Context, st *store.Store, logf func(string)) (*issue.Result, error) {
	defer steplog.Use(logf)()
	if j.BeforeOrder != nil {
		j.BeforeOrder(j, logf)
	}
	o := plan.OrderOptions{Replaces: j.Replaces, PollInterval: j.PollEvery, Log: logf}
	if j.DryRun != nil {
		// The stored certificate is the configured CA's; a dry run
		// replaces nothing.
		o.Replaces, o.ThrowawayAccount = "", true
	}
	res, err := j.Order(ctx, st, o)
	return res, exitcode.Interrupt(ctx, err)
}

// Run is the single order of issue and sandbox: the order between the pre
// and post hooks, then the deploy outputs and the deploy hook (a dry run
// deploys nothing: dryrun.go). A new certificate starts with a clean
// renewal history. Log lines and hook output go to w. The Result is never
// nil; the error carries the exit code.
func (j *Job) Run(ctx context.Context, w io.Writer) (*Result, error) {
	if j.DryRun != nil {
		return j.runDry(ctx, w)
	}
	start := time.Now()
	logf := lineWriter(w)
	// The run lock is held from before the pre hook until after the post
	// hook: another run on the same state must not replace the
	// certificate while its deploy outputs and hooks are being written.
	lockCtx, cancel := context.WithTimeout(ctx, j.Settings.Timeout.D())
	st, unlock, err := store.OpenLocked(lockCtx, j.Path, j.LockWait)
	cancel()
	if err != nil {
		out := j.result(nil, err)
		out.DurationMS = time.Since(start).Milliseconds()
		return out, err
	}
	defer unlock()
	if j.Why != "" {
		logf(j.Settings.Name + ": " + j.Why)
	}
	res, err := j.Hooks.Around(ctx, w, j.Settings.Name, func() (*issue.Result, error) {
		octx, cancel := context.WithTimeout(ctx, j.Settings.Timeout.D())
		defer cancel()
		res, err := j.ObtainLocked(octx, st, logf)
		if err == nil && res != nil && res.Certificate != nil && !j.Renewed {
			_ = os.Remove(filepath.Join((&store.Store{Root: j.Path}).CertDir(res.Certificate.Name), renewal.StateFile))
		}
		if err == nil && res != nil && res.Certificate != nil {
			err = j.Hooks.DeployCert(ctx, w, j.Path, res.Certificate, j.Renewed)
			j.record(ctx, res.Certificate.Name, err, logf)
		}
		return res, err
	})
	err = exitcode.Interrupt(ctx, err)
	out := j.result(res, err)
	out.DurationMS = time.Since(start).Milliseconds()
	return out, err
}

// record writes the outcome of a stored order and its deploy into the
// certificate's renewal state, as a renew run does: "ok", or "hook-failed"
// with the deploy's error, so that list shows a deploy that did not
// happen. An interrupted deploy records nothing, as in a renew run.
func (j *Job) record(ctx context.Context, name string, deployErr error, logf func(string)) {
	if deployErr != nil && exitcode.Interrupted(ctx) {
		return
	}
	dir := (&store.Store{Root: j.Path}).CertDir(name)
	s, err := renewal.LoadState(dir)
	if err != nil {
		s = &renewal.State{}
	}
	s.LastAttempt = time.Now().UTC()
	s.Stored(s.LastAttempt)
	if deployErr != nil {
		s.DeployFailed(deployErr)
	}
	if err := renewal.SaveState(dir, s); err != nil {
		logf(name + ": saving the renewal state: " + err.Error())
	}
}

// Result is the outcome of one order (the --json output of issue and
// sandbox).
type Result struct {
	OK          bool           `json:"ok"`
	ExitCode    int            `json:"exit_code"`
	Error       string         `json:"error,omitempty"`
	Name        string         `json:"name"` // the certificate's name, as in list and renew
	Names       []string       `json:"names"`
	Directory   string         `json:"ca_directory"`
	Reordered   string         `json:"reordered,omitempty"`
	NotDue      string         `json:"not_due,omitempty"` // stored and not due: nothing ordered (NotDue)
	Certificate *CertFiles     `json:"certificate,omitempty"`
	Records     []issue.Record `json:"records,omitempty"`
	Stats       *issue.Stats   `json:"stats,omitempty"`
	// DryRun is the CA a dry run ordered from; Directory is then its
	// directory and Certificate is nil (nothing stored).
	DryRun     *renewal.DryRunCA `json:"dry_run,omitempty"`
	DurationMS int64             `json:"duration_ms"`
}

// WriteText writes out as one line: where the certificate is stored, or
// that a dry run discarded it; nothing for a failed run.
func (out *Result) WriteText(w io.Writer) {
	switch {
	case out.DryRun != nil && out.OK:
		fmt.Fprintf(w, "dry run: certificate for %s obtained from %s and discarded; nothing stored\n", strings.Join(out.Names, ", "), out.DryRun.CA)
	case out.Certificate != nil:
		fmt.Fprintf(w, "certificate for %s in %s (not after %s)\n", strings.Join(out.Names, ", "), out.Certificate.Dir, out.Certificate.NotAfter.Format(time.RFC3339))
	}
}

// CertFiles are the stable paths and the facts of a stored certificate.
// Privkey is empty and CSR set for a certificate of the operator's CSR.
type CertFiles struct {
	Dir       string    `json:"dir"`
	Privkey   string    `json:"privkey"`
	CSR       string    `json:"csr,omitempty"`
	Cert      string    `json:"cert"`
	Chain     string    `json:"chain"`
	Fullchain string    `json:"fullchain"`
	Serial    string    `json:"serial"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	Issuer    string    `json:"issuer"`
	ARICertID string    `json:"ari_cert_id,omitempty"`
}

// FilesOf returns the paths and facts of c as stored under root.
func FilesOf(root string, c *store.Certificate) *CertFiles {
	dir := (&store.Store{Root: root}).CertDir(c.Name)
	f := &CertFiles{
		Dir: dir, Privkey: filepath.Join(dir, store.PrivkeyFile), Cert: filepath.Join(dir, store.CertFile),
		Chain: filepath.Join(dir, store.ChainFile), Fullchain: filepath.Join(dir, store.FullchainFile),
		Serial: c.Meta.Serial, NotBefore: c.Meta.NotBefore, NotAfter: c.Meta.NotAfter, Issuer: c.Meta.Issuer, ARICertID: c.Meta.ARICertID,
	}
	if c.Meta.CSR {
		f.Privkey, f.CSR = "", filepath.Join(dir, store.CSRFile)
	}
	return f
}

func (j *Job) result(res *issue.Result, err error) *Result {
	out := &Result{OK: err == nil, ExitCode: exitcode.Of(err), Name: j.Settings.Name, Directory: j.Directory, Reordered: j.Why}
	for _, id := range j.Identifiers {
		out.Names = append(out.Names, id.ASCII)
	}
	if err != nil {
		out.Error = err.Error()
	}
	if res != nil {
		out.Records, out.Stats = res.Records, &res.Stats
		if c := res.Certificate; c != nil {
			out.Certificate = FilesOf(j.Path, c)
		}
	}
	return out
}

// NotDue is issue's check before it orders: when the certificate j orders
// is stored with the same identity and renewal does not find it due
// (plan.StoredDecision), done is true and out says when it falls due and
// where the stored certificate is; nothing is ordered, so a job calling
// issue daily keeps clear of the CA's duplicate-certificate limit. When it
// is due, j becomes its renewal (ARI "replaces", the renewal state kept)
// and done is false, as it is when no such certificate is stored.
func (j *Job) NotDue(now time.Time) (out *Result, done bool, err error) {
	if j.DryRun != nil { // a dry run orders whatever is stored
		return nil, false, nil
	}
	st := &store.Store{Root: j.Path}
	d, stored, err := plan.StoredDecision(st, j.Settings, now)
	if err != nil || !stored {
		return nil, false, err
	}
	if d.Due {
		j.Replaces, j.Renewed, j.Why = d.Replaces, true, "due: "+d.Reason
		return nil, false, nil
	}
	c, err := st.LoadCertificate(j.Settings.Name)
	if err != nil {
		return nil, false, nil
	}
	at := d.At.UTC().Format(time.RFC3339)
	why := "renewal at " + at + ": " + d.Reason
	if strings.Contains(d.Reason, at) { // the reason names the time already
		why = d.Reason
	}
	return &Result{
		OK: true, Name: c.Name, Names: c.Meta.Names, Directory: c.Meta.Directory, Certificate: FilesOf(j.Path, c),
		NotDue: fmt.Sprintf("%s is stored and not due (%s); nothing ordered; --force orders anyway", c.Name, why),
	}, true, nil
}
