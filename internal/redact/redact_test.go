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

// A URL given as a plain, non-secret setting may carry a user and
// password: whatever quotes it (an error, a log line, --json) shows the
// host and path, never the userinfo.
func TestURLUserinfoIsRedacted(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{`key "endpoint": "https://user:pass@api.example/v1": credentials in the URL`, `key "endpoint": "https://[redacted]@api.example/v1": credentials in the URL`},
		{"GET http://u:p@127.0.0.1:8080/x failed", "GET http://[redacted]@127.0.0.1:8080/x failed"},
		{"postgres://strictacme:hunter2@db/acme?sslmode=require", "postgres://[redacted]@db/acme?sslmode=[redacted]"},
		{"https://token@host and https://a:b@other/", "https://[redacted]@host and https://[redacted]@other/"},
		{`{"url":"https://x:y@h"}`, `{"url":"https://[redacted]@h"}`},
		// No userinfo: unchanged, including an address after a URL.
		{"https://api.example/v1 mail ops@example.com", "https://api.example/v1 mail ops@example.com"},
		{"https://api.example/a@b", "https://api.example/a@b"},
		{"mailto:ops@example.com", "mailto:ops@example.com"},
	} {
		if got := String(tt.in); got != tt.want {
			t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// A URL's query may carry a token (?token=…, ?api_key=…) given in a plain
// setting: whatever quotes the URL shows the keys of its query, never the
// values; the fragment and what follows the URL are kept.
func TestURLQueryValuesAreRedacted(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{`Get "https://[redacted]@127.0.0.1:1/x?token=qsecret123#frag/api/v1/servers": dial tcp`, `Get "https://[redacted]@127.0.0.1:1/x?token=[redacted]#[redacted]": dial tcp`},
		{`key "api_url": "https://127.0.0.1:1/api?SECRETBARE#frag-SECRETFRAG": no query`, `key "api_url": "https://127.0.0.1:1/api?[redacted]#[redacted]": no query`},
		{"https://h/p#only-fragment", "https://h/p#[redacted]"},
		{"CA directory https://127.0.0.1:1/dir?token=abc: provisioning client", "CA directory https://127.0.0.1:1/dir?token=[redacted]: provisioning client"},
		{"see https://h/p#frag, then", "see https://h/p#[redacted], then"},
		{"issue #12 of https://h/p", "issue #12 of https://h/p"},
		{"https://api.example/v1?a=1&key=s3cr3t;b=2 failed", "https://api.example/v1?a=[redacted]&key=[redacted]&b=[redacted] failed"},
		{"https://api.example/?bare-token-value", "https://api.example/?[redacted]"},
		{`{"url":"https://h/p?k=v"}`, `{"url":"https://h/p?k=[redacted]"}`},
		// No query: unchanged, as is a question after a URL.
		{"https://api.example/v1 failed? yes", "https://api.example/v1 failed? yes"},
		{"https://api.example/v1?", "https://api.example/v1?"},
		{"is it ready? token=abc", "is it ready? token=abc"},
	} {
		if got := String(tt.in); got != tt.want {
			t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
