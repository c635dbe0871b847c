package config

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/plan"
	"github.com/strictacme/strictacme/internal/store"
	"github.com/strictacme/strictacme/internal/tomlpos"
)

// Built is one certificate of a file with its plan.
type Built struct {
	// Settings are the certificate's settings as given to plan.Build
	// (after the caller's edit); Plan.Settings has plan's defaults on top.
	Settings plan.Settings
	Plan     *plan.Plan
}

// Build builds the plan of every certificate of f that keep accepts (all
// when keep is nil), each from a copy of its settings that edit, when not
// nil, may change first (a flag that overrides the file). Building sends
// nothing. Every problem of every certificate comes back at once as an
// *Error, one line each in the file's words (Problem), certificates in file
// order; the plans are then nil.
func (f *File) Build(keep func(*Certificate) bool, edit func(*plan.Settings), opts plan.BuildOptions) ([]Built, error) {
	var out []Built
	var lines []string
	for _, c := range f.Certificates {
		if keep != nil && !keep(c) {
			continue
		}
		s := c.Settings
		if edit != nil {
			edit(&s)
		}
		p, err := plan.Build(s, opts)
		if err != nil {
			lines = append(lines, f.buildProblems(c, err)...)
			continue
		}
		out = append(out, Built{Settings: s, Plan: p})
	}
	if len(lines) > 0 {
		return nil, &Error{Lines: lines}
	}
	return out, nil
}

// buildProblems says a plan.Build error of certificate c in the file's
// words: one line per problem.
func (f *File) buildProblems(c *Certificate, err error) []string {
	var pe *plan.ProblemsError
	var be *plan.BuildError
	switch {
	case errors.As(err, &pe):
		var out []string
		for _, p := range pe.Problems {
			out = append(out, f.Problem(c, p.Provider, p.Key, p.Msg))
		}
		return out
	case errors.As(err, &be):
		return []string{f.Problem(c, be.Provider, be.Key, be.Err.Error())}
	}
	return []string{fmt.Sprintf("%s: certificate %q: %v", tomlpos.Where(f.Path, c.Line), c.Name, err)}
}

// Configure builds the certificates of f named in only (every one when
// only is empty) as Build does, each with orderTimeout when timeoutGiven
// (a flag) or when it sets no timeout of its own, and returns them as
// plan.Configure sees them against the store at opts.Path: which to order
// now and why. A name in only that f does not list is one more problem.
// Every problem comes back at once, one line each, with exit code Usage;
// nothing is sent anywhere.
func (f *File) Configure(only []string, orderTimeout time.Duration, timeoutGiven bool, opts plan.BuildOptions) (plan.Configured, error) {
	var problems []string
	for _, n := range only {
		if !slices.ContainsFunc(f.Certificates, func(c *Certificate) bool { return c.Name == n }) {
			problems = append(problems, fmt.Sprintf("--cert-name %q: no [[certificate]] of that name in %s", n, f.Path))
		}
	}
	built, err := f.Build(func(c *Certificate) bool { return len(only) == 0 || slices.Contains(only, c.Name) },
		func(s *plan.Settings) {
			if timeoutGiven || s.Timeout == 0 {
				s.Timeout = plan.Duration(orderTimeout)
			}
		}, opts)
	var fe *Error
	if errors.As(err, &fe) {
		problems = append(problems, fe.Lines...)
	} else if err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		return plan.Configured{}, exitcode.With(exitcode.Usage, errors.New(strings.Join(problems, "\n")))
	}
	var settings []plan.Settings
	for _, b := range built {
		settings = append(settings, b.Settings)
	}
	return plan.Configure(&store.Store{Root: opts.Path}, settings), nil
}
