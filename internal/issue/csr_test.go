package issue

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mholt/acmez/v3/acme"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/store"
	"github.com/strictacme/strictacme/internal/testworld"
)

func csrDER(t *testing.T, key crypto.Signer, tmpl *x509.CertificateRequest) []byte {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// An operator's CSR orders for the names it asks for, the way lego reads
// them: a common name that is a DNS name first, then the DNS names of the
// subject alternative names not yet listed; DER and PEM alike.
func TestParseCSRNamesAsLegoOrdersThem(t *testing.T) {
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pemOf := func(der []byte) []byte {
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
	}
	for _, tc := range []struct {
		name string
		tmpl x509.CertificateRequest
		pem  bool
		want []string
	}{
		{"common name outside the SANs comes first", x509.CertificateRequest{Subject: pkix.Name{CommonName: "Example.COM"}, DNSNames: []string{"www.example.com", "api.example.com"}}, true, []string{"example.com", "www.example.com", "api.example.com"}},
		{"common name among the SANs is listed once", x509.CertificateRequest{Subject: pkix.Name{CommonName: "www.example.com"}, DNSNames: []string{"example.com", "www.example.com"}}, false, []string{"www.example.com", "example.com"}},
		{"a common name that is no DNS name is a label", x509.CertificateRequest{Subject: pkix.Name{CommonName: "My Web Server"}, DNSNames: []string{"example.com"}}, true, []string{"example.com"}},
		{"a Unicode common name and a wildcard, in A-labels", x509.CertificateRequest{Subject: pkix.Name{CommonName: "bücher.example"}, DNSNames: []string{"*.example.com"}}, false, []string{"xn--bcher-kva.example", "*.example.com"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			der := csrDER(t, p256, &tc.tmpl)
			data := der
			if tc.pem {
				data = pemOf(der)
			}
			c, err := ParseCSR(data)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(c.Names, tc.want) || c.KeyType != EC256 || !slices.Equal(c.DER, der) {
				t.Errorf("names %q key %s; want %q ec256 and the DER as given", c.Names, c.KeyType, tc.want)
			}
			if back, _ := pem.Decode(c.PEM()); back == nil || !slices.Equal(back.Bytes, der) {
				t.Error("PEM does not hold the request as given")
			}
		})
	}
}

// A CSR that cannot be ordered is refused with what is wrong and the fix.
func TestParseCSRRefusesWhatCannotBeOrdered(t *testing.T) {
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p521, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	ok := csrDER(t, p256, &x509.CertificateRequest{DNSNames: []string{"example.com"}})
	bad := slices.Clone(ok)
	bad[len(bad)-3] ^= 0xff
	u, _ := url.Parse("spiffe://example.com/web")
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"damaged signature", bad, "signature does not verify"},
		{"IP address", csrDER(t, p256, &x509.CertificateRequest{DNSNames: []string{"example.com"}, IPAddresses: []net.IP{net.ParseIP("2001:db8::1")}}), "IP address 2001:db8::1, which DNS challenges cannot validate"},
		{"e-mail address", csrDER(t, p256, &x509.CertificateRequest{DNSNames: []string{"example.com"}, EmailAddresses: []string{"ops@example.com"}}), "e-mail address ops@example.com"},
		{"URI", csrDER(t, p256, &x509.CertificateRequest{DNSNames: []string{"example.com"}, URIs: []*url.URL{u}}), "URI spiffe://example.com/web"},
		{"no DNS name", csrDER(t, p256, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "web server"}}), "names no DNS name"},
		{"a SAN that is no DNS name", csrDER(t, p256, &x509.CertificateRequest{DNSNames: []string{"exa mple.com"}}), `the CSR's name "exa mple.com"`},
		{"P-521 key", csrDER(t, p521, &x509.CertificateRequest{DNSNames: []string{"example.com"}}), "of no type strictacme orders"},
		{"Ed25519 key", csrDER(t, ed, &x509.CertificateRequest{DNSNames: []string{"example.com"}}), "of no type strictacme orders"},
		{"garbage", []byte("hello\n"), "not a certificate signing request"},
		{"a certificate's PEM", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ok}), `a PEM "CERTIFICATE" block`},
		{"damaged PEM", []byte("-----BEGIN CERTIFICATE REQUEST-----\n!!!\n"), "damaged PEM block"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseCSR(tc.data)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %v; want one line with %q", err, tc.want)
			}
		})
	}
}

// An order for the operator's CSR is finalized with that very request: the
// certificate certifies its key, nothing of a key is stored but the CSR,
// and revoking it needs the ordering account, since strictacme holds no
// certificate key to sign a keyCompromise revocation with.
func TestObtainForACSRStoresNoKey(t *testing.T) {
	w := testworld.Start(t)
	f := newFixture(t, w)
	key, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	c, err := ParseCSR(csrDER(t, key, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "csr.example.com"}, DNSNames: []string{"csr.example.com", "www.csr.example.com"}}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	res, err := f.is.Obtain(ctx, Request{Identifiers: ids(t, c.Names...), CSR: c})
	if err != nil {
		t.Fatalf("Obtain: %v\nlog:\n%s", err, strings.Join(f.log, "\n"))
	}
	stored, err := f.st.LoadCertificate("csr.example.com")
	if err != nil {
		t.Fatal(err)
	}
	if !stored.Leaf.PublicKey.(*ecdsa.PublicKey).Equal(&key.PublicKey) || len(stored.KeyPEM) != 0 || !stored.Meta.CSR ||
		stored.Meta.KeyType != string(EC384) || !slices.Equal(stored.CSRPEM, c.PEM()) {
		t.Errorf("stored: same key %v, key %d bytes, csr %v, key type %q, request kept %v", stored.Leaf.PublicKey.(*ecdsa.PublicKey).Equal(&key.PublicKey),
			len(stored.KeyPEM), stored.Meta.CSR, stored.Meta.KeyType, slices.Equal(stored.CSRPEM, c.PEM()))
	}
	if _, err := os.Stat(filepath.Join(f.st.CertDir("csr.example.com"), store.PrivkeyFile)); !os.IsNotExist(err) {
		t.Errorf("privkey.pem: %v", err)
	}

	if _, err := Revoke(ctx, f.is.Client(), f.st, res.Certificate, acme.ReasonKeyCompromise); exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), "ordered for your CSR") {
		t.Errorf("keyCompromise: %v (exit %d), want a usage error saying why", err, exitcode.Of(err))
	}
	if byCertKey, err := Revoke(ctx, f.is.Client(), f.st, res.Certificate, acme.ReasonSuperseded); err != nil || byCertKey {
		t.Errorf("superseded, by the ordering account: %v (by the certificate key: %v)", err, byCertKey)
	}
}
