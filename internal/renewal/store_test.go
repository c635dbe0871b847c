package renewal

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

// storeCert stores a self-signed certificate for example.com valid from
// notBefore to notAfter under name, standing in for one a CA issued;
// edit, when not nil, changes its metadata first.
func storeCert(t *testing.T, st *store.Store, name string, notBefore, notAfter time.Time, edit func(*store.Metadata)) *store.Certificate {
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

// openStore is an empty state directory.
func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return st
}
