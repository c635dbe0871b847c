package job

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/issue"
	"github.com/strictacme/strictacme/internal/plan"
	"github.com/strictacme/strictacme/internal/renewal"
	"github.com/strictacme/strictacme/internal/store"
)

// A dry run (--dry-run, as certbot's) runs the whole order (account, order,
// challenge records written through the provider and removed, propagation
// check, validation, finalize) against the staging CA of the configured CA
// when it has one (plan.DryRunDirectory), with a throwaway account and a
// throwaway state directory, and stores nothing: the state directory, the
// deploy outputs and the metrics file stay as they were, no deploy hook
// runs. The pre and post hooks run, as certbot's do.

// SetDryRun makes j a dry run: its order goes to the CA a dry run of its
// configured CA orders from, without "replaces", with a throwaway account
// (the configured external account binding only when that CA is the
// configured one). j.DryRun says which CA.
func (j *Job) SetDryRun() {
	if j.DryRun != nil {
		return
	}
	dir, same := plan.DryRunDirectory(j.Directory)
	j.DryRun = &renewal.DryRunCA{CA: plan.CAName(dir), Directory: dir, Configured: j.Directory, Staging: !same}
	j.Directory = dir
	if !same && j.EAB != nil {
		j.EAB = nil // an EAB key belongs to one CA's accounts
		j.DryRun.EABNotSent = true
	}
}

// DryRunLine is the log line that says which CA a dry run orders from.
func DryRunLine(ca *renewal.DryRunCA) string {
	if ca.Staging {
		eab := ""
		if ca.EABNotSent {
			eab = fmt.Sprintf("; the EAB key (--eab-kid) is not sent to %s: it binds accounts at %s only", ca.CA, plan.CAName(ca.Configured))
		}
		return fmt.Sprintf("dry run against %s (%s), the staging CA of %s%s; throwaway account and state, nothing stored", ca.CA, ca.Directory, plan.CAName(ca.Configured), eab)
	}
	if plan.CAStaging[ca.CA] == ca.CA {
		return fmt.Sprintf("dry run against %s (%s), the configured CA, itself a staging CA; throwaway account and state, nothing stored", ca.CA, ca.Directory)
	}
	return fmt.Sprintf("dry run against %s (%s), the configured CA: it has no staging CA; throwaway account and state, nothing stored", ca.CA, ca.Directory)
}

// runDry is Run of a dry run: the order between the pre and post hooks in a
// throwaway state directory, removed afterwards; no deploy.
func (j *Job) runDry(ctx context.Context, w io.Writer) (*Result, error) {
	start := time.Now()
	logf := lineWriter(w)
	logf(DryRunLine(j.DryRun))
	if j.Why != "" {
		logf(j.Settings.Name + ": " + j.Why)
	}
	res, err := j.Hooks.Around(ctx, w, j.Settings.Name, func() (*issue.Result, error) {
		tmp, err := dryRunState()
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		octx, cancel := context.WithTimeout(ctx, j.Settings.Timeout.D())
		defer cancel()
		res, err := j.ObtainLocked(octx, &store.Store{Root: tmp}, logf)
		if err == nil && res != nil && res.Certificate != nil {
			c := res.Certificate.Meta
			logf(fmt.Sprintf("dry run: certificate obtained (serial %s, not after %s) and discarded", c.Serial, c.NotAfter.Format(time.RFC3339)))
		}
		return res, err
	})
	err = exitcode.Interrupt(ctx, err)
	out := j.result(res, err)
	out.Certificate, out.Directory, out.DryRun = nil, j.DryRun.Directory, j.DryRun
	out.DurationMS = time.Since(start).Milliseconds()
	return out, err
}

// dryRunState makes a dry run's throwaway state directory (0700, in the
// system's temporary directory); the caller removes it.
func dryRunState() (string, error) {
	tmp, err := os.MkdirTemp("", "strictacme-dry-run-")
	if err != nil {
		return "", exitcode.With(exitcode.Failure, fmt.Errorf("dry run: temporary state directory: %w", err))
	}
	return tmp, nil
}

// doDry is Do of a dry run: every selected certificate (all the config
// file's, for run) is ordered now, due or not, with its settings, in a
// throwaway copy of the state directory; nothing is written to Path, not
// even the run lock, and no metrics file.
func (r *Renewal) doDry(ctx context.Context) (*renewal.Summary, error) {
	src := &store.Store{Root: r.Path}
	if r.Conf.Settings == nil {
		var err error
		if src, err = store.OpenExisting(r.Path); err != nil {
			return nil, exitcode.With(exitcode.Usage, err)
		}
	}
	// A real run would stop at a damaged journal: so does its rehearsal,
	// without repairing it.
	if err := plan.CheckJournal(src); err != nil {
		return nil, err
	}
	tmp, err := dryRunState()
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	if err := src.CopyCertificates(tmp); err != nil {
		return nil, exitcode.With(exitcode.Failure, fmt.Errorf("dry run: copying the certificates of %s: %w", r.Path, err))
	}
	d := *r
	d.dryFrom, d.Path = r.Path, tmp
	// Every selected certificate is ordered; the CA's renewal window is
	// not asked for (it is the configured CA's, about its certificates).
	d.orderAll, d.NoARI, d.Jitter, d.MetricsFile, d.LockWait = true, true, 0, "", false
	return d.Do(ctx)
}
