// Package storetest fills state directories for tests: an empty store and
// stored certificates with chosen validity, without a CA.
package storetest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"testing"
	"time"

	"github.com/strictacme/strictacme/internal/store"
)

// Open is an empty state directory under t.TempDir.
func Open(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// SaveCertificate stores under name a self-signed P-256 certificate for
// example.com, serial 07, valid from notBefore to notAfter, with metadata
// naming the CA https://ca.example/dir and the ARI certificate ID
// "aki.07"; edit, when not nil, changes the metadata before it is saved.
func SaveCertificate(t testing.TB, st *store.Store, name string, notBefore, notAfter time.Time, edit func(*store.Metadata)) *store.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "example.com"}, DNSNames: []string{"example.com"},
		NotBefore: notBefore, NotAfter: notAfter,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := store.MarshalPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	c := &store.Certificate{
		Name: name, KeyPEM: keyPEM, CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		Meta: store.Metadata{
			Names: []string{"example.com"}, Serial: "07", KeyType: "ec256", Directory: "https://ca.example/dir",
			NotBefore: notBefore, NotAfter: notAfter, ARICertID: "aki.07",
		},
	}
	if edit != nil {
		edit(&c.Meta)
	}
	if err := st.SaveCertificate(c); err != nil {
		t.Fatal(err)
	}
	return c
}
