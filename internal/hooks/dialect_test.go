package hooks

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A certbot or lego deploy hook runs unchanged: it finds the certificate
// under the names those clients give it, pointing at the same files as
// the STRICTACME_* variables.
func TestDeployHookSpeaksCertbotAndLego(t *testing.T) {
	dir := filepath.Join("/state", "certificates", "example.com")
	env := DeployEnv(Cert{Name: "example.com", Domains: []string{"example.com", "*.example.com"}, Dir: dir, KeyType: "ec384",
		Directory: "https://acme.example/directory", PEMPath: "/etc/haproxy/web.pem", PKCS12Path: "/etc/java/web.p12"})
	want := map[string]string{
		"RENEWED_LINEAGE":               dir,
		"RENEWED_DOMAINS":               "example.com *.example.com",
		"LEGO_HOOK_CERT_NAME":           "example.com",
		"LEGO_HOOK_CERT_NAME_SANITIZED": "example.com",
		"LEGO_HOOK_CERT_DOMAINS":        "example.com,*.example.com",
		"LEGO_HOOK_CERT_KEY_TYPE":       "EC384",
		"LEGO_HOOK_CERT_PATH":           filepath.Join(dir, "fullchain.pem"),
		"LEGO_HOOK_CERT_KEY_PATH":       filepath.Join(dir, "privkey.pem"),
		"LEGO_HOOK_ISSUER_CERT_PATH":    filepath.Join(dir, "chain.pem"),
		"LEGO_HOOK_CERT_PEM_PATH":       "/etc/haproxy/web.pem",
		"LEGO_HOOK_CERT_PFX_PATH":       "/etc/java/web.p12",
		"LEGO_HOOK_ACCOUNT_SERVER":      "https://acme.example/directory",
		"STRICTACME_PEM_PATH":           "/etc/haproxy/web.pem",
		"STRICTACME_PKCS12_PATH":        "/etc/java/web.p12",
	}
	got := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if _, dup := got[k]; dup {
			t.Errorf("%s set twice", k)
		}
		got[k] = v
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s=%q, want %q", k, got[k], v)
		}
	}
	// Without those outputs their variables are absent, as with lego.
	for _, kv := range DeployEnv(Cert{Name: "x"}) {
		if k, _, _ := strings.Cut(kv, "="); slices.Contains([]string{"LEGO_HOOK_CERT_PEM_PATH", "LEGO_HOOK_CERT_PFX_PATH", "STRICTACME_PEM_PATH", "STRICTACME_PKCS12_PATH"}, k) {
			t.Errorf("%s set without the output", kv)
		}
	}
}

// VarNames lists every variable a hook can get, and docs/renewal.md's one
// table of hook variables lists each of them.
func TestDocsListEveryHookVariable(t *testing.T) {
	doc, err := os.ReadFile("../../docs/renewal.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range VarNames() {
		if !strings.Contains(string(doc), "`"+n+"`") {
			t.Errorf("docs/renewal.md does not list %s", n)
		}
	}
}

// For a certificate of the operator's CSR strictacme has no key: the key
// path variables are set and empty (so scripts under set -u still run),
// every other path is there.
func TestDeployHookOfACSRCertificateHasNoKeyPath(t *testing.T) {
	dir := filepath.Join("/state", "certificates", "example.com")
	env := DeployEnv(Cert{Name: "example.com", Dir: dir, NoKey: true})
	for _, want := range []string{"STRICTACME_KEY_PATH=", "LEGO_HOOK_CERT_KEY_PATH=", "STRICTACME_CERT_PATH=" + filepath.Join(dir, "cert.pem"), "LEGO_HOOK_CERT_PATH=" + filepath.Join(dir, "fullchain.pem")} {
		if !slices.Contains(env, want) {
			t.Errorf("no %s in %q", want, env)
		}
	}
}
