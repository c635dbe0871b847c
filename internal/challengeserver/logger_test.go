package challengeserver

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

// [logconfig] picks the level and format as acme-dns's config.cfg does;
// unknown or empty values log at info, as text.
func TestLogConfChoosesLevelAndFormat(t *testing.T) {
	tests := []struct {
		name   string
		conf   LogConf
		lowest slog.Level
		json   bool
	}{
		{"acme-dns defaults", LogConf{}, slog.LevelInfo, false},
		{"debug as JSON", LogConf{Level: "debug", Format: "json"}, slog.LevelDebug, true},
		{"warning in capitals", LogConf{Level: "WARNING", Format: "JSON"}, slog.LevelWarn, true},
		{"warn", LogConf{Level: "warn"}, slog.LevelWarn, false},
		{"error", LogConf{Level: "error", Format: "text"}, slog.LevelError, false},
		{"unknown level", LogConf{Level: "verbose"}, slog.LevelInfo, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			l := tt.conf.Logger(&buf)
			ctx := context.Background()
			if !l.Enabled(ctx, tt.lowest) || (tt.lowest > slog.LevelDebug && l.Enabled(ctx, tt.lowest-4)) {
				t.Errorf("lowest level enabled is not %v", tt.lowest)
			}
			l.Error("zone loaded", "zone", "auth.example.org")
			if out := buf.String(); strings.HasPrefix(out, "{") != tt.json || !strings.Contains(out, "auth.example.org") {
				t.Errorf("output %q, JSON %v", out, tt.json)
			}
		})
	}
}
