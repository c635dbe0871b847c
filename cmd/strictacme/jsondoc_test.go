package main

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strictacme/strictacme/internal/jsonout"
	"github.com/strictacme/strictacme/internal/sandbox"
	"github.com/strictacme/strictacme/internal/testworld"
)

// jsonDoc decodes stdout of a --json run as exactly one JSON object with
// the current schema_version and no null anywhere (an empty list is []).
func jsonDoc(t *testing.T, out string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(out))
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, out)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		t.Fatalf("stdout holds more than one JSON document:\n%s", out)
	}
	if v, ok := doc["schema_version"].(float64); !ok || int(v) != jsonout.SchemaVersion {
		t.Errorf("schema_version = %v, want %d", doc["schema_version"], jsonout.SchemaVersion)
	}
	if path := nullAt(doc, "$"); path != "" {
		t.Errorf("null at %s:\n%s", path, out)
	}
	return doc
}

// nullAt returns the path of the first null in v, or "".
func nullAt(v any, path string) string {
	switch v := v.(type) {
	case nil:
		return path
	case map[string]any:
		for k, e := range v {
			if p := nullAt(e, path+"."+k); p != "" {
				return p
			}
		}
	case []any:
		for _, e := range v {
			if p := nullAt(e, path+"[]"); p != "" {
				return p
			}
		}
	}
	return ""
}

// certObjects returns the per-certificate objects of doc: its
// "certificates" list, or doc itself for issue's one certificate.
func certObjects(t *testing.T, doc map[string]any) []map[string]any {
	t.Helper()
	list, ok := doc["certificates"].([]any)
	if !ok {
		return []map[string]any{doc}
	}
	var out []map[string]any
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			t.Fatalf("certificates holds %T, want objects", e)
		}
		out = append(out, m)
	}
	return out
}

// TestJSONOneDocumentPerCommand runs every command that has --json against
// one test world, in an order that gives each something to say, and pins
// the shape they share: stdout is exactly one object with schema_version,
// lists are [] when empty, a certificate is "name" and its identifiers
// "names" in issue, run, renew, list and check alike, and a run with two
// certificates (run --json) is still one document.
func TestJSONOneDocumentPerCommand(t *testing.T) {
	w := testworld.Start(t)
	runWorld = w
	t.Cleanup(sandbox.Use(w.Provider()))
	f := worldConfig(t, w, `
[providers.main]
type = "world"
zones = ["example.com"]

[[certificate]]
name = "web"
names = ["www.example.com"]

[[certificate]]
name = "api"
names = ["api.example.com"]
`)
	state := filepath.Join(filepath.Dir(f), "state")
	ca := []string{"--server", w.DirectoryURL, "--ca-cert", w.TLSRootFile, "--path", state}
	issue := append([]string{"issue", "--accept-tos", "--resolver", w.DoHURL, "--dns", sandbox.Provider, "-d", "one.example.com"}, ca...)

	cases := []struct {
		name  string
		args  []string
		code  int
		certs int    // per-certificate objects the document holds; -1: none
		key   string // a member the document must have
	}{
		{"run issues two certificates", []string{"run", "--config", f}, 0, 2, "certificates"},
		{"run with nothing due", []string{"run", "--config", f}, 0, 2, "certificates"},
		{"renew with nothing due", []string{"renew", "--path", state}, 0, 2, "certificates"},
		{"list", []string{"list", "--path", state}, 0, 2, "certificates"},
		{"issue", issue, 0, 1, "certificate"},
		{"issue of a stored certificate not due", issue, 0, 1, "not_due"},
		{"issue --dry-run", append(issue[:len(issue):len(issue)], "--dry-run"), 0, 1, "dry_run"},
		{"run --dry-run", []string{"run", "--config", f, "--dry-run"}, 0, 2, "certificates"},
		{"check", []string{"check", "--config", f}, 0, 2, "certificates"},
		{"account", append([]string{"account"}, ca...), 0, -1, "contact"},
		{"persist", append([]string{"persist", "--resolver", w.DoHURL, "-d", "example.com"}, ca...), 0, -1, "records"},
		{"renew of a missing state directory", []string{"renew", "--path", filepath.Join(state, "missing")}, 2, -1, "error"},
		{"flag error", []string{"delete", "--json", "web"}, 2, -1, "error"},
		{"sandbox", []string{"sandbox", "--path", filepath.Join(t.TempDir(), "sandbox"), "-d", "one.example.net"}, 0, 1, "root_ca"},
	}
	for _, c := range cases {
		args := c.args
		if args[len(args)-2] != "--json" && c.name != "flag error" {
			args = append(args[:len(args):len(args)], "--json")
		}
		code, out, errs := runCLI(t, args...)
		if code != c.code {
			t.Fatalf("%s: exit %d, want %d\n%s\n%s", c.name, code, c.code, out, errs)
		}
		doc := jsonDoc(t, out)
		if _, ok := doc[c.key]; !ok {
			t.Errorf("%s: no %q:\n%s", c.name, c.key, out)
		}
		if v, has := doc["ok"]; has && v != (c.code == 0) {
			t.Errorf("%s: ok = %v with exit %d", c.name, doc["ok"], code)
		}
		if c.certs < 0 {
			continue
		}
		certs := certObjects(t, doc)
		if len(certs) != c.certs {
			t.Errorf("%s: %d certificates, want %d:\n%s", c.name, len(certs), c.certs, out)
		}
		for _, m := range certs {
			if _, ok := m["name"].(string); !ok {
				t.Errorf("%s: a certificate has no \"name\":\n%s", c.name, out)
			}
			if names, ok := m["names"].([]any); !ok || len(names) == 0 {
				t.Errorf("%s: a certificate has no \"names\":\n%s", c.name, out)
			}
		}
	}
}

// TestJSONEmptyListsAreEmpty pins [] for the list of a command that had
// nothing to report: list, renew and run pointed at a certbot tree say on
// stderr how to import it, and stdout is still the one document, with
// "certificates": [].
func TestJSONEmptyListsAreEmpty(t *testing.T) {
	tree := t.TempDir()
	if err := os.Mkdir(filepath.Join(tree, "live"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"list", "--path", tree}, {"renew", "--path", tree}} {
		code, out, errs := runCLI(t, append(args, "--json")...)
		if code != 0 || !strings.Contains(errs, "strictacme import certbot") {
			t.Fatalf("%s: exit %d\n%s\n%s", args[0], code, out, errs)
		}
		doc := jsonDoc(t, out)
		if l, ok := doc["certificates"].([]any); !ok || len(l) != 0 {
			t.Errorf("%s: certificates = %#v, want []", args[0], doc["certificates"])
		}
	}
}
