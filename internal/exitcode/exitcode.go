// Package exitcode defines the process exit codes of strictacme, so scripts
// and CI jobs can tell failures apart without parsing messages.
//
// The numbers are part of the command-line contract and are documented in
// README.md; never renumber them.
package exitcode

import "errors"

// Exit codes.
const (
	OK       = 0 // success, or nothing was due
	Failure  = 1 // unexpected internal failure
	Usage    = 2 // bad flag, argument, environment variable or config file
	CA       = 3 // the ACME CA refused: problem document, invalid challenge, rate limit, or stopped answering mid-order
	DNS      = 4 // a DNS provider API or DNS resolution failed
	Timeout  = 5 // propagation or validation did not finish within --timeout
	Missing  = 6 // a required DNS record (delegation CNAME, persist record) is not in place yet
	Busy     = 7 // another run holds the lock on --path
	Hook     = 8 // a deploy/pre/post hook failed (the certificate was kept)
	State    = 9 // a state file (journal.json) was damaged; see the message for what to check
	Canceled = 130
)

// Error carries an exit code with an error. The message of Err is what the
// user sees: one line saying what failed and how to fix it.
type Error struct {
	Code int
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// With wraps err with code; nil stays nil.
func With(code int, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Code: code, Err: err}
}

// Of returns the exit code carried by err: OK for nil, the innermost-first
// *Error found by errors.As, else Failure.
func Of(err error) int {
	if err == nil {
		return OK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Failure
}
