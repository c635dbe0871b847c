package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/job"
	"github.com/strictacme/strictacme/internal/names"
	"github.com/strictacme/strictacme/internal/plan"
)

// Session is one run of "strictacme sandbox": the command's certificate,
// checked before anything starts, then ordered exactly as issue orders it
// from a sandbox started for it.
type Session struct {
	// Names are the certificate's names (DefaultNames when none), CSR
	// the certificate signing request file whose names count when Names
	// is empty, Profile its profile ("" for the sandbox's default).
	Names   []string
	CSR     string
	Profile string
	// Path is the state directory: it must hold nothing of another CA
	// (CheckState).
	Path string
	// Force orders even when a certificate of the same name, names and
	// key type is stored and not due.
	Force bool
	// Plan builds the job of the command's settings ordered at t.
	Plan func(t Target) (*job.Job, error)
	Now  func() time.Time
	// Log receives the sandbox's lines and those of the order.
	Log io.Writer

	// Job is the job Run built; RootFile is the sandbox CA's root, which
	// the stored certificate chains to.
	Job      *job.Job
	RootFile string
}

// Check refuses what the sandbox cannot order: names outside its zones
// (problem key names, or csr for the CSR's), a profile its CA lacks (key
// profile), every settings problem of Plan for a sandbox not started yet,
// and a Path holding another CA's certificates or accounts (key path).
// Nothing is started or written.
func (s *Session) Check() error {
	// With a CSR and no names, the CSR's names must be in the zones (a
	// CSR that cannot be read is left to the plan, which names --csr).
	given, key := s.Names, "names"
	if len(given) == 0 && s.CSR != "" {
		given, key = plan.Settings{CSR: s.CSR}.WithCSRNames().Names, "csr"
	}
	var ps []plan.Problem
	if len(given) > 0 || s.CSR == "" {
		ids, err := names.ParseAll(given)
		if err != nil {
			return exitcode.With(exitcode.Usage, err)
		}
		if err := CheckNames(ids); err != nil {
			ps = append(ps, plan.Problem{Key: key, Msg: err.Error()})
		}
	}
	if err := CheckProfile(s.Profile); err != nil {
		ps = append(ps, plan.Problem{Key: "profile", Msg: err.Error()})
	}
	if len(ps) > 0 {
		return exitcode.With(exitcode.Usage, &plan.ProblemsError{Problems: ps})
	}
	if _, err := s.Plan(Pending()); err != nil && !errors.Is(err, ErrNotRunning) {
		return err
	}
	if err := CheckState(s.Path); err != nil {
		return exitcode.With(exitcode.Usage, &plan.ProblemsError{Problems: []plan.Problem{{Key: "path", Msg: err.Error()}}})
	}
	return nil
}

// Run starts the sandbox and orders the certificate (job.Job.Run), or
// keeps the stored one when it is not due and Force is off; the root is
// written next to a new certificate, and the accounts at this run's CA,
// gone with it, are removed (World.ForgetAccounts). The result is nil when nothing was
// ordered or found stored.
func (s *Session) Run(ctx context.Context) (*job.Result, error) {
	fmt.Fprintln(s.Log, "sandbox: starting Pebble CA, authoritative DNS, DoH resolver and provider API on loopback")
	w, err := Start()
	if err != nil {
		return nil, err
	}
	defer w.Close()
	fmt.Fprintf(s.Log, "sandbox: CA %s, DoH %s, provider API %s\n", w.DirectoryURL, w.DoHURL, w.APIURL)
	j, err := s.Plan(w.Target())
	if err != nil {
		return nil, err
	}
	j.PollEvery = 200 * time.Millisecond // the sandbox CA answers at once
	s.Job, s.RootFile = j, filepath.Join(j.Path, RootFile)
	// As issue: a certificate of this name, names and key type stored and
	// not due is kept (with the root it chains to).
	out, done, err := j.NotDue(s.Now())
	if err != nil || done && !s.Force {
		return out, err
	}
	j.Replaces = "" // this run's CA never saw the stored one
	out, err = j.Run(ctx, s.Log)
	if ferr := w.ForgetAccounts(j.Path); err == nil {
		err = ferr
	}
	if err == nil {
		s.RootFile, err = w.WriteRoot(j.Path)
	}
	return out, err
}
