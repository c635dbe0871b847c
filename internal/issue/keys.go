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
	RSA8192 KeyType = "rsa8192"
)

// KeyTypes lists every key type in the order help texts show them.
var KeyTypes = []KeyType{EC256, EC384, RSA2048, RSA3072, RSA4096, RSA8192}

// KeyTypeChoices is KeyTypes for help texts and errors: "ec256, ec384, …".
func KeyTypeChoices() string {
	names := make([]string, len(KeyTypes))
	for i, k := range KeyTypes {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

// ParseKeyType accepts the names in KeyTypes, any letter case; empty is
// EC256.
func ParseKeyType(s string) (KeyType, error) {
	k := KeyType(strings.ToLower(strings.TrimSpace(s)))
	if k == "" {
		return EC256, nil
	}
	for _, t := range KeyTypes {
		if k == t {
			return k, nil
		}
	}
	return "", fmt.Errorf("key type %q: use %s", s, KeyTypeChoices())
}

// KeyTypeOf names the key type of a public key, and false for a key no
// KeyType generates (P-521, RSA of another size, Ed25519).
func KeyTypeOf(pub crypto.PublicKey) (KeyType, bool) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return EC256, true
		case elliptic.P384():
			return EC384, true
		}
	case *rsa.PublicKey:
		k2 := KeyType(fmt.Sprintf("rsa%d", k.N.BitLen()))
		for _, t := range KeyTypes {
			if t == k2 {
				return t, true
			}
		}
	}
	return "", false
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
	case RSA8192:
		return rsa.GenerateKey(rand.Reader, 8192)
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
