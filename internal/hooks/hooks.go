// Package hooks runs the operator's commands around certificate issuance:
// a pre hook once before the first order of a run, a deploy hook after each
// certificate that was issued or renewed, and a post hook once at the end.
//
// A hook is one shell command line, run with /bin/sh -c in a process group
// of its own; on Windows with cmd.exe /d /s /c (%ComSpec%), so the line is
// cmd.exe syntax there (see ShellCommand). It gets a small environment, not
// strictacme's: the variables of BaseEnv (PATH, HOME, user, shell, temporary
// directory, time zone, locale; on Windows also WindowsBaseEnv), the
// variables the operator lists to pass through (Runner.PassEnv,
// --hook-env), and the STRICTACME_* variables below. Credentials strictacme
// was given (provider API keys, the EAB key) are never passed on. Its
// standard output and error go to the writer given (strictacme passes its
// stderr, so --json output on stdout stays clean), with every secret
// strictacme knows replaced (internal/redact). A hook that exits non-zero
// is an *Error with exit code exitcode.Hook; the certificate it was about
// stays stored. On timeout or cancellation the whole process group is
// killed, so a child the hook started cannot keep the run waiting (on
// Windows the interpreter alone, see internal/proc).
//
// Deploy hook variables (DeployEnv), with certbot's and lego's names for
// the same facts so that existing deploy hooks run unchanged:
//
//	STRICTACME_HOOK             "deploy"
//	STRICTACME_CERT_NAME        the certificate's name in the store
//	STRICTACME_DOMAINS          its names, space separated (ASCII/punycode)
//	STRICTACME_CERT_DIR         the folder with the stable file names
//	STRICTACME_CERT_PATH        leaf certificate, PEM
//	STRICTACME_KEY_PATH         private key, PEM (0600); empty for a certificate
//	                            of the operator's CSR (--csr), whose key
//	                            strictacme does not have
//	STRICTACME_CHAIN_PATH       intermediates, PEM
//	STRICTACME_FULLCHAIN_PATH   leaf and intermediates, PEM
//	STRICTACME_PEM_PATH         key and full chain (install_pem), when set
//	STRICTACME_PKCS12_PATH      PKCS#12 file (install_pkcs12), when set
//	STRICTACME_SERIAL           serial number, hex
//	STRICTACME_NOT_BEFORE       RFC 3339, UTC
//	STRICTACME_NOT_AFTER        RFC 3339, UTC
//	STRICTACME_RENEWED          "true" for a renewal, "false" for a first issue
//	STRICTACME_REPLACED         ARI ID of the replaced certificate, if any
//	RENEWED_LINEAGE             certbot: STRICTACME_CERT_DIR
//	RENEWED_DOMAINS             certbot: STRICTACME_DOMAINS
//	LEGO_HOOK_CERT_NAME         lego v5: STRICTACME_CERT_NAME
//	LEGO_HOOK_CERT_NAME_SANITIZED  lego v5: the same (store names are file-safe)
//	LEGO_HOOK_CERT_DOMAINS      lego v5: the names, comma separated
//	LEGO_HOOK_CERT_KEY_TYPE     lego v5: EC256, EC384, RSA2048, ...
//	LEGO_HOOK_CERT_PATH         lego v5: STRICTACME_FULLCHAIN_PATH (lego's .crt is the bundle)
//	LEGO_HOOK_CERT_KEY_PATH     lego v5: STRICTACME_KEY_PATH (empty with --csr)
//	LEGO_HOOK_ISSUER_CERT_PATH  lego v5: STRICTACME_CHAIN_PATH
//	LEGO_HOOK_CERT_PEM_PATH     lego v5: STRICTACME_PEM_PATH, when set
//	LEGO_HOOK_CERT_PFX_PATH     lego v5: STRICTACME_PKCS12_PATH, when set
//	LEGO_HOOK_ACCOUNT_SERVER    lego v5: the CA's directory URL
//
// The reload command of the deploy outputs (internal/deploy) runs as a
// hook of kind Reload with the same variables.
//
// Pre and post hook variables (RunEnv): STRICTACME_HOOK ("pre" or "post"),
// STRICTACME_DUE_CERTS (names due in this run), and for post
// STRICTACME_RENEWED_CERTS and STRICTACME_FAILED_CERTS; lists are space
// separated.
package hooks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/proc"
	"github.com/strictacme/strictacme/internal/redact"
)

// BaseEnv names the variables of strictacme's environment every hook gets,
// when set; a name ending in "*" is a prefix. Everything else must be
// listed in Runner.PassEnv.
var BaseEnv = []string{"PATH", "HOME", "USER", "LOGNAME", "SHELL", "TMPDIR", "TZ", "LANG", "LANGUAGE", "LC_*"}

// CheckPassEnv refuses an entry of Runner.PassEnv that names no
// environment variable: a name is letters, digits and "_", not starting
// with a digit (POSIX.1-2017 XBD §8.1, the names shells can export);
// "NAME*" names a prefix. Such an entry would pass nothing, silently.
// The error quotes the entry and says what to give.
func CheckPassEnv(name string) error {
	base, _ := strings.CutSuffix(name, "*")
	if !envName.MatchString(base) {
		return fmt.Errorf("%q is not an environment variable name; give letters, digits and _ (not starting with a digit), or NAME* for every variable starting with NAME", name)
	}
	return nil
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// WindowsBaseEnv names the further variables every hook gets on Windows,
// when set: the system folders Windows programs rely on (without
// SystemRoot, Winsock and the system's crypto providers fail to load), the
// interpreter and the extensions it starts (ComSpec, PATHEXT), and the
// per-user and per-machine folders that stand in for HOME and TMPDIR there.
// None holds a credential.
var WindowsBaseEnv = []string{
	"SystemRoot", "SystemDrive", "windir", "ComSpec", "PATHEXT",
	"TEMP", "TMP", "USERPROFILE", "HOMEDRIVE", "HOMEPATH", "USERNAME", "USERDOMAIN", "COMPUTERNAME",
	"APPDATA", "LOCALAPPDATA", "ProgramData", "ProgramFiles", "ProgramFiles(x86)", "ProgramW6432",
	"CommonProgramFiles", "CommonProgramFiles(x86)", "CommonProgramW6432", "PSModulePath",
	"OS", "PROCESSOR_ARCHITECTURE", "NUMBER_OF_PROCESSORS",
}

// Env returns the environment of a hook: the entries of environ (KEY=value)
// named by BaseEnv (and WindowsBaseEnv on Windows) or pass, then extra.
// strictacme's own STRICTACME_* settings are not passed on unless listed in
// pass; a listed name whose value is a secret strictacme was given is still
// left out. On Windows names match whatever their case, as Windows treats
// them ("Path" is PATH).
func Env(environ, pass, extra []string) []string {
	return env(runtime.GOOS, environ, pass, extra)
}

func env(goos string, environ, pass, extra []string) []string {
	names := slices.Concat(BaseEnv, pass)
	fold := func(s string) string { return s }
	if goos == "windows" {
		names = slices.Concat(BaseEnv, WindowsBaseEnv, pass)
		fold = strings.ToUpper
	}
	keep := func(k string) bool {
		k = fold(k)
		for _, n := range names {
			n = fold(n)
			if prefix, ok := strings.CutSuffix(n, "*"); ok && strings.HasPrefix(k, prefix) || n == k {
				return true
			}
		}
		return false
	}
	var env []string
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		if keep(k) && !redact.Is(v) {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// ShellCommand returns how a hook's command line runs on goos: argv (the
// interpreter first) and, for Windows, the exact command line CreateProcess
// gets ("" elsewhere). shell is Runner.Shell, comspec the value of
// %ComSpec%.
//
//   - Unix: shell, or /bin/sh, with -c LINE.
//   - Windows: shell, or comspec, or cmd.exe, with /d /s /c "LINE". The
//     command line is handed over as written: Go's quoting of arguments
//     follows the C runtime's rules, which cmd.exe does not parse, so a line
//     with quoted paths would arrive mangled. /s makes cmd.exe strip only
//     the outer pair of quotes and run the rest unchanged; /d skips the
//     AutoRun commands of the registry, so a hook does not depend on what a
//     user set up for interactive prompts. Node.js's child_process runs
//     shell commands on Windows the same way.
func ShellCommand(goos, shell, comspec, line string) (argv []string, cmdLine string) {
	if goos != "windows" {
		if shell == "" {
			shell = "/bin/sh"
		}
		return []string{shell, "-c", line}, ""
	}
	for _, s := range []string{shell, comspec, "cmd.exe"} {
		if s != "" {
			shell = s
			break
		}
	}
	prog := shell
	if strings.ContainsAny(prog, " \t") {
		prog = `"` + prog + `"`
	}
	return []string{shell, "/d", "/s", "/c", line}, prog + ` /d /s /c "` + line + `"`
}

// Kind names a hook.
type Kind string

// The hooks.
const (
	Pre    Kind = "pre"
	Deploy Kind = "deploy"
	Post   Kind = "post"
	// Reload is the reload command of the deploy outputs.
	Reload Kind = "reload"
)

// Cert describes one stored certificate for the deploy hook.
type Cert struct {
	Name      string
	Domains   []string
	Dir       string // the certificate folder (stable file names inside)
	Serial    string
	NotBefore time.Time
	NotAfter  time.Time
	Renewed   bool
	Replaced  string
	KeyType   string // ec256, rsa2048, ...
	Directory string // the CA's ACME directory URL
	// PEMPath and PKCS12Path are the deploy outputs' combined PEM and
	// PKCS#12 files; "" when not configured.
	PEMPath, PKCS12Path string
	// NoKey: the certificate was ordered for the operator's CSR and no
	// private key is stored; the key path variables are empty.
	NoKey bool
}

// DeployEnv returns the deploy hook variables for c as "KEY=value" strings
// (the package documentation lists them). File paths are Dir joined with
// the store's stable names.
func DeployEnv(c Cert) []string {
	cert, key := filepath.Join(c.Dir, "cert.pem"), filepath.Join(c.Dir, "privkey.pem")
	if c.NoKey {
		key = ""
	}
	chain, full := filepath.Join(c.Dir, "chain.pem"), filepath.Join(c.Dir, "fullchain.pem")
	domains := strings.Join(c.Domains, " ")
	env := []string{
		"STRICTACME_HOOK=" + string(Deploy),
		"STRICTACME_CERT_NAME=" + c.Name,
		"STRICTACME_DOMAINS=" + domains,
		"STRICTACME_CERT_DIR=" + c.Dir,
		"STRICTACME_CERT_PATH=" + cert,
		"STRICTACME_KEY_PATH=" + key,
		"STRICTACME_CHAIN_PATH=" + chain,
		"STRICTACME_FULLCHAIN_PATH=" + full,
		"STRICTACME_SERIAL=" + c.Serial,
		"STRICTACME_NOT_BEFORE=" + c.NotBefore.UTC().Format(time.RFC3339),
		"STRICTACME_NOT_AFTER=" + c.NotAfter.UTC().Format(time.RFC3339),
		fmt.Sprintf("STRICTACME_RENEWED=%t", c.Renewed),
		"STRICTACME_REPLACED=" + c.Replaced,
		// certbot's deploy hook (certbot renew --deploy-hook).
		"RENEWED_LINEAGE=" + c.Dir,
		"RENEWED_DOMAINS=" + domains,
		// lego v5's hook (cmd/internal/hook/metadata.go).
		"LEGO_HOOK_CERT_NAME=" + c.Name,
		"LEGO_HOOK_CERT_NAME_SANITIZED=" + c.Name,
		"LEGO_HOOK_CERT_DOMAINS=" + strings.Join(c.Domains, ","),
		"LEGO_HOOK_CERT_KEY_TYPE=" + strings.ToUpper(c.KeyType),
		"LEGO_HOOK_CERT_PATH=" + full,
		"LEGO_HOOK_CERT_KEY_PATH=" + key,
		"LEGO_HOOK_ISSUER_CERT_PATH=" + chain,
		"LEGO_HOOK_ACCOUNT_SERVER=" + c.Directory,
	}
	if c.PEMPath != "" {
		env = append(env, "STRICTACME_PEM_PATH="+c.PEMPath, "LEGO_HOOK_CERT_PEM_PATH="+c.PEMPath)
	}
	if c.PKCS12Path != "" {
		env = append(env, "STRICTACME_PKCS12_PATH="+c.PKCS12Path, "LEGO_HOOK_CERT_PFX_PATH="+c.PKCS12Path)
	}
	return env
}

// VarNames returns the name of every variable strictacme sets for a hook
// (deploy, reload, pre and post), sorted; the variables passed through
// from its own environment are not included.
func VarNames() []string {
	var out []string
	all := DeployEnv(Cert{PEMPath: "x", PKCS12Path: "x"})
	all = append(all, RunEnv(Post, nil, nil, nil)...)
	for _, kv := range all {
		k, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// RunEnv returns the pre or post hook variables.
func RunEnv(kind Kind, due, renewed, failed []string) []string {
	env := []string{"STRICTACME_HOOK=" + string(kind), "STRICTACME_DUE_CERTS=" + strings.Join(due, " ")}
	if kind == Post {
		env = append(env, "STRICTACME_RENEWED_CERTS="+strings.Join(renewed, " "), "STRICTACME_FAILED_CERTS="+strings.Join(failed, " "))
	}
	return env
}

// Error is a hook that failed: it exited non-zero, was killed, timed out or
// could not start. The command line is not in the message (it may carry
// tokens); Kind and the certificate name say which hook it was.
type Error struct {
	Kind Kind
	// Cert is the certificate a deploy hook ran for; "" for pre and post.
	Cert string
	// ExitCode is the hook's exit status; -1 when it did not exit normally.
	ExitCode int
	Err      error
}

func (e *Error) Error() string {
	what := string(e.Kind) + " hook"
	if e.Kind == Reload {
		what = "reload command"
	}
	if e.Cert != "" {
		what += " for " + e.Cert
	}
	if e.ExitCode > 0 {
		return fmt.Sprintf("%s exited with status %d", what, e.ExitCode)
	}
	return fmt.Sprintf("%s failed: %v", what, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Runner runs hooks. The zero value runs with /bin/sh (cmd.exe on
// Windows), no timeout and output discarded.
type Runner struct {
	// Shell runs the command line as Shell -c LINE; "" means /bin/sh. On
	// Windows it must take cmd.exe's /d /s /c LINE; "" means %ComSpec%.
	// See ShellCommand.
	Shell string
	// Timeout bounds one hook; 0 means none. On timeout the hook is
	// killed and an *Error returned.
	Timeout time.Duration
	// Output receives the hook's stdout and stderr, redacted; nil discards.
	Output io.Writer
	// PassEnv names further variables of strictacme's environment the hook
	// gets (see Env); a name ending in "*" is a prefix.
	PassEnv []string
	// WaitDelay bounds the wait for the hook's output once the hook has
	// exited or was killed (children that keep it open); 0 means
	// proc.DefaultWaitDelay.
	WaitDelay time.Duration
}

// Run runs command (nothing when it is "") with Env(os.Environ(),
// r.PassEnv, env). cert names the certificate for a deploy hook's error. A failure
// is an *Error wrapped with exitcode.Hook.
func (r Runner) Run(ctx context.Context, kind Kind, cert, command string, env []string) error {
	if strings.TrimSpace(command) == "" {
		return nil
	}
	if r.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.Timeout)
		defer cancel()
	}
	argv, cmdLine := ShellCommand(runtime.GOOS, r.Shell, os.Getenv("ComSpec"), command)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	setCmdLine(cmd, cmdLine)
	cmd.Env = Env(os.Environ(), r.PassEnv, env)
	out := r.Output
	if out == nil {
		out = io.Discard
	}
	rw := redact.NewWriter(out)
	cmd.Stdout, cmd.Stderr = rw, rw
	proc.Group(cmd, r.WaitDelay)
	err := cmd.Run()
	_ = rw.Flush()
	if errors.Is(err, exec.ErrWaitDelay) {
		// The hook succeeded; something it started in the background still
		// held its output, which is now closed.
		fmt.Fprintf(out, "strictacme: %s hook exited, but a process it started kept its output open; output closed\n", kind)
		return nil
	}
	if err == nil {
		return nil
	}
	he := &Error{Kind: kind, Cert: cert, ExitCode: -1, Err: err}
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() > 0 {
		he.ExitCode = ee.ExitCode()
	}
	if ctx.Err() != nil && r.Timeout > 0 && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		he.Err = fmt.Errorf("timed out after %s", r.Timeout)
		he.ExitCode = -1
	}
	return exitcode.With(exitcode.Hook, he)
}
