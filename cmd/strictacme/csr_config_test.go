package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/store"
	"github.com/strictacme/strictacme/internal/testworld"
)

// A [[certificate]] with only a csr key: run --config orders it for the
// CSR's names and key and stores no key; renew, without the file, sends
// the stored CSR again (same key, "replaces" the old certificate). A csr
// key that cannot be used is reported at its line, with nothing sent.
func TestConfigCSRCertificateRunsAndRenews(t *testing.T) {
	w := testworld.Start(t)
	runWorld = w
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "cfg.example.com"}, DNSNames: []string{"cfg.example.com"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	csr := filepath.Join(t.TempDir(), "cfg.csr")
	if err := os.WriteFile(csr, der, 0o644); err != nil { // DER, as some tools write it
		t.Fatal(err)
	}
	f := worldConfig(t, w, `
[providers.main]
type = "world"
zones = ["example.com"]

[[certificate]]
csr = "`+csr+`"
`)
	state := filepath.Join(filepath.Dir(f), "state")
	st := &store.Store{Root: state}
	if code, out, errs := runCLI(t, "run", "--config", f); code != 0 {
		t.Fatalf("run: exit %d\n%s\n%s", code, out, errs)
	}
	first, err := st.LoadCertificate("cfg.example.com")
	if err != nil {
		t.Fatal(err)
	}
	if !first.Leaf.PublicKey.(*ecdsa.PublicKey).Equal(&key.PublicKey) || len(first.KeyPEM) != 0 || !first.Meta.CSR {
		t.Fatalf("stored: same key %v, key stored %v, csr %v", first.Leaf.PublicKey.(*ecdsa.PublicKey).Equal(&key.PublicKey), len(first.KeyPEM) > 0, first.Meta.CSR)
	}
	if _, err := os.Stat(filepath.Join(st.CertDir("cfg.example.com"), store.PrivkeyFile)); !os.IsNotExist(err) {
		t.Errorf("a private key file is stored: %v", err)
	}

	w.Recursive.Advance(2 * time.Minute)
	if code, out, errs := runCLI(t, "renew", "--force", "--path", state); code != 0 {
		t.Fatalf("renew: exit %d\n%s\n%s", code, out, errs)
	}
	renewed, err := st.LoadCertificate("cfg.example.com")
	if err != nil {
		t.Fatal(err)
	}
	if renewed.Meta.Serial == first.Meta.Serial || !renewed.Leaf.PublicKey.(*ecdsa.PublicKey).Equal(&key.PublicKey) || renewed.Meta.Replaced != first.Meta.ARICertID {
		t.Errorf("renewed: serial %s (was %s), same key %v, replaced %q (want %q)", renewed.Meta.Serial, first.Meta.Serial,
			renewed.Leaf.PublicKey.(*ecdsa.PublicKey).Equal(&key.PublicKey), renewed.Meta.Replaced, first.Meta.ARICertID)
	}

	w.CA.ResetRequests()
	bad := worldConfig(t, w, `
[providers.main]
type = "world"
zones = ["example.com"]

[[certificate]]
csr = "`+filepath.Join(filepath.Dir(csr), "nope.csr")+`"
`)
	code, _, errs := runCLI(t, "run", "--config", bad)
	want := `strictacme.toml:14: certificate #1: key "csr": ` + filepath.Join(filepath.Dir(csr), "nope.csr") + `: no such file or directory; give a readable CSR file (PEM or DER)`
	if code != exitcode.Usage || !strings.Contains(errs, want) || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
		t.Errorf("bad csr: exit %d\n%s\nwant exit %d and the one line %s", code, errs, exitcode.Usage, want)
	}
	if n := w.CA.Requests(""); n != 0 {
		t.Errorf("%d requests at the CA for a config file with a bad csr", n)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(bad), "state")); !os.IsNotExist(err) {
		t.Errorf("state written for a config file with a bad csr: %v", err)
	}
}
