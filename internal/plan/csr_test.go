package plan

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/strictacme/strictacme/internal/renewal"
	"github.com/strictacme/strictacme/internal/store"
)

func writeCSR(t *testing.T, names ...string) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: names[0]}, DNSNames: names}, key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "req.csr")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// Settings with a CSR take its names and its key: Build orders for them
// with the CSR's key type, nothing of the defaults' ec256.
func TestCSRGivesNamesAndKeyType(t *testing.T) {
	csr := writeCSR(t, "web.example.com", "www.example.com")
	s := Settings{CSR: csr, Provider: "x", Providers: []ProviderRef{{Name: "x", Kind: "exec", Values: map[string]string{"program": "/bin/true"}}}}
	p, err := Build(s, BuildOptions{Path: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, id := range p.Identifiers {
		ids = append(ids, id.ASCII)
	}
	if !slices.Equal(ids, []string{"web.example.com", "www.example.com"}) || p.Settings.Name != "web.example.com" || p.KeyType != "ec384" || p.CSR == nil || p.Settings.KeyType != "" {
		t.Errorf("identifiers %q name %q key type %s (settings %q) csr %v", ids, p.Settings.Name, p.KeyType, p.Settings.KeyType, p.CSR != nil)
	}
	if v := p.Settings.Version(); v != 2 || (Settings{}).Version() != 1 {
		t.Errorf("schema versions %d and %d; want 2 with a CSR, 1 without", v, (Settings{}).Version())
	}
}

// Each setting that needs a key of strictacme's own, and names that are
// not the CSR's, is a problem at its own key, in config words.
func TestCSRProblemsAtTheirKeys(t *testing.T) {
	csr := writeCSR(t, "web.example.com")
	s := Settings{CSR: csr, Names: []string{"web.example.com", "other.example.com"}, KeyType: "ec256", ReuseKey: true}
	s.KeyFile, s.PEMFile, s.PKCS12File, s.PKCS12PasswordEnv = "/tmp/k", "/tmp/p", "/tmp/x.p12", "HOME"
	var keys []string
	for _, p := range s.Validate(ValidateOptions{}) {
		keys = append(keys, p.Key)
		if strings.Contains(p.Msg, "--") {
			t.Errorf("a flag in %q", p.Msg)
		}
	}
	for _, want := range []string{"csr", "key_type", "reuse_key", "install_key", "install_pem", "install_pkcs12"} {
		if !slices.Contains(keys, want) {
			t.Errorf("no problem for %s; got %v", want, keys)
		}
	}
	bad := Settings{CSR: filepath.Join(t.TempDir(), "gone.csr"), Provider: "x", Providers: []ProviderRef{{Name: "x", Kind: "exec", Values: map[string]string{"program": "/bin/true"}}}}
	ps := bad.Validate(ValidateOptions{})
	if len(ps) != 1 || ps[0].Key != "csr" {
		t.Errorf("a CSR that cannot be read: %v; want one problem at csr (no follow-ups about names)", ps)
	}
}

// Whether a certificate is of the operator's CSR is part of its identity:
// switching makes it differ; its key type is the CSR's, never compared with
// the default.
func TestDiffersOnSwitchingToOrFromACSR(t *testing.T) {
	csr := writeCSR(t, "a.example")
	withCSR := store.Metadata{Names: []string{"a.example"}, KeyType: "ec384", CSR: true}
	own := store.Metadata{Names: []string{"a.example"}, KeyType: "ec256"}
	if d := (Settings{CSR: csr}).Differs(withCSR); len(d) != 0 {
		t.Errorf("the same CSR certificate differs: %v", d)
	}
	if d := (Settings{CSR: csr}).Differs(own); len(d) != 1 {
		t.Errorf("switching to a CSR: %v", d)
	}
	if d := (Settings{Names: []string{"a.example"}}).Differs(withCSR); len(d) != 1 {
		t.Errorf("switching away from a CSR: %v", d)
	}
}

// renew orders a stored certificate of a CSR again for the copy stored
// with it, whatever became of the file first given; its stored key type
// does not become a key_type setting.
func TestStoredCSRCertificateRenewsWithItsStoredCopy(t *testing.T) {
	s := Settings{CSR: "/gone/req.csr", Provider: "x"}
	raw, err := s.Encode()
	if err != nil {
		t.Fatal(err)
	}
	m := store.Metadata{Names: []string{"a.example"}, KeyType: "ec384", CSR: true, Settings: raw, SettingsVersion: s.Version()}
	c := &renewal.CertRun{Name: "a.example", Cert: &store.Certificate{Name: "a.example", Dir: filepath.Join("state", "certificates", "a.example", "current"), Meta: m}}
	got, fromConfig, err := SettingsFor(c, nil)
	if err != nil || fromConfig {
		t.Fatal(err, fromConfig)
	}
	if want := filepath.Join(c.Cert.Dir, store.CSRFile); got.CSR != want || got.KeyType != "" {
		t.Errorf("csr %q key type %q; want %q and none", got.CSR, got.KeyType, want)
	}
}
