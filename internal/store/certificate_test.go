package store

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/strictacme/strictacme/internal/exitcode"
)

// issued is a self-signed certificate standing in for one from a CA.
func issued(t *testing.T, name string, serial int64) *Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "example.com"}, DNSNames: []string{"example.com"},
		NotBefore: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := MarshalPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return &Certificate{
		Name: name, KeyPEM: keyPEM, CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		Meta: Metadata{Names: []string{"example.com"}, Serial: big.NewInt(serial).Text(16), KeyType: "ec256", Directory: "https://ca.example/dir"},
	}
}

// A saved certificate reads back whole, through the stable paths a web
// server points at, with the private key readable by its owner only.
func TestSavedCertificateReadsBackThroughStablePaths(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c := issued(t, "example.com", 1)
	if err := s.SaveCertificate(c); err != nil {
		t.Fatal(err)
	}
	got, err := s.LoadCertificate("example.com")
	if err != nil {
		t.Fatal(err)
	}
	if got.Leaf.SerialNumber.Int64() != 1 || got.Meta.KeyType != "ec256" || string(got.KeyPEM) != string(c.KeyPEM) {
		t.Fatalf("read back %+v", got.Meta)
	}
	for _, f := range []string{PrivkeyFile, CertFile, ChainFile, FullchainFile, MetadataFile} {
		if _, err := os.ReadFile(filepath.Join(s.CertDir("example.com"), f)); err != nil {
			t.Errorf("stable path %s: %v", f, err)
		}
	}
	// The key, and the metadata whose stored hook command lines are the
	// operator's own text, are for the owner only.
	for _, f := range []string{PrivkeyFile, MetadataFile} {
		info, err := os.Stat(filepath.Join(s.CertDir("example.com"), f))
		if err != nil || info.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v %v", f, info.Mode(), err)
		}
	}
	if names, _ := s.ListCertificates(); !slices.Equal(names, []string{"example.com"}) {
		t.Errorf("listed %v", names)
	}
	if _, err := s.LoadCertificate("other.example"); !errors.Is(err, ErrNoCertificate) {
		t.Errorf("missing certificate: %v", err)
	}
}

// A save that stops after the new files are written and before the
// switch leaves the previous certificate current.
func TestInterruptedSaveKeepsThePreviousCertificate(t *testing.T) {
	s, _ := Open(t.TempDir())
	if err := s.SaveCertificate(issued(t, "example.com", 1)); err != nil {
		t.Fatal(err)
	}
	SaveHook = func(step string) {
		if step == "storing" {
			panic("killed")
		}
	}
	defer func() { SaveHook = nil }()
	func() {
		defer func() { _ = recover() }()
		_ = s.SaveCertificate(issued(t, "example.com", 2))
	}()
	SaveHook = nil
	got, err := s.LoadCertificate("example.com")
	if err != nil || got.Leaf.SerialNumber.Int64() != 1 {
		t.Fatalf("after the interrupted save: %v %v", got, err)
	}
}

// Renewals keep the newest three versions and remove older ones.
func TestOnlyTheNewestThreeVersionsAreKept(t *testing.T) {
	s, _ := Open(t.TempDir())
	for i := int64(1); i <= 5; i++ {
		if err := s.SaveCertificate(issued(t, "example.com", i)); err != nil {
			t.Fatal(err)
		}
		// Versions are ordered by modification time; keep them apart.
		past := time.Now().Add(time.Duration(i-10) * time.Minute)
		_ = os.Chtimes(filepath.Join(s.CertDir("example.com"), "versions", big.NewInt(i).Text(16)), past, past)
	}
	entries, err := os.ReadDir(filepath.Join(s.CertDir("example.com"), "versions"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if !slices.Equal(got, []string{"3", "4", "5"}) {
		t.Fatalf("versions %v, want 3 4 5", got)
	}
	if c, _ := s.LoadCertificate("example.com"); c.Leaf.SerialNumber.Int64() != 5 {
		t.Fatal("the newest is not current")
	}
}

// Certificate names are folder names: nothing that leaves the store.
func TestCertificateNamesStayInsideTheStore(t *testing.T) {
	for _, bad := range []string{"", ".", "..", "../etc", `a\b`, "a/b", "x\x00y"} {
		if CheckCertName(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	s, _ := Open(t.TempDir())
	if err := s.SaveCertificate(issued(t, "../escape", 1)); err == nil {
		t.Error("saved outside the store")
	}
	if got := CertName("*.Example.com"); got != "_wildcard.example.com" {
		t.Errorf("CertName of a wildcard: %q", got)
	}
}

// A folder that holds only a failed first order's state file is listed as
// attempted and not as stored; once its certificate is saved it is stored
// only. Empty folders and other files are neither.
func TestFolderOfAFailedFirstOrderIsAttemptedNotStored(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"failed.example", "empty.example"} {
		if err := os.MkdirAll(s.CertDir(n), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(s.CertDir("failed.example"), "renewal.json"), []byte("{}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.CertDir("empty.example"), "notes.txt"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveCertificate(issued(t, "stored.example", 1)); err != nil {
		t.Fatal(err)
	}
	stored, _ := s.ListCertificates()
	attempted, err := s.ListAttempted("renewal.json")
	if err != nil || !slices.Equal(stored, []string{"stored.example"}) || !slices.Equal(attempted, []string{"failed.example"}) {
		t.Fatalf("stored %v, attempted %v (%v)", stored, attempted, err)
	}
	if err := s.SaveCertificate(issued(t, "failed.example", 2)); err != nil {
		t.Fatal(err)
	}
	stored, _ = s.ListCertificates()
	attempted, _ = s.ListAttempted("renewal.json")
	if !slices.Equal(stored, []string{"failed.example", "stored.example"}) || len(attempted) != 0 {
		t.Fatalf("after the save: stored %v, attempted %v", stored, attempted)
	}
}

// DeleteCertificate removes the named certificate with its versions and
// renewal state and nothing else; an unknown name is ErrNoCertificate; a
// broken certificate (versions gone) can be deleted, which is the way out
// of that state; nothing named .deleted-* is left in the store.
func TestDeleteCertificateRemovesOnlyThatCertificate(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"web", "api", "broken"} {
		if err := s.SaveCertificate(issued(t, name, int64(i+1))); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(s.CertDir("web"), "renewal.json"), []byte(`{}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(s.CertDir("broken"), "versions")); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		wantErr error
	}{
		{"web", nil},
		{"broken", nil},
		{"nope", ErrNoCertificate},
		{"web", ErrNoCertificate}, // deleted already
	}
	for _, tt := range tests {
		if err := s.DeleteCertificate(tt.name); !errors.Is(err, tt.wantErr) {
			t.Errorf("DeleteCertificate(%q) = %v, want %v", tt.name, err, tt.wantErr)
		}
	}
	if err := s.DeleteCertificate("../accounts"); err == nil {
		t.Error("a name with a path separator was accepted")
	}
	names, err := s.ListCertificates()
	if err != nil || !slices.Equal(names, []string{"api"}) {
		t.Errorf("left: %v, %v; want [api]", names, err)
	}
	if _, err := os.Stat(s.CertDir("web")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("web's folder is still there: %v", err)
	}
	left, _ := filepath.Glob(filepath.Join(s.Root, ".deleted-*"))
	if len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
	if _, err := s.LoadCertificate("api"); err != nil {
		t.Errorf("api: %v", err)
	}
}

// A certificate of the operator's CSR is stored without a private key and
// with the request (readable by all: it holds no secret), and reads back
// that way; ordered again with a key of its own (and back), the stable
// link to the file the new version has not goes, so none points at
// nothing.
func TestCertificateOfACSRKeepsTheRequestAndNoKey(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	withCSR := func(serial int64) *Certificate {
		c := issued(t, "example.com", serial)
		c.KeyPEM, c.CSRPEM, c.Meta.CSR = nil, testCSR(t, "example.com"), true
		return c
	}
	dir := s.CertDir("example.com")
	exists := func(name string) bool { _, err := os.Stat(filepath.Join(dir, name)); return err == nil }
	linked := func(name string) bool { _, err := os.Lstat(filepath.Join(dir, name)); return err == nil }

	c := withCSR(1)
	if err := s.SaveCertificate(c); err != nil {
		t.Fatal(err)
	}
	got, err := s.LoadCertificate("example.com")
	if err != nil {
		t.Fatal(err)
	}
	if !got.Meta.CSR || len(got.KeyPEM) != 0 || string(got.CSRPEM) != string(c.CSRPEM) {
		t.Fatalf("read back csr %v, key %d bytes, request %q", got.Meta.CSR, len(got.KeyPEM), got.CSRPEM)
	}
	if linked(PrivkeyFile) {
		t.Error("a private key file or link is stored for a certificate of a CSR")
	}
	if info, err := os.Stat(filepath.Join(dir, CSRFile)); err != nil || info.Mode().Perm() != 0o644 {
		t.Errorf("%s: %v, mode %v; want 0644", CSRFile, err, info)
	}

	if err := s.SaveCertificate(issued(t, "example.com", 2)); err != nil {
		t.Fatal(err)
	}
	if !exists(PrivkeyFile) || linked(CSRFile) {
		t.Errorf("with a key of its own: key %v, request link %v; want the key and no request", exists(PrivkeyFile), linked(CSRFile))
	}
	if err := s.SaveCertificate(withCSR(3)); err != nil {
		t.Fatal(err)
	}
	if linked(PrivkeyFile) || !exists(CSRFile) {
		t.Errorf("back to the CSR: key link %v, request %v; want the request and no key link", linked(PrivkeyFile), exists(CSRFile))
	}
}

// testCSR is a signed PEM certificate signing request for name.
func testCSR(t *testing.T, name string) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{DNSNames: []string{name}}, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
}

// A certificate of the operator's CSR whose stored request.csr was
// deleted or damaged cannot be renewed: loading it is state damage (exit
// 9) naming the file and the fix (order it again from the CSR file), not
// a raw open error (exit 1) or a request for "the CSR file" (exit 2).
func TestStoredCSRMissingOrDamagedIsStateDamage(t *testing.T) {
	for _, tt := range []struct {
		name   string
		damage func(path string) error
		what   string
	}{
		{"missing", os.Remove, "is missing"},
		{"not PEM", func(p string) error { return os.WriteFile(p, []byte("{bad"), 0o644) }, "is damaged"},
		{"not a CSR", func(p string) error {
			return os.WriteFile(p, []byte("-----BEGIN CERTIFICATE REQUEST-----\nMA==\n-----END CERTIFICATE REQUEST-----\n"), 0o644)
		}, "is damaged"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			c := issued(t, "example.com", 1)
			c.KeyPEM, c.CSRPEM, c.Meta.CSR = nil, testCSR(t, "example.com"), true
			if err := s.SaveCertificate(c); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(s.CertDir("example.com"), CSRFile)
			real, err := filepath.EvalSymlinks(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := tt.damage(real); err != nil {
				t.Fatal(err)
			}
			_, err = s.LoadCertificate("example.com")
			var d *DamagedCSRError
			if exitcode.Of(err) != exitcode.State || !errors.As(err, &d) {
				t.Fatalf("error %v (exit %d), want a DamagedCSRError with exit code %d", err, exitcode.Of(err), exitcode.State)
			}
			for _, want := range []string{tt.what, "request.csr", "strictacme issue --cert-name example.com --csr FILE --force"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
		})
	}
}
