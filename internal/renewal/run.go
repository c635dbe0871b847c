package renewal

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mholt/acmez/v3/acme"

	"github.com/strictacme/strictacme/internal/deploy"
	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/hooks"
	"github.com/strictacme/strictacme/internal/store"
)

// Status of one certificate in a run.
const (
	StatusNotDue     = "not-due"
	StatusRenewed    = "renewed"
	StatusIssued     = "issued"
	StatusFailed     = "failed"
	StatusDeferred   = "deferred" // rate limited earlier; retry time not reached
	StatusHookFailed = "hook-failed"
	// StatusDeployFailed: not ordered, but bringing its deploy outputs up
	// to date failed.
	StatusDeployFailed = "deploy-failed"
	// StatusInterrupted: SIGINT or SIGTERM arrived during its order or
	// deploy (exitcode.Interrupted); nothing of it is recorded as a
	// failure.
	StatusInterrupted = "interrupted"
	// StatusNotReached: due, but the run was interrupted before its order.
	StatusNotReached = "not-reached"
)

// CertRun is one certificate in a run (and the --json output).
type CertRun struct {
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
	// DryRun is set by a dry run's order: the CA it ordered from.
	DryRun *DryRunCA `json:"dry_run,omitempty"`
	// NotIssued marks a failed certificate that was never issued (its
	// first order failed): nothing is stored under its name.
	NotIssued bool `json:"not_issued,omitempty"`

	// Cert is the stored certificate (nil when none is stored yet).
	Cert     *store.Certificate `json:"-"`
	State    *State             `json:"-"`
	Decision Decision           `json:"-"`
	Err      error              `json:"-"`
	// Order is why the certificate is ordered whatever its dates say (not
	// stored yet, or its configured names, key type or profile changed).
	Order string `json:"-"`
	// stored: a certificate of this name is in the store (perhaps
	// unreadable); false for one never issued.
	stored bool
}

// DryRunCA is the CA a dry run (--dry-run) ordered from in place of the
// configured one (plan.DryRunDirectory).
type DryRunCA struct {
	// CA is the directory's preset name, else its host (plan.CAName).
	CA string `json:"ca"`
	// Directory is the directory URL ordered from.
	Directory string `json:"ca_directory"`
	// Configured is the directory URL of the certificate's settings.
	Configured string `json:"configured_ca_directory"`
	// Staging reports that Directory is Configured's staging CA, not the
	// configured CA itself.
	Staging bool `json:"staging"`
	// EABNotSent reports that the certificate's external account binding
	// was left out: it binds accounts at the configured CA, not at its
	// staging CA.
	EABNotSent bool `json:"eab_not_sent,omitempty"`
}

// Summary is the result of a run.
type Summary struct {
	OK       bool   `json:"ok"`
	ExitCode int    `json:"exit_code"`
	Error    string `json:"error,omitempty"`
	Due      int    `json:"due"`
	// Renewed counts every certificate obtained in the run: renewals and
	// the Issued ones (its meaning since the first release, kept for the
	// scripts that read it).
	Renewed int `json:"renewed"`
	// Issued counts, of Renewed, the certificates ordered as new: not
	// stored before, or ordered anew after their names, key type or
	// profile changed.
	Issued int `json:"issued"`
	// Failed counts the certificates whose order (or renewal state)
	// failed; NotIssued of them had never been issued.
	Failed       int        `json:"failed"`
	NotIssued    int        `json:"not_issued"`
	Certificates []*CertRun `json:"certificates"`
	DurationMS   int64      `json:"duration_ms"`
}

// Run renews the stored certificates that are due, under the store's run
// lock (the caller holds it): select, sweep leftovers, decide (ARI first),
// pre hook, one order per due certificate (again without "replaces" when
// the CA says the certificate was already replaced), deploy hooks, post
// hook, state. Certificates in Order are ordered whatever their dates say.
type Run struct {
	Store *store.Store
	// Dir is the state directory named in messages; Store.Root if empty
	// (a dry run's Store is a throwaway copy of Dir).
	Dir string
	// Names limits the run to these stored certificates; nil means all.
	Names []string
	// Order lists certificates to order now, stored or not, with the
	// reason; they join the run's selection.
	Order map[string]OrderReason
	// Force orders every selected certificate, due or not, deferred or
	// not, and over a damaged renewal state.
	Force bool
	// OrderAll orders every selected certificate, due or not, deferred or
	// not (a dry run); unlike Force, a damaged renewal state still fails
	// its certificate, as it would in the run rehearsed.
	OrderAll bool
	NoARI    bool
	// DryRun says in the log that an order's certificate is a dry run's,
	// discarded with the run's throwaway state.
	DryRun bool
	// Jitter waits a random time up to this long before the first order.
	Jitter time.Duration
	// Now is the clock of decisions (time.Now if nil).
	Now func() time.Time
	// Log receives one line per event.
	Log func(string)
	// Debug, when set, receives the lines only wanted when looking
	// closely (a certificate that is not due) instead of Log: a run with
	// nothing due then logs one line, "nothing due".
	Debug func(string)
	// PreHook and PostHook run once around the orders of a run, only when
	// something is due; Hooks runs them.
	PreHook, PostHook string
	Hooks             hooks.Runner
	// Client returns an ACME client for the CA of a stored certificate.
	Client func(store.Metadata) (*acme.Client, error)
	// Skip, when it returns true, decides a certificate without the CA
	// (one that cannot be renewed, such as the sandbox's).
	Skip func(store.Metadata) (Decision, bool)
	// Issue orders one certificate (r.Cert nil: not stored yet) with
	// replaces as the ARI "replaces" value, and returns what was stored.
	Issue func(ctx context.Context, r *CertRun, replaces string, logf func(string)) (*store.Certificate, error)
	// Deploy runs the deploy outputs and the deploy hook of a certificate
	// just stored.
	Deploy func(ctx context.Context, r *CertRun, c *store.Certificate) error
	// Install brings the deploy outputs (internal/deploy) of a stored
	// certificate that was not ordered in this run up to date, so that an
	// output added since, or one that failed, is done now; nil: none.
	Install func(ctx context.Context, r *CertRun, c *store.Certificate) error
	// Sweep removes the challenge records of interrupted runs; an error
	// (a damaged journal) stops the run before any request.
	Sweep func(ctx context.Context, runs []*CertRun) error
}

// rateLimited is an order refused by a CA rate limit (issue.RateLimitedError).
type rateLimited interface {
	error
	RateLimitedUntil() time.Time
}

// OrderReason is why a certificate is ordered outside the renewal rules.
type OrderReason struct {
	Names  []string
	Reason string
}

// Do runs r. The summary lists every certificate; the error, when not nil,
// carries the exit code of the first failure (exitcode.Hook when only hooks
// failed).
func (r *Run) Do(ctx context.Context) (*Summary, error) {
	start := time.Now()
	if r.Now == nil {
		r.Now = time.Now
	}
	runs, err := r.selectCerts()
	if err != nil {
		return nil, err
	}
	if r.Sweep != nil {
		if err := r.Sweep(ctx, runs); err != nil {
			return nil, err
		}
	}
	var due []*CertRun
	for _, c := range runs {
		var damaged *StateDamagedError
		if errors.As(c.Err, &damaged) && r.Force {
			r.Log(fmt.Sprintf("%s: warning: %v; renewing anyway (--force)", c.Name, c.Err))
			c.State, c.Err = &State{}, nil
		}
		if c.Err == nil {
			r.decide(ctx, c)
		}
		if c.Err != nil {
			c.Status, c.Error, c.ExitCode = StatusFailed, c.Err.Error(), exitcode.Of(c.Err)
			r.Log(fmt.Sprintf("%s: %v", c.Name, c.Err))
			continue
		}
		switch {
		case !c.Decision.Due:
			c.Status = StatusNotDue
			r.debug(fmt.Sprintf("%s: not due: %s", c.Name, c.Decision.Reason))
		case c.Order == "" && !r.Force && !r.OrderAll && c.State.RetryAfter.After(r.Now()):
			c.Status, c.RetryAfter = StatusDeferred, c.State.RetryAfter
			r.Log(fmt.Sprintf("%s: due (%s), but the CA asked to wait until %s; skipped", c.Name, c.Decision.Reason, c.State.RetryAfter.UTC().Format(time.RFC3339)))
		default:
			r.Log(fmt.Sprintf("%s: due: %s", c.Name, c.Decision.Reason))
			due = append(due, c)
		}
	}
	if len(due) > 0 {
		if j := Jitter(r.Jitter); j > 0 {
			r.Log(fmt.Sprintf("jitter: waiting %s before the first order", j.Round(time.Second)))
			t := time.NewTimer(j)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, exitcode.With(exitcode.Canceled, ctx.Err())
			case <-t.C:
			}
		}
		r.renewDue(ctx, due)
	} else if !slices.ContainsFunc(runs, func(c *CertRun) bool { return c.Status == StatusFailed }) {
		r.Log("nothing due")
	}
	r.install(ctx, runs)
	sum := &Summary{OK: true, Due: len(due), Certificates: runs}
	var firstErr, hookErr error
	var failures []string
	interrupted := exitcode.Interrupted(ctx)
	for _, c := range runs {
		switch c.Status {
		case StatusRenewed, StatusIssued:
			sum.Renewed++
			if c.Status == StatusIssued {
				sum.Issued++
			}
		case StatusHookFailed, StatusDeployFailed:
			if c.Status == StatusHookFailed {
				// Obtained; only a hook after it failed.
				sum.Renewed++
				if c.Order != "" {
					sum.Issued++
				}
			}
			if hookErr == nil {
				hookErr = c.Err
			}
			failures = append(failures, c.Name+": "+c.Error)
		case StatusFailed:
			sum.Failed++
			if !c.stored {
				c.NotIssued = true
				sum.NotIssued++
			}
			if firstErr == nil {
				firstErr = c.Err
			}
			failures = append(failures, c.Name+": "+c.Error)
		}
	}
	sum.DurationMS = time.Since(start).Milliseconds()
	if interrupted {
		// One error for the run, whatever the steps cut short returned.
		err := exitcode.Interrupt(ctx, exitcode.ErrInterrupted)
		if len(failures) > 0 {
			err = exitcode.With(exitcode.Canceled, fmt.Errorf("%w; %s", exitcode.ErrInterrupted, strings.Join(failures, "; ")))
		}
		sum.OK, sum.ExitCode, sum.Error = false, exitcode.Canceled, err.Error()
		return sum, err
	}
	if firstErr == nil && hookErr == nil {
		return sum, nil
	}
	code := exitcode.Hook
	if firstErr != nil {
		code = exitcode.Of(firstErr)
	}
	msg := failures[0]
	if len(failures) > 1 {
		msg = fmt.Sprintf("%d certificates failed: %s", len(failures), strings.Join(failures, "; "))
	}
	sum.OK, sum.ExitCode, sum.Error = false, code, msg
	return sum, exitcode.With(code, errors.New(msg))
}

// NotDue counts the certificates of s not due or deferred to the CA's
// retry time.
func (s *Summary) NotDue() int {
	n := 0
	for _, c := range s.Certificates {
		if c.Status == StatusNotDue || c.Status == StatusDeferred {
			n++
		}
	}
	return n
}

// Text is the run's one-line tally for a person: "issued 1, renewed 2,
// failed 1, not due 5", the failures of certificates never issued named
// as such ("failed 2 (never issued: 2)"). "" when nothing was obtained
// and nothing failed (the log said "nothing due").
func (s *Summary) Text() string {
	if s.Renewed == 0 && s.Failed == 0 {
		return ""
	}
	failed := strconv.Itoa(s.Failed)
	if s.NotIssued > 0 {
		failed += fmt.Sprintf(" (never issued: %d)", s.NotIssued)
	}
	return fmt.Sprintf("issued %d, renewed %d, failed %s, not due %d", s.Issued, s.Renewed-s.Issued, failed, s.NotDue())
}

// install runs Install for every stored certificate of runs that was not
// ordered (not due, deferred).
func (r *Run) install(ctx context.Context, runs []*CertRun) {
	if r.Install == nil {
		return
	}
	for _, c := range runs {
		if c.Cert == nil || c.Status != StatusNotDue && c.Status != StatusDeferred || ctx.Err() != nil {
			continue
		}
		if err := r.Install(ctx, c, c.Cert); err != nil {
			c.Err = err
			c.Status, c.Error, c.ExitCode = StatusDeployFailed, err.Error(), exitcode.Hook
			r.Log(fmt.Sprintf("%s: %v; the certificate is kept", c.Name, err))
		}
	}
}

// Fail records a run-level failure (e.g. the metrics file) in sum.
func (s *Summary) Fail(err error) error {
	msg := err.Error()
	if s.Error != "" {
		msg = s.Error + "; " + msg
	}
	code := s.ExitCode
	if s.OK || code == exitcode.Hook {
		code = exitcode.Of(err)
	}
	s.OK, s.ExitCode, s.Error = false, code, msg
	return exitcode.With(code, errors.New(msg))
}

// selectCerts lists the stored certificates (or Names) and those of Order,
// and loads each; a name in Names that is not stored is a usage error.
func (r *Run) selectCerts() ([]*CertRun, error) {
	stored, err := r.Store.ListCertificates()
	if err != nil {
		return nil, err
	}
	names := stored
	if len(r.Names) > 0 {
		for _, n := range r.Names {
			if _, ordered := r.Order[n]; !slices.Contains(stored, n) && !ordered {
				return nil, exitcode.With(exitcode.Usage, fmt.Errorf("--cert-name %q: no such certificate in %s (stored: %s)", n, cmp.Or(r.Dir, r.Store.Root), strings.Join(stored, ", ")))
			}
		}
		names = r.Names
	}
	for n := range r.Order {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	var runs []*CertRun
	for _, n := range names {
		c := &CertRun{Name: n, stored: slices.Contains(stored, n)}
		runs = append(runs, c)
		if o, ok := r.Order[n]; ok {
			c.Order, c.Names = o.Reason, o.Names
		}
		if !c.stored {
			// A first order that failed before left its state (last
			// error, failed attempts) in the certificate's folder.
			if c.State, _ = LoadState(r.Store.CertDir(n)); c.State == nil {
				c.State = &State{}
			}
			continue
		}
		if c.Cert, c.Err = r.Store.LoadCertificate(n); c.Err != nil {
			continue
		}
		c.Names, c.NotAfter, c.Serial = c.Cert.Meta.Names, c.Cert.Meta.NotAfter, c.Cert.Meta.Serial
		c.State, c.Err = LoadState(r.Store.CertDir(n))
		var damaged *StateDamagedError
		if errors.As(c.Err, &damaged) && r.Dir != "" {
			// A dry run's copy is gone when the message is read: name the
			// file to delete where it is.
			if rel, err := filepath.Rel(r.Store.Root, damaged.Path); err == nil && !strings.HasPrefix(rel, "..") {
				damaged.Path = filepath.Join(r.Dir, rel)
			}
		}
	}
	return runs, nil
}

// decide refreshes the stored ARI answer when its Retry-After has passed
// and decides whether c is due.
func (r *Run) decide(ctx context.Context, c *CertRun) {
	defer func() {
		c.Source, c.Reason, c.Replaces, c.DueAt = string(c.Decision.Source), c.Decision.Reason, c.Decision.Replaces, c.Decision.At
	}()
	if c.Order != "" && c.Cert == nil {
		c.Decision = Decision{Due: true, Source: SourceConfig, Reason: c.Order}
		return
	}
	m := c.Cert.Meta
	if r.Skip != nil {
		if d, skip := r.Skip(m); skip {
			c.Decision = d
			return
		}
	}
	if c.Order != "" {
		// A changed certificate is ordered anew, not as a replacement.
		c.Decision = Decision{Due: true, Source: SourceConfig, Reason: c.Order, At: r.Now()}
		return
	}
	certID := m.ARICertID
	if r.NoARI {
		certID = ""
	}
	revoked := c.State.RevokedAt(m.Serial)
	if revoked.IsZero() && NeedsFetch(r.Now(), certID, c.State.ARI) {
		client, err := r.Client(m)
		if err == nil {
			var a *ARI
			a, err = Fetch(ctx, client, c.Cert.Leaf, certID, r.Now(), time.Now, c.State.ARI)
			if err == nil {
				c.State.ARI = a
				if err := SaveState(r.Store.CertDir(c.Name), c.State); err != nil {
					r.Log(fmt.Sprintf("%s: saving the renewal state: %v", c.Name, err))
				}
			}
		}
		if err != nil {
			r.Log(fmt.Sprintf("%s: ARI: %v; deciding by the certificate's lifetime", c.Name, err))
		}
	}
	ari := c.State.ARI
	if r.NoARI {
		ari = nil
	}
	c.Decision = Decide(r.Now(), Cert{NotBefore: m.NotBefore, NotAfter: m.NotAfter, ARICertID: m.ARICertID}, ari, r.Force || r.OrderAll, revoked)
}

// renewDue runs the pre hook, every due order, the deploy hooks and the
// post hook.
func (r *Run) renewDue(ctx context.Context, due []*CertRun) {
	var names []string
	for _, c := range due {
		names = append(names, c.Name)
	}
	preErr, postErr := Around(ctx, r.Hooks, r.PreHook, r.PostHook, names, func() (renewed, failed []string) {
		for _, c := range due {
			if ctx.Err() != nil {
				break
			}
			r.renewOne(ctx, c)
			switch c.Status {
			case StatusFailed:
				failed = append(failed, c.Name)
			case StatusInterrupted:
			default:
				renewed = append(renewed, c.Name)
			}
		}
		return renewed, failed
	})
	if exitcode.Interrupted(ctx) {
		// Not a failure of any certificate: those not ordered say so, and
		// a hook the interrupt stopped (or never started) fails nothing.
		for _, c := range due {
			if c.Status == "" {
				c.Status, c.ExitCode = StatusNotReached, exitcode.Canceled
				c.Error = "not ordered: " + exitcode.ErrInterrupted.Error()
			}
		}
		if err := cmp.Or(preErr, postErr); err != nil {
			r.Log(fmt.Sprintf("strictacme: %v", exitcode.Interrupt(ctx, err)))
		}
		return
	}
	if preErr != nil {
		for _, c := range due {
			c.Err = preErr
			c.Status, c.Error, c.ExitCode = StatusFailed, "not renewed: "+preErr.Error(), exitcode.Hook
		}
		r.Log("strictacme: " + preErr.Error() + "; no certificate renewed")
		return
	}
	if postErr != nil {
		r.Log("strictacme: " + postErr.Error())
		// Reported on the last renewed certificate so the exit code says Hook.
		for i := len(due) - 1; i >= 0; i-- {
			if c := due[i]; c.Status == StatusRenewed || c.Status == StatusIssued {
				c.Status, c.Err, c.Error, c.ExitCode = StatusHookFailed, postErr, postErr.Error(), exitcode.Hook
				break
			}
		}
	}
}

// PostHookGrace bounds the post hook that runs after an interrupt (SIGINT,
// SIGTERM), when the run's own context is already done.
const PostHookGrace = 2 * time.Minute

// Around is the one place hooks wrap the orders of a run (renew, run and
// issue): the pre hook, then orders unless it failed, then the post hook
// with the names renewed and failed. Both hooks see the names due.
//
// An interrupt during the orders still runs the post hook, on a context
// of its own bounded by PostHookGrace (and h.Timeout): a pre hook that
// stopped a service to free a port must not leave it stopped.
func Around(ctx context.Context, h hooks.Runner, pre, post string, due []string, orders func() (renewed, failed []string)) (preErr, postErr error) {
	if err := h.Run(ctx, hooks.Pre, "", pre, hooks.RunEnv(hooks.Pre, due, nil, nil)); err != nil {
		return err, nil
	}
	renewed, failed := orders()
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), PostHookGrace)
		defer cancel()
	}
	return nil, h.Run(ctx, hooks.Post, "", post, hooks.RunEnv(hooks.Post, due, renewed, failed))
}

// AroundOne runs the single order of issue between the pre and post hooks
// (Around): a failing pre hook is the error and the order is not run; a
// failing post hook is the error only when the order succeeded, else it
// goes to logf and the order's error is returned. order reports whether it
// stored a certificate.
func AroundOne(ctx context.Context, h hooks.Runner, pre, post, name string, order func() (stored bool, err error), logf func(string)) error {
	var err error
	preErr, postErr := Around(ctx, h, pre, post, []string{name}, func() (renewed, failed []string) {
		var stored bool
		if stored, err = order(); stored {
			return []string{name}, nil
		}
		return nil, []string{name}
	})
	switch {
	case preErr != nil:
		return preErr
	case err == nil:
		return postErr
	case postErr != nil:
		logf("strictacme: " + postErr.Error())
	}
	return err
}

func (r *Run) renewOne(ctx context.Context, c *CertRun) {
	t0 := time.Now()
	c.State.LastAttempt = r.Now().UTC()
	prefixed := func(line string) { r.Log(c.Name + ": " + line) }
	replaces := c.Decision.Replaces
	res, err := r.Issue(ctx, c, replaces, prefixed)
	var prob acme.Problem
	if err != nil && replaces != "" && errors.As(err, &prob) && prob.Type == acme.ProblemTypeAlreadyReplaced {
		prefixed("the CA says the certificate was already replaced; ordering without \"replaces\"")
		res, err = r.Issue(ctx, c, "", prefixed)
	}
	c.DurationMS = time.Since(t0).Milliseconds()
	c.State.LastDurationSeconds = time.Since(t0).Seconds()
	if err != nil && exitcode.Interrupted(ctx) {
		// Its renewal state stays as it was: the order did not fail.
		c.Err = exitcode.Interrupt(ctx, err)
		c.Status, c.Error, c.ExitCode = StatusInterrupted, c.Err.Error(), exitcode.Canceled
		r.Log(fmt.Sprintf("%s: %v; nothing recorded", c.Name, c.Err))
		return
	}
	if err != nil {
		c.Err = err
		c.Status, c.Error, c.ExitCode = StatusFailed, err.Error(), exitcode.Of(err)
		c.State.LastResult, c.State.LastError = "error", err.Error()
		c.State.Errors++
		var rl rateLimited
		if errors.As(err, &rl) {
			c.State.LastResult = "rate-limited"
			c.State.RetryAfter = rl.RateLimitedUntil()
			c.RetryAfter = rl.RateLimitedUntil()
		}
		if c.Cert != nil {
			r.Log(fmt.Sprintf("%s: renewal failed; the current certificate stays in place: %v", c.Name, err))
		} else {
			r.Log(fmt.Sprintf("%s: order failed: %v", c.Name, err))
		}
		r.saveState(c)
		return
	}
	status, verb := StatusRenewed, "renewed"
	if c.Order != "" {
		status, verb = StatusIssued, "issued"
		// A new certificate starts with a clean history, this attempt
		// aside.
		c.State = &State{LastAttempt: c.State.LastAttempt, LastDurationSeconds: c.State.LastDurationSeconds}
	}
	c.Status, c.Serial, c.NotAfter, c.Names = status, res.Meta.Serial, res.Meta.NotAfter, res.Meta.Names
	c.State.Stored(r.Now().UTC())
	c.State.ARI = nil
	// Ask for the new certificate's window now, so that the next runs
	// decide without contacting the CA until its Retry-After.
	if !r.NoARI && res.Meta.ARICertID != "" && res.Leaf != nil {
		if client, err := r.Client(res.Meta); err == nil {
			if a, err := Fetch(ctx, client, res.Leaf, res.Meta.ARICertID, r.Now(), time.Now, nil); err == nil {
				c.State.ARI = a
			}
		}
	}
	if r.DryRun {
		verb = "dry run: " + verb + ", the test certificate is discarded"
	}
	r.Log(fmt.Sprintf("%s: %s (serial %s, not after %s)", c.Name, verb, res.Meta.Serial, res.Meta.NotAfter.Format(time.RFC3339)))
	if r.Deploy != nil {
		if err := r.Deploy(ctx, c, res); err != nil && exitcode.Interrupted(ctx) {
			// Stored, deploy cut short: not a failed hook.
			c.Err = exitcode.Interrupt(ctx, err)
			c.Status, c.Error, c.ExitCode = StatusInterrupted, "stored; deploy "+c.Err.Error(), exitcode.Canceled
			r.Log(fmt.Sprintf("%s: %v; the new certificate is stored, its deploy did not finish", c.Name, c.Err))
		} else if err != nil {
			c.Err = err
			c.Status, c.Error, c.ExitCode = StatusHookFailed, err.Error(), exitcode.Hook
			c.State.DeployFailed(err)
			r.Log(fmt.Sprintf("%s: %v; the new certificate is stored", c.Name, err))
		}
	}
	r.saveState(c)
}

// saveState writes c's state next to its certificate. A first order that
// failed has no folder yet: it is made for the state alone, so that list
// shows the failure and the next run counts it (store.ListAttempted).
func (r *Run) saveState(c *CertRun) {
	dir := r.Store.CertDir(c.Name)
	err := store.CheckCertName(c.Name)
	if err == nil && c.Cert == nil {
		err = os.MkdirAll(dir, 0o700)
	}
	if err == nil {
		err = SaveState(dir, c.State)
	}
	if err != nil {
		r.Log(fmt.Sprintf("%s: saving the renewal state: %v", c.Name, err))
	}
}

// DeployEnvOf is the deploy hook environment of a stored certificate under
// root; o are its deploy outputs (the combined PEM and PKCS#12 paths are
// announced when set).
func DeployEnvOf(root string, c *store.Certificate, renewed bool, o deploy.Outputs) []string {
	if abs, err := filepath.Abs(root); err == nil {
		root = abs
	}
	dir := (&store.Store{Root: root}).CertDir(c.Name)
	o = o.Abs()
	return hooks.DeployEnv(hooks.Cert{
		Name: c.Name, Domains: c.Meta.Names, Dir: dir, Serial: c.Meta.Serial,
		NotBefore: c.Meta.NotBefore, NotAfter: c.Meta.NotAfter, Renewed: renewed, Replaced: c.Meta.Replaced,
		KeyType: c.Meta.KeyType, Directory: c.Meta.Directory, PEMPath: o.PEMFile, PKCS12Path: o.PKCS12File,
		NoKey: c.Meta.CSR,
	})
}

// debug is r.Debug, else r.Log.
func (r *Run) debug(line string) {
	if r.Debug != nil {
		r.Debug(line)
		return
	}
	r.Log(line)
}
