package main

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"slices"

	"github.com/spf13/cobra"

	"github.com/strictacme/strictacme/internal/cliflag"
	"github.com/strictacme/strictacme/internal/logout"
)

// logNames are the log flags, each also read from its environment
// variable (STRICTACME_QUIET, STRICTACME_LOG_LEVEL, STRICTACME_LOG_FORMAT).
var logNames = []string{"quiet", "log-level", "log-format"}

// registerLogFlags adds the log flags to root for every command.
func registerLogFlags(root *cobra.Command, o *logout.Options) {
	fl := root.PersistentFlags()
	fl.BoolVar(&o.Quiet, "quiet", false, "print errors only: no log lines below error, no summary on stdout (--json output, and the answers of check, list, query and account, are still printed)")
	fl.StringVar(&o.Level, "log-level", "info", "lowest level of log line written on stderr: debug, info, warn or error")
	fl.StringVar(&o.Format, "log-format", "text", "log lines on stderr as text (one line each) or json (one JSON object per line: time, level, msg)")
	cliflag.Document(fl, "")
}

// logOpts are the log flags of the command line being run; logDest is
// where the log goes (execute sets it to the redacted stderr).
var (
	logOpts logout.Options
	logDest io.Writer = os.Stderr
)

// logger is the one logger of the command being run: every line strictacme
// writes on stderr is a record of it. execute sets it to text at info on
// the redacted stderr, and configureLog from the log flags before the
// command runs.
var logger = slog.New(logout.NewTextHandler(io.Discard, slog.LevelInfo))

// configureLog binds the log flags' environment variables and sets logger
// from them, writing to w. It runs before the command's own flags are
// bound, so their warnings are already logged as asked.
func configureLog(c *cobra.Command, o *logout.Options, w io.Writer) error {
	// The log flags are every command's, each read from one variable
	// (command ""), the sandbox's too.
	if err := given.Bind(c.Flags(), "", func(name string) bool { return slices.Contains(logNames, name) }, warn); err != nil {
		return err
	}
	l, err := o.Logger(w)
	if l != nil {
		logger = l
	}
	var oe *logout.OptionError
	if errors.As(err, &oe) {
		return usage("%s %v", givenAs("log-"+oe.Key), oe.Err)
	}
	return err
}

// warn logs a warning line.
func warn(line string) { logger.Warn(line) }

// logDebug logs a line only wanted at --log-level debug.
func logDebug(line string) { logger.Debug(line) }

// newLogWriter is stderr as commands and hooks see it: each line a
// record of logger.
func newLogWriter() *logout.Writer {
	return &logout.Writer{Log: func() *slog.Logger { return logger }}
}

// logError logs the error a command ended with.
func logError(err error) { logger.Error("strictacme: " + err.Error()) }
