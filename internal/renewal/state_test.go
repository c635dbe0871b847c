package renewal

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A revocation is recorded whatever state the certificate folder holds:
// none yet, an earlier history (kept), or a damaged file (replaced).
func TestMarkRevokedRecordsTheSerial(t *testing.T) {
	at := time.Date(2026, 12, 3, 1, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		before     string // StateFile content; "" = no file
		wantErrors int
	}{
		{"no state yet", "", 0},
		{"earlier failures are kept", `{"errors":3}`, 3},
		{"damaged state is replaced", `{"errors":`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.before != "" {
				if err := os.WriteFile(filepath.Join(dir, StateFile), []byte(tt.before), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if err := MarkRevoked(dir, "04ab", at); err != nil {
				t.Fatal(err)
			}
			s, err := LoadState(dir)
			if err != nil {
				t.Fatal(err)
			}
			if !s.RevokedAt("04ab").Equal(at) || !s.RevokedAt("05cd").IsZero() || s.Errors != tt.wantErrors {
				t.Fatalf("state %+v", s)
			}
		})
	}
}
