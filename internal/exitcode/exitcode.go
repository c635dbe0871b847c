// Package exitcode defines the process exit codes of strictacme, so scripts
// and CI jobs can tell failures apart without parsing messages.
//
// The numbers are part of the command-line contract: Codes says what each
// means and Commands which of them each command can return; the help texts
// and README.md are written from them (a test keeps README.md in step).
// Never renumber them.
package exitcode

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
)

// Exit codes.
const (
	OK          = 0  // success, or nothing was due
	Failure     = 1  // unexpected internal failure
	Usage       = 2  // bad flag, argument, environment variable or config file
	CA          = 3  // the ACME CA refused: problem document, invalid challenge, rate limit, an answer that is not ACME
	DNS         = 4  // a DNS provider API or DNS resolution failed
	Timeout     = 5  // propagation or validation did not finish within --timeout
	Missing     = 6  // a required DNS record (delegation CNAME, persist record) is not in place yet
	Busy        = 7  // another process holds what the run needs: the lock on --path, or serve's listen address
	Hook        = 8  // a deploy/pre/post hook failed (the certificate was kept)
	State       = 9  // a state file (journal.json) was damaged; see the message for what to check
	Unreachable = 10 // the CA could not be reached: its name did not resolve, TCP or TLS failed
	Canceled    = 130
)

// Meaning is one exit code and what it means, in one line.
type Meaning struct {
	Code int
	Text string
}

// Codes are every exit code with its meaning, in order. Help texts say
// the same; each row of README.md's table starts with it.
var Codes = []Meaning{
	{OK, "success (or nothing was due)"},
	{Failure, "unexpected internal failure"},
	{Usage, "usage or configuration error: bad flag, argument, environment variable or config; nothing was written"},
	{CA, "the CA refused: a problem document, an invalid challenge, a rate limit, a function it does not implement, an answer that is not ACME, or it stopped answering mid-order"},
	{DNS, "a DNS provider API or DNS resolution failed"},
	{Timeout, "timeout: propagation or validation did not finish within --timeout"},
	{Missing, "a required DNS record (delegation CNAME, dns-persist-01 record) is not in place yet"},
	{Busy, "another process holds what the run needs: the lock on --path, or the address serve listens on"},
	{Hook, "a hook, install or reload failed (the certificate was kept)"},
	{State, "a state file (journal.json, renewal.json, a stored request.csr) was damaged or is missing; the message says what to check"},
	{Unreachable, "the CA could not be reached: its name did not resolve, or the TCP connection or the TLS handshake failed"},
	{Canceled, "interrupted (SIGINT/SIGTERM); challenge records were removed"},
}

// Commands lists, for each command (by name; "" is strictacme without one),
// the exit codes it can return.
var Commands = map[string][]int{
	"":         {OK, Usage},
	"issue":    {OK, Failure, Usage, CA, DNS, Timeout, Missing, Busy, Hook, State, Unreachable, Canceled},
	"renew":    {OK, Failure, Usage, CA, DNS, Timeout, Missing, Busy, Hook, State, Unreachable, Canceled},
	"run":      {OK, Failure, Usage, CA, DNS, Timeout, Missing, Busy, Hook, State, Unreachable, Canceled},
	"check":    {OK, Failure, Usage, CA, DNS, Missing, Unreachable, Canceled},
	"persist":  {OK, Failure, Usage, CA, DNS, Missing, Unreachable, Canceled},
	"register": {OK, Failure, Usage, DNS, Missing, Canceled},
	"query":    {OK, Failure, Usage, DNS, Canceled},
	"list":     {OK, Failure, Usage},
	"revoke":   {OK, Failure, Usage, CA, Busy, Unreachable, Canceled},
	"account":  {OK, Failure, Usage, CA, Busy, Unreachable, Canceled},
	"serve":    {OK, Failure, Usage, Busy},
	"sandbox":  {OK, Failure, Usage, CA, DNS, Timeout, Busy, Hook, State, Canceled},
	// completion is cobra's: it writes a script or refuses its arguments.
	"completion": {OK, Usage},
	"man":        {OK, Failure, Usage},
	"import":     {OK, Failure, Usage, Busy, State},
	"delete":     {OK, Failure, Usage, CA, DNS, Busy, State, Unreachable, Canceled},
}

// Help is the "Exit codes:" section of command's help: each code it can
// return with its meaning; "" when Commands does not list the command.
// The root's ("") says that each command's help lists its own, since the
// root itself returns only OK and Usage.
func Help(command string) string {
	codes, ok := Commands[command]
	if !ok {
		return ""
	}
	var b strings.Builder
	b.WriteString("Exit codes:\n")
	for _, m := range Codes {
		if slices.Contains(codes, m.Code) {
			fmt.Fprintf(&b, "  %3d  %s\n", m.Code, m.Text)
		}
	}
	if command == "" {
		var others []string
		for _, m := range Codes {
			if !slices.Contains(codes, m.Code) {
				others = append(others, fmt.Sprint(m.Code))
			}
		}
		fmt.Fprintf(&b, "Each command's --help lists the codes it can return, of these and %s.\n", strings.Join(others, ", "))
	}
	return b.String()
}

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

// Final is the exit code of a command line that ended with err, and the
// error to say. Argument errors of the command-line library (unknown
// command or flag, wrong number of arguments), which carry no code, are
// Usage; whatever failed once the process was interrupted (SIGINT or
// SIGTERM) is Canceled and said as the interruption (Interrupt).
func Final(err error, interrupted bool) (int, error) {
	code := Of(err)
	if code == Failure && isArgumentError(err) {
		code = Usage
	}
	if interrupted {
		code, err = Canceled, interrupt(err)
	}
	return code, err
}

// isArgumentError recognises the command-line library's (cobra's) own
// argument errors, which it returns as plain errors.
func isArgumentError(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand", "accepts ", "requires at least", "requires at most", "invalid argument", "flag needs an argument", "required flag"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

// FromCA gives err, from a request to an ACME CA, its exit code:
// Unreachable when the request never reached the CA (Unreached), else CA.
// nil stays nil.
func FromCA(err error) error {
	if Unreached(err) {
		return With(Unreachable, err)
	}
	return With(CA, err)
}

// Unreached reports whether err is a failure to reach a server at all,
// before any answer: a name that did not resolve, a TCP connection refused,
// reset or timed out, a TLS handshake that failed (an unknown authority, a
// name mismatch). A connection the server closed without an answer reached
// it: that CA stopped answering, which is CA.
func Unreached(err error) bool {
	if err == nil {
		return false
	}
	var (
		dnsErr   *net.DNSError
		opErr    *net.OpError
		verify   *tls.CertificateVerificationError
		record   tls.RecordHeaderError
		alert    tls.AlertError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		urlErr   *url.Error
	)
	switch {
	case errors.As(err, &dnsErr), errors.As(err, &opErr), errors.As(err, &verify), errors.As(err, &record),
		errors.As(err, &alert), errors.As(err, &unknown), errors.As(err, &hostname), errors.As(err, &invalid):
		return true
	case errors.As(err, &urlErr):
		return urlErr.Timeout()
	}
	return false
}

// ErrInterrupted is the error of a run stopped by SIGINT or SIGTERM.
var ErrInterrupted = errors.New("interrupted (SIGINT or SIGTERM)")

// Interrupted reports whether ctx ended because the process was
// interrupted. SIGINT and SIGTERM cancel the root context (main's
// signal.NotifyContext), and every context of a run derives from it;
// --timeout and the other bounds end theirs with DeadlineExceeded instead.
// This is the one place that tells an interrupt from a failure: whatever
// an interrupted step returned (a provider script killed mid-call says
// "exit status -1"), it is not that step's failure.
func Interrupted(ctx context.Context) bool {
	return ctx != nil && errors.Is(ctx.Err(), context.Canceled)
}

// Interrupt returns err as the error of an interrupted run when ctx was
// interrupted (Interrupted): exit code Canceled and a message that starts
// with ErrInterrupted (the bare "context canceled" says nothing to an
// operator, so it is dropped). Otherwise, and for nil, err is unchanged.
func Interrupt(ctx context.Context, err error) error {
	if err == nil || !Interrupted(ctx) {
		return err
	}
	return interrupt(err)
}

// interrupt is err as the error of an interrupted run (Interrupt).
func interrupt(err error) error {
	if err == nil || errors.Is(err, ErrInterrupted) {
		if err == nil {
			err = ErrInterrupted
		}
		return With(Canceled, err)
	}
	msg := ErrInterrupted.Error()
	if m := err.Error(); m != context.Canceled.Error() {
		msg += ": " + strings.TrimSuffix(m, ": "+context.Canceled.Error())
	}
	return With(Canceled, &interruptError{msg: msg, err: err})
}

// interruptError is ErrInterrupted and the error of the step it cut
// short, both for errors.Is and errors.As, with one message.
type interruptError struct {
	msg string
	err error
}

func (e *interruptError) Error() string   { return e.msg }
func (e *interruptError) Unwrap() []error { return []error{ErrInterrupted, e.err} }
