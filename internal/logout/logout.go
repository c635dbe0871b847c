// Package logout is the log on stderr: a slog logger writing text (one
// plain line per record, as strictacme always printed) or JSON (one object
// per line: time, level, msg), and a writer that turns the lines commands
// and hooks print into records of it.
package logout

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
)

// ParseLevel reads a --log-level value: debug, info, warn or error, in
// any case (WARN as slog itself prints it).
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("%q: give debug, info, warn or error", s)
}

// New returns the logger writing records at level and above to w in
// format, "text" or "json" in any case (as ParseLevel reads levels);
// another format is an error.
func New(w io.Writer, level slog.Level, format string) (*slog.Logger, error) {
	switch strings.ToLower(strings.TrimSpace(format)) {
	case "text":
		return slog.New(NewTextHandler(w, level)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})), nil
	}
	return nil, fmt.Errorf("%q: give text or json", format)
}

// Options are the log as asked for: Quiet (errors only, whatever Level
// says), Level (ParseLevel) and Format ("text" or "json").
type Options struct {
	Quiet         bool
	Level, Format string
}

// OptionError is a bad value of Options: Key is "level" or "format".
type OptionError struct {
	Key string
	Err error
}

func (e *OptionError) Error() string { return e.Key + ": " + e.Err.Error() }
func (e *OptionError) Unwrap() error { return e.Err }

// Logger returns the logger o asks for, writing to w. A bad Format is an
// *OptionError and no logger. A bad Level is an *OptionError too, but
// comes with a logger at info in the format asked for, so that the
// refusal itself is written as asked.
func (o Options) Logger(w io.Writer) (*slog.Logger, error) {
	level, levelErr := slog.LevelError, error(nil)
	if !o.Quiet {
		var err error
		if level, err = ParseLevel(o.Level); err != nil {
			level, levelErr = slog.LevelInfo, &OptionError{Key: "level", Err: err}
		}
	}
	l, err := New(w, level, o.Format)
	if err != nil {
		return nil, &OptionError{Key: "format", Err: err}
	}
	return l, levelErr
}

// LevelOf is the level of a line a command wrote: warn for a warning
// ("warning: …", "NAME: warning: …"), else info.
func LevelOf(line string) slog.Level {
	if strings.HasPrefix(line, "warning: ") || strings.Contains(line, ": warning: ") {
		return slog.LevelWarn
	}
	return slog.LevelInfo
}

// Writer is stderr as commands and hooks see it: each line written becomes
// one record of the logger Log returns, at LevelOf the line. Flush passes
// on a last line without a newline. Safe for concurrent use.
type Writer struct {
	// Log returns the logger to write to, asked at each line (the logger
	// may be set after the writer is handed out).
	Log func() *slog.Logger

	mu  sync.Mutex
	buf []byte
}

func (w *Writer) Write(p []byte) (int, error) {
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
		w.Log().Log(context.Background(), LevelOf(l), l)
	}
	return len(p), nil
}

// Flush logs what is left without a newline.
func (w *Writer) Flush() {
	w.mu.Lock()
	rest := string(w.buf)
	w.buf = nil
	w.mu.Unlock()
	if rest != "" {
		w.Log().Log(context.Background(), LevelOf(rest), rest)
	}
}

// TextHandler writes each record as one line: its message, then the
// attributes as key=value (quoted with strconv.Quote when empty or holding
// a space, tab, quote or "="). Lines carry no time or level: under cron or
// systemd the journal or mail adds the time, and warnings say so in their
// text.
type TextHandler struct {
	mu    *sync.Mutex
	w     io.Writer
	level slog.Level
	attrs []slog.Attr
}

// NewTextHandler is a TextHandler writing records at level and above to w.
func NewTextHandler(w io.Writer, level slog.Level) *TextHandler {
	return &TextHandler{mu: new(sync.Mutex), w: w, level: level}
}

func (h *TextHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }

func (h *TextHandler) Handle(_ context.Context, r slog.Record) error {
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

func (h *TextHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &TextHandler{mu: h.mu, w: h.w, level: h.level, attrs: append(append([]slog.Attr(nil), h.attrs...), as...)}
}

func (h *TextHandler) WithGroup(string) slog.Handler { return h }
