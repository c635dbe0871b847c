package config

import (
	"errors"
	"fmt"

	"github.com/strictacme/strictacme/internal/plan"
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
	return []string{fmt.Sprintf("%s:%d: certificate %q: %v", f.Path, c.Line, c.Name, err)}
}
