package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
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
	fl.BoolVar(&f.quiet, "quiet", false, "print errors only: no log lines below error, no summary on stdout (--json output is still printed)")
	fl.StringVar(&f.level, "log-level", "info", "lowest level of log line written on stderr: debug, info, warn or error")
	fl.StringVar(&f.format, "log-format", "text", "log lines on stderr as text (one line each) or json (one JSON object per line: time, level, msg)")
	fl.VisitAll(func(fl *pflag.Flag) { fl.Usage += " [$" + envName(fl.Name) + "]" })
}

// slogLevel is the lowest level f lets through.
func (f *logFlags) slogLevel() (slog.Level, error) {
	if f.quiet {
		return slog.LevelError, nil
	}
	switch f.level {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, usage("%s %q: give debug, info, warn or error", givenAs("log-level"), f.level)
}

// newLogger returns the logger writing records at level and above to w in
// format ("text" or "json").
func newLogger(w io.Writer, level slog.Level, format string) (*slog.Logger, error) {
	switch format {
	case "text":
		return slog.New(&textHandler{w: w, level: level}), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})), nil
	}
	return nil, usage("%s %q: give text or json", givenAs("log-format"), format)
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
var logger = slog.New(&textHandler{w: io.Discard, level: slog.LevelInfo})

// configureLog binds the log flags' environment variables and sets logger
// from them, writing to w. It runs before the command's own flags are
// bound, so their warnings are already logged as asked.
func configureLog(c *cobra.Command, f *logFlags, w io.Writer) error {
	if err := bindEnvOf(c, func(name string) bool {
		for _, n := range logNames {
			if n == name {
				return true
			}
		}
		return false
	}); err != nil {
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

// logLevelOf is the level of a line written to stderr by a command: warn
// for a warning ("warning: …", "NAME: warning: …"), else info.
func logLevelOf(line string) slog.Level {
	if strings.HasPrefix(line, "warning: ") || strings.HasPrefix(line, "strictacme: warning: ") ||
		strings.Contains(line, ": warning: ") {
		return slog.LevelWarn
	}
	return slog.LevelInfo
}

// logLine logs one line a command wrote on stderr, at its level.
func logLine(line string) {
	logger.Log(context.Background(), logLevelOf(line), line)
}

// logDebug logs a line only wanted at --log-level debug.
func logDebug(line string) { logger.Debug(line) }

// logWriter is stderr as commands and hooks see it: each line written
// becomes one record of logger (logLine). Flush passes on a last line
// without a newline.
type logWriter struct {
	mu  sync.Mutex
	buf []byte
}

func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.buf = append(w.buf, p...)
	var lines []string
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		lines = append(lines, strings.TrimSuffix(string(w.buf[:i]), "\r"))
		w.buf = w.buf[i+1:]
	}
	w.mu.Unlock()
	for _, l := range lines {
		logLine(l)
	}
	return len(p), nil
}

// Flush logs what is left without a newline.
func (w *logWriter) Flush() {
	w.mu.Lock()
	rest := string(w.buf)
	w.buf = nil
	w.mu.Unlock()
	if rest != "" {
		logLine(rest)
	}
}

// textHandler writes each record as one line: its message, then the
// attributes as key=value (quoted with strconv.Quote when empty or holding
// a space, tab, quote or "="). Lines carry no time or level: under cron or
// systemd the journal or mail adds the time, and warnings say so in their
// text.
type textHandler struct {
	mu    sync.Mutex
	w     io.Writer
	level slog.Level
	attrs []slog.Attr
}

func (h *textHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }

func (h *textHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	add := func(a slog.Attr) bool {
		v := a.Value.Resolve().String()
		if v == "" || strings.ContainsAny(v, " \t\"=") {
			v = strconv.Quote(v)
		}
		b.WriteString(" " + a.Key + "=" + v)
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	b.WriteByte('\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, b.String())
	return err
}

func (h *textHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &textHandler{w: h.w, level: h.level, attrs: append(append([]slog.Attr(nil), h.attrs...), as...)}
}

func (h *textHandler) WithGroup(string) slog.Handler { return h }

// logError logs the error a command ended with.
func logError(err error) { logger.Error("strictacme: " + err.Error()) }
