package main

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
)

// providerLog carries what DNS providers log (Info and above: the
// ClientIp in use, retries, records left in place, damage repaired) into
// the step log of the run using them. Providers are built with the plan,
// before the run has a step log, so the run points providerLog at its own
// with useProviderLog while it works; records outside a run are dropped.
var providerLog struct {
	mu  sync.Mutex
	out func(line string)
}

// useProviderLog sends provider log lines to logf until the returned
// function is called.
func useProviderLog(logf func(string)) (restore func()) {
	providerLog.mu.Lock()
	prev := providerLog.out
	providerLog.out = logf
	providerLog.mu.Unlock()
	return func() {
		providerLog.mu.Lock()
		providerLog.out = prev
		providerLog.mu.Unlock()
	}
}

// providerLogger is the Logger given to providers.
func providerLogger() *slog.Logger { return slog.New(stepLogHandler{}) }

// stepLogHandler writes a record as one line, "message key=value …",
// warnings marked as such.
type stepLogHandler struct{ attrs []slog.Attr }

func (stepLogHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }

func (h stepLogHandler) Handle(_ context.Context, r slog.Record) error {
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
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	providerLog.mu.Lock()
	out := providerLog.out
	providerLog.mu.Unlock()
	if out != nil {
		out(b.String())
	}
	return nil
}

func (h stepLogHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return stepLogHandler{attrs: append(append([]slog.Attr(nil), h.attrs...), as...)}
}

func (h stepLogHandler) WithGroup(string) slog.Handler { return h }
