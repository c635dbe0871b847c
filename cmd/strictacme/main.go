// Command strictacme obtains TLS certificates from ACME CAs by DNS
// validation from machines whose network is locked down.
//
// This package is wiring only: flags, environment variables and config are
// turned into calls of the internal packages. Each subcommand lives in its own
// file and registers itself with addCommand from an init function.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/strictacme/strictacme/internal/cliflag"
	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/jsonout"
	"github.com/strictacme/strictacme/internal/logout"
	"github.com/strictacme/strictacme/internal/plan"
	"github.com/strictacme/strictacme/internal/redact"
	buildversion "github.com/strictacme/strictacme/internal/version"
)

// version, when set at link time with -ldflags "-X main.version=v1.2.3" (as
// the release build does), replaces the version read from the module build
// info; internal/version decides what --version and the User-Agent say.
var version string

func init() { buildversion.Set(version) }

var commands []func() *cobra.Command

// addCommand registers a subcommand constructor; called from init functions.
func addCommand(f func() *cobra.Command) { commands = append(commands, f) }

// answersOnStdout are the commands whose stdout is the answer asked for,
// not a summary: --quiet keeps it (check's FAIL rows are what a cron mail
// must show).
var answersOnStdout = map[string]bool{"check": true, "list": true, "query": true, "account": true}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "strictacme",
		Short: "Get TLS certificates by ACME DNS validation, without port 53",
		Long: `strictacme gets TLS certificates from ACME CAs (Let's Encrypt, ZeroSSL, any
RFC 8555 CA) by DNS validation from machines whose network is locked down:
no outbound DNS, HTTPS only, split-horizon internal DNS, stateless CI jobs.

Every flag can also be set by the environment variable shown in its help.`,
		Version:       buildversion.Get().String(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return exitcode.With(exitcode.Usage, fmt.Errorf("%w (see %s --help)", err, c.CommandPath()))
	})
	for _, f := range commands {
		root.AddCommand(f())
	}
	root.SetHelpCommand(newHelpCmd())
	logOpts = logout.Options{}
	registerLogFlags(root, &logOpts)
	root.PersistentPreRunE = func(c *cobra.Command, _ []string) error {
		if err := configureLog(c, &logOpts, logDest); err != nil {
			return err
		}
		if logOpts.Quiet && !jsonAsked(c, nil) && !answersOnStdout[c.Name()] {
			c.Root().SetOut(io.Discard) // errors only: no summary either
		}
		return nil
	}
	root.RunE = func(c *cobra.Command, _ []string) error {
		return exitcode.With(exitcode.Usage, errors.New("no command given; run one of these (strictacme COMMAND --help says more):\n"+commandList(c)))
	}
	root.InitDefaultCompletionCmd() // now, so that its help gets its exit codes too
	for _, c := range append([]*cobra.Command{root}, root.Commands()...) {
		if h := exitcode.Help(commandName(c)); h != "" {
			c.Long = strings.TrimRight(c.Long, "\n") + "\n\n" + strings.TrimRight(h, "\n")
		}
	}
	return root
}

// newHelpCmd is "strictacme help [COMMAND]": cobra's own help prints the
// root usage and exits 0 for a command it does not know.
func newHelpCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "help [COMMAND]",
		Short: "Help about any command",
		RunE: func(c *cobra.Command, args []string) error {
			target, rest, err := c.Root().Find(args)
			if err != nil || target == nil || len(rest) > 0 {
				return usage("help %s: no such command; run one of these (strictacme COMMAND --help says more):\n%s", strings.Join(args, " "), commandList(c.Root()))
			}
			return target.Help()
		},
	}
}

// commandName is c's name as exitcode.Commands knows it: "" for the root.
func commandName(c *cobra.Command) string {
	if !c.HasParent() {
		return ""
	}
	return c.Name()
}

// commandList is one line per command offered in help: name and summary.
func commandList(root *cobra.Command) string {
	var b strings.Builder
	for _, c := range root.Commands() {
		if c.IsAvailableCommand() {
			fmt.Fprintf(&b, "  %-10s %s\n", c.Name(), c.Short)
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return execute(ctx, args, os.Stdout, os.Stderr)
}

// secretEnv names the environment variables that hold credentials
// strictacme may be given: every provider secret the registry marks, and
// the EAB key. Their values are redacted from everything it prints or
// stores even before (or without) a command reading them. Credentials
// read from files or named by the config are registered where they are
// read.
var secretEnv = append(plan.SecretEnv(), envName("eab-hmac-key"))

// execute runs the command line args with stdout and stderr, every known
// secret redacted from both (internal/redact), and returns the exit code.
func execute(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	for _, k := range secretEnv {
		redact.Add(os.Getenv(k))
	}
	// The redacting writer is below the log handler: whatever a record
	// holds, in either format, is redacted before it reaches stderr.
	rout, rerr := redact.NewWriter(stdout), redact.NewWriter(stderr)
	defer func() { _ = rout.Flush(); _ = rerr.Flush() }()
	errw := newLogWriter()
	defer errw.Flush()
	prevLog, prevLogger := logOut, logger
	logOut, logger = errw, slog.New(logout.NewTextHandler(rerr, slog.LevelInfo))
	defer func() { logOut, logger = prevLog, prevLogger }()
	given = cliflag.New()
	root := newRootCmd()
	root.SetArgs(args)
	out := &jsonout.Guard{W: rout}
	root.SetOut(out)
	// Everything a command writes on stderr is a record of the logger.
	root.SetErr(errw)
	logDest = rerr
	defer func() { logDest = os.Stderr }()
	ran, err := root.ExecuteContextC(ctx)
	errw.Flush()
	if err == nil {
		return exitcode.OK
	}
	code, err := exitcode.Final(err, exitcode.Interrupted(ctx))
	logError(err)
	if jsonAsked(ran, args) { // a CI job piping --json into jq still gets one object
		out.Fail(code, err)
	}
	return code
}

// jsonAsked reports whether --json was asked for (cliflag.JSONAsked);
// c may be nil.
func jsonAsked(c *cobra.Command, args []string) bool {
	if c == nil {
		return cliflag.JSONAsked(nil, args)
	}
	return cliflag.JSONAsked(c.Flags(), args)
}
