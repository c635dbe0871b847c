package issue

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"strings"
)

// KeyType is a certificate key algorithm and size as written on the command
// line.
type KeyType string

// Key types. EC256 is the default.
const (
	EC256   KeyType = "ec256"
	EC384   KeyType = "ec384"
	RSA2048 KeyType = "rsa2048"
	RSA3072 KeyType = "rsa3072"
	RSA4096 KeyType = "rsa4096"
)

// ParseKeyType accepts ec256, ec384, rsa2048, rsa3072 and rsa4096.
func ParseKeyType(s string) (KeyType, error) {
	switch k := KeyType(strings.ToLower(strings.TrimSpace(s))); k {
	case EC256, EC384, RSA2048, RSA3072, RSA4096:
		return k, nil
	case "":
		return EC256, nil
	}
	return "", fmt.Errorf("key type %q: use ec256, ec384, rsa2048, rsa3072 or rsa4096", s)
}

// Generate returns a new private key of type k.
func (k KeyType) Generate() (crypto.Signer, error) {
	switch k {
	case EC256, "":
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case EC384:
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case RSA2048:
		return rsa.GenerateKey(rand.Reader, 2048)
	case RSA3072:
		return rsa.GenerateKey(rand.Reader, 3072)
	case RSA4096:
		return rsa.GenerateKey(rand.Reader, 4096)
	}
	return nil, fmt.Errorf("unknown key type %q", k)
}

// csr builds a DER CSR for the names (A-labels; the first is also the
// subject CN when it fits the 64-character limit of RFC 5280).
func csr(key crypto.Signer, names []string) ([]byte, error) {
	tmpl := &x509.CertificateRequest{DNSNames: names}
	if len(names[0]) <= 64 {
		tmpl.Subject = pkix.Name{CommonName: names[0]}
	}
	return x509.CreateCertificateRequest(rand.Reader, tmpl, key)
}
