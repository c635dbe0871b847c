package redact

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestSecretSplitAcrossWritesIsRedacted: a child process's output reaches
// the writer in pieces; a key cut in two by the pipe is still replaced, in
// its plain, JSON-escaped and quoted forms.
func TestSecretSplitAcrossWritesIsRedacted(t *testing.T) {
	secret := `k3y<&>"with"quotes-0123456789`
	Add(secret, "short")
	var out bytes.Buffer
	w := NewWriter(&out)
	line := "key is " + secret + "\n"
	for i := 0; i < len(line); i += 5 {
		end := min(i+5, len(line))
		if _, err := w.Write([]byte(line[i:end])); err != nil {
			t.Fatal(err)
		}
	}
	js, _ := json.Marshal(map[string]string{"error": "bad " + secret})
	w.Write(js)
	w.Write([]byte("\nquoted " + strings.Trim(`"`+secret+`"`, "") + " tail"))
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	if strings.Contains(got, "0123456789") {
		t.Fatalf("secret passed through:\n%s", got)
	}
	if strings.Count(got, Mask) != 3 {
		t.Errorf("want 3 masks:\n%s", got)
	}
	if String("a short word") != "a short word" {
		t.Error("a value below MinLen was registered")
	}
}
