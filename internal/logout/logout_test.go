package logout

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

// Lines a command prints become records at their level: a warning stays a
// warning in the JSON log, a partial last line is passed on by Flush, and
// text output is the line as it was printed.
func TestWriterTurnsLinesIntoRecords(t *testing.T) {
	for _, tc := range []struct {
		format string
		want   []string
	}{
		{"text", []string{"issued a.example.com\n", "warning: no resolver answered\n", "x.example.com: warning: slow\n", "last words\n"}},
		{"json", []string{`"level":"INFO","msg":"issued a.example.com"`, `"level":"WARN","msg":"warning: no resolver answered"`, `"level":"WARN","msg":"x.example.com: warning: slow"`, `"level":"INFO","msg":"last words"`}},
	} {
		var out bytes.Buffer
		l, err := New(&out, slog.LevelInfo, tc.format)
		if err != nil {
			t.Fatal(err)
		}
		w := &Writer{Log: func() *slog.Logger { return l }}
		_, _ = w.Write([]byte("issued a.example.com\nwarning: no resolver"))
		_, _ = w.Write([]byte(" answered\r\nx.example.com: warning: slow\nlast words"))
		w.Flush()
		lines := strings.SplitAfter(out.String(), "\n")
		lines = lines[:len(lines)-1]
		if len(lines) != len(tc.want) {
			t.Fatalf("%s: %d lines, want %d:\n%s", tc.format, len(lines), len(tc.want), out.String())
		}
		for i, line := range lines {
			if tc.format == "json" {
				var rec map[string]any
				if err := json.Unmarshal([]byte(line), &rec); err != nil || rec["time"] == nil {
					t.Errorf("json line %q: %v, want an object with time", line, err)
				}
				if !strings.Contains(line, tc.want[i]) {
					t.Errorf("json line %q lacks %s", line, tc.want[i])
				}
			} else if line != tc.want[i] {
				t.Errorf("text line %q, want %q", line, tc.want[i])
			}
		}
	}
}

// Below the level nothing is written; attributes follow the message in
// text, quoted when they hold a space.
func TestTextHandlerLevelAndAttributes(t *testing.T) {
	var out bytes.Buffer
	l, _ := New(&out, slog.LevelWarn, "text")
	l.Info("not shown")
	l.With("cert", "web").Warn("renewal failed", "error", "CA said no")
	if got, want := out.String(), "renewal failed cert=web error=\"CA said no\"\n"; got != want {
		t.Errorf("text log %q, want %q", got, want)
	}
}

func TestParseLevelAndFormatNameTheChoices(t *testing.T) {
	if _, err := ParseLevel("loud"); err == nil || !strings.Contains(err.Error(), "debug, info, warn or error") {
		t.Errorf("ParseLevel(loud) = %v", err)
	}
	if _, err := New(&bytes.Buffer{}, slog.LevelInfo, "xml"); err == nil || !strings.Contains(err.Error(), "text or json") {
		t.Errorf("New(xml) = %v", err)
	}
}

// Levels are accepted in the case slog prints them (WARN) as well as in
// lower case.
func TestLogLevelInUpperCaseIsAccepted(t *testing.T) {
	for in, want := range map[string]slog.Level{"WARN": slog.LevelWarn, "Debug": slog.LevelDebug, "error": slog.LevelError, " INFO ": slog.LevelInfo} {
		got, err := ParseLevel(in)
		if err != nil || got != want {
			t.Errorf("ParseLevel(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
}

// The format is read in any case, as the level is: --log-format JSON is
// json, Text is text.
func TestLogFormatInUpperCaseIsAccepted(t *testing.T) {
	for in, wantJSON := range map[string]bool{"JSON": true, "Json": true, " json ": true, "TEXT": false, "Text": false} {
		var b bytes.Buffer
		l, err := New(&b, slog.LevelInfo, in)
		if err != nil {
			t.Errorf("New(%q): %v", in, err)
			continue
		}
		l.Info("hello")
		if isJSON := strings.HasPrefix(b.String(), `{"time":`); isJSON != wantJSON {
			t.Errorf("New(%q) wrote %q; want JSON %v", in, b.String(), wantJSON)
		}
	}
}

// Quiet wins over the level; a bad level still gives a logger in the
// format asked (to write the refusal), a bad format none; each error
// names its option.
func TestOptionsLoggerQuietBadLevelBadFormat(t *testing.T) {
	var b bytes.Buffer
	l, err := Options{Quiet: true, Level: "debug", Format: "text"}.Logger(&b)
	if err != nil || l.Enabled(context.Background(), slog.LevelWarn) || !l.Enabled(context.Background(), slog.LevelError) {
		t.Errorf("quiet: %v", err)
	}
	l, err = Options{Level: "loud", Format: "json"}.Logger(&b)
	var oe *OptionError
	if !errors.As(err, &oe) || oe.Key != "level" || l == nil {
		t.Fatalf("bad level: %v, %v", l, err)
	}
	l.Error("refused")
	if !strings.HasPrefix(b.String(), "{") {
		t.Errorf("the refusal is not in the format asked: %q", b.String())
	}
	if l, err := (Options{Level: "info", Format: "xml"}).Logger(&b); !errors.As(err, &oe) || oe.Key != "format" || l != nil {
		t.Errorf("bad format: %v, %v", l, err)
	}
}
