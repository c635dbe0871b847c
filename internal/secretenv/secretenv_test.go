package secretenv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadTakesTheVariableOrItsFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "key")
	if err := os.WriteFile(file, []byte("from-file-0123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, want, err string
		env             map[string]string
	}{
		{name: "neither", env: map[string]string{}},
		{name: "variable", env: map[string]string{"K": " plain "}, want: "plain"},
		{name: "file", env: map[string]string{"K_FILE": file}, want: "from-file-0123"},
		{name: "both", env: map[string]string{"K": "a", "K_FILE": file}, err: "both K and K_FILE"},
		{name: "missing file", env: map[string]string{"K_FILE": filepath.Join(dir, "nope")}, err: "K_FILE: cannot read"},
		{name: "empty file", env: map[string]string{"K_FILE": empty}, err: "is empty; put the key in it"},
		{name: "a key given as the path", env: map[string]string{"K_FILE": "c2VjcmV0LWtleS1mb3ItdGhlLXRlc3Qtb25seS0wMDE="}, err: "looks like a key, not a path"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Read(func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }, "K", "the key")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || strings.Contains(err.Error(), "c2VjcmV0") {
					t.Errorf("err = %v; want %q without the secret", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("Read = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
