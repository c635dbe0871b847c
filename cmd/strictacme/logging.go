package main

import (
	"io"
	"log/slog"
	"os"
	"slices"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/strictacme/strictacme/internal/logout"
)

// logFlags are the global flags that decide the log on stderr: which
// records are written and in which format.
type logFlags struct {
	quiet  bool
	level  string
	format string
}

// logNames are the log flags, each also read from its environment
// variable (STRICTACME_QUIET, STRICTACME_LOG_LEVEL, STRICTACME_LOG_FORMAT).
var logNames = []string{"quiet", "log-level", "log-format"}

// register adds the log flags to root for every command.
func (f *logFlags) register(root *cobra.Command) {
	fl := root.PersistentFlags()
	fl.BoolVar(&f.quiet, "quiet", false, "print errors only: no log lines below error, no summary on stdout (--json output, and the answers of check, list, query and account, are still printed)")
	fl.StringVar(&f.level, "log-level", "info", "lowest level of log line written on stderr: debug, info, warn or error")
	fl.StringVar(&f.format, "log-format", "text", "log lines on stderr as text (one line each) or json (one JSON object per line: time, level, msg)")
	fl.VisitAll(func(fl *pflag.Flag) { fl.Usage += " [$" + envName(fl.Name) + "]" })
}

// slogLevel is the lowest level f lets through.
func (f *logFlags) slogLevel() (slog.Level, error) {
	if f.quiet {
		return slog.LevelError, nil
	}
	l, err := logout.ParseLevel(f.level)
	if err != nil {
		return 0, usage("%s %v", givenAs("log-level"), err)
	}
	return l, nil
}

// newLogger is logout.New with a usage error naming how the format was
// given.
func newLogger(w io.Writer, level slog.Level, format string) (*slog.Logger, error) {
	l, err := logout.New(w, level, format)
	if err != nil {
		return nil, usage("%s %v", givenAs("log-format"), err)
	}
	return l, nil
}

// logOpts are the log flags of the command line being run; logDest is
// where the log goes (execute sets it to the redacted stderr).
var (
	logOpts logFlags
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
func configureLog(c *cobra.Command, f *logFlags, w io.Writer) error {
	if err := given.Bind(c.Flags(), c.Name(), func(name string) bool { return slices.Contains(logNames, name) }, warn); err != nil {
		return err
	}
	level, levelErr := f.slogLevel()
	if levelErr != nil {
		level = slog.LevelInfo // the error is still written in the format asked for
	}
	l, err := newLogger(w, level, f.format)
	if err != nil {
		return err
	}
	logger = l
	return levelErr
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
