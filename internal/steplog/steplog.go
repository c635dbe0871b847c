// Package steplog carries what DNS providers log into the step log of the
// run that uses them.
//
// Providers get their *slog.Logger when the plan is built, before a run has
// a step log; the run points the log at its own with Use while it works.
// Records that arrive while no run listens are dropped.
package steplog

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
)

var current struct {
	mu  sync.Mutex
	out func(line string)
}

// Use sends the lines of every Logger to logf until restore is called;
// restore puts back the destination that was in use before (runs nest).
// logf nil drops the lines.
func Use(logf func(line string)) (restore func()) {
	current.mu.Lock()
	prev := current.out
	current.out = logf
	current.mu.Unlock()
	return func() {
		current.mu.Lock()
		current.out = prev
		current.mu.Unlock()
	}
}

// Logger returns a logger whose records at Info and above become one line
// each, "message key=value …", with "warning: " before a record at Warn or
// above; values that are empty or hold a space, tab, quote or "=" are
// quoted (strconv.Quote).
func Logger() *slog.Logger { return slog.New(handler{}) }

type handler struct{ attrs []slog.Attr }

func (handler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }

func (h handler) Handle(_ context.Context, r slog.Record) error {
	current.mu.Lock()
	out := current.out
	current.mu.Unlock()
	if out != nil {
		out(line(r, h.attrs...))
	}
	return nil
}

// line is the text of r as Logger writes it, attrs (those of With) before
// the record's own.
func line(r slog.Record, attrs ...slog.Attr) string {
	var b strings.Builder
	if r.Level >= slog.LevelWarn {
		b.WriteString("warning: ")
	}
	b.WriteString(r.Message)
	add := func(a slog.Attr) bool {
		v := a.Value.Resolve().String()
		if v == "" || strings.ContainsAny(v, " \t\"=") {
			v = strconv.Quote(v)
		}
		b.WriteString(" " + a.Key + "=" + v)
		return true
	}
	for _, a := range attrs {
		add(a)
	}
	r.Attrs(add)
	return b.String()
}

func (h handler) WithAttrs(as []slog.Attr) slog.Handler {
	return handler{attrs: append(append([]slog.Attr(nil), h.attrs...), as...)}
}

func (h handler) WithGroup(string) slog.Handler { return h }
