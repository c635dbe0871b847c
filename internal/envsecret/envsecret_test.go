package envsecret

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "token")
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(good, []byte("  secret-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name             string
		env              map[string]string
		value, from, err string
	}{
		{"unset", nil, "", "", ""},
		{"value", map[string]string{"T": " v "}, "v", "T", ""},
		{"file", map[string]string{"T_FILE": good}, "secret-from-file", "T_FILE", ""},
		{"both", map[string]string{"T": "v", "T_FILE": good}, "", "", "both T and T_FILE"},
		{"missing file", map[string]string{"T_FILE": filepath.Join(dir, "nope")}, "", "T_FILE", "cannot read"},
		{"empty file", map[string]string{"T_FILE": empty}, "", "T_FILE", "is empty"},
		{"a token given as the path", map[string]string{"T_FILE": "dop_v1_3f9a0c7e1b5d2a8f4c6e0b9d7a1f3c5e8b2d4f6a0c9e7b1d3f5a8c2e4b6d0f9a"}, "", "T_FILE", "looks like a key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, from, err := Read(func(k string) (string, bool) { s, ok := tt.env[k]; return s, ok }, "T")
			if v != tt.value || from != tt.from || (err == nil) != (tt.err == "") || err != nil && !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Read = %q, %q, %v; want %q, %q, %q", v, from, err, tt.value, tt.from, tt.err)
			}
			if err != nil && strings.Contains(err.Error(), "3f9a0c7e1b5d") {
				t.Errorf("error shows the secret: %v", err)
			}
		})
	}
}
