package envvar

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func vars(kv ...string) Lookup {
	m := map[string]string{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestSecretFromTheVariableOrItsFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "tok")
	empty := filepath.Join(dir, "empty")
	_ = os.WriteFile(good, []byte("s3cret-value\n"), 0o600)
	_ = os.WriteFile(empty, []byte("\n"), 0o600)
	for _, tc := range []struct {
		name    string
		l       Lookup
		want    string
		wantErr string
	}{
		{"plain", vars("T", " s3cret-value "), "s3cret-value", ""},
		{"file, trailing newline trimmed", vars("T_FILE", good), "s3cret-value", ""},
		{"unset", vars(), "", ""},
		{"both set", vars("T", "a", "T_FILE", good), "", "both T and T_FILE"},
		{"missing file", vars("T_FILE", filepath.Join(dir, "nope")), "", "cannot read"},
		{"empty file", vars("T_FILE", empty), "", "is empty"},
		{"a key given as the path", vars("T_FILE", "dGhpcy1sb29rcy1saWtlLWEta2V5LW5vdC1hLXBhdGgtMDEyMzQ1"), "", "looks like a key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.l.Secret("T", "the token")
			if got != tc.want || (err == nil) != (tc.wantErr == "") || err != nil && !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Secret = %q, %v; want %q, %q", got, err, tc.want, tc.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "dGhpcy1sb29rcy1saWtl") {
				t.Errorf("error shows the value: %v", err)
			}
		})
	}
}

func TestDurationAndSeconds(t *testing.T) {
	if d, err := vars("D", "90").Duration("D", false); err != nil || d != 90*time.Second {
		t.Errorf("90: %v, %v", d, err)
	}
	if d, err := vars("D", "2m").Duration("D", false); err != nil || d != 2*time.Minute {
		t.Errorf("2m: %v, %v", d, err)
	}
	if _, err := vars("D", "0").Duration("D", false); err == nil {
		t.Error("0 accepted where zero is not")
	}
	if _, err := vars("D", "-1s").Duration("D", true); err == nil {
		t.Error("negative accepted")
	}
	if n, err := vars("S", "3600").Seconds("S", 60, 86400); err != nil || n != 3600 {
		t.Errorf("3600: %v, %v", n, err)
	}
	if _, err := vars("S", "30").Seconds("S", 60, 86400); err == nil || !strings.Contains(err.Error(), "between 60 and 86400") {
		t.Errorf("30: %v", err)
	}
}
