package store

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// The copy a dry run works on reads back like the original, keeps the key
// private, and what is saved into it later leaves the original as it was.
func TestCopiedCertificatesReadBackAndStaySeparate(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for serial := int64(1); serial <= 2; serial++ {
		if err := s.SaveCertificate(issued(t, "example.com", serial)); err != nil {
			t.Fatal(err)
		}
	}
	to := t.TempDir()
	if err := s.CopyCertificates(to); err != nil {
		t.Fatal(err)
	}
	cp := &Store{Root: to}
	got, err := cp.LoadCertificate("example.com")
	if err != nil {
		t.Fatal(err)
	}
	if got.Leaf.SerialNumber.Int64() != 2 {
		t.Fatalf("copy's current serial %v, want 2", got.Leaf.SerialNumber)
	}
	if names, _ := cp.ListCertificates(); !slices.Equal(names, []string{"example.com"}) {
		t.Fatalf("copy lists %v", names)
	}
	if info, err := os.Stat(filepath.Join(cp.CertDir("example.com"), PrivkeyFile)); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("copied key: %v %v, want mode 0600", info, err)
	}
	if err := cp.SaveCertificate(issued(t, "example.com", 3)); err != nil {
		t.Fatal(err)
	}
	orig, err := s.LoadCertificate("example.com")
	if err != nil || orig.Leaf.SerialNumber.Int64() != 2 {
		t.Fatalf("original after saving into the copy: %v %v, want serial 2", orig, err)
	}
}

// A store without certificates copies nothing and is not an error.
func TestCopyingAStoreWithoutCertificatesCopiesNothing(t *testing.T) {
	s := &Store{Root: filepath.Join(t.TempDir(), "never-created")}
	to := t.TempDir()
	if err := s.CopyCertificates(to); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(to); len(entries) != 0 {
		t.Fatalf("copied %v, want nothing", entries)
	}
	if _, err := os.Stat(s.Root); !os.IsNotExist(err) {
		t.Fatalf("source state directory: %v, want it still absent", err)
	}
}
