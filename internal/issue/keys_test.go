package issue

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"math/big"
	"strings"
	"testing"
)

func TestParseKeyTypeAcceptsEveryKeyTypeAndNamesThemWhenNot(t *testing.T) {
	tests := []struct {
		in      string
		want    KeyType
		wantErr bool
	}{
		{"", EC256, false},
		{"EC384", EC384, false},
		{"rsa4096", RSA4096, false},
		{" RSA8192 ", RSA8192, false},
		{"rsa1024", "", true},
		{"ec521", "", true},
	}
	for _, tt := range tests {
		got, err := ParseKeyType(tt.in)
		if tt.wantErr {
			if err == nil || !strings.Contains(err.Error(), "rsa8192") {
				t.Errorf("ParseKeyType(%q) = %q, %v; want an error listing rsa8192", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseKeyType(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// rsaPub is an RSA public key of the given modulus size, built rather
// than generated (an 8192-bit key takes seconds to generate).
func rsaPub(bits int) *rsa.PublicKey {
	n := new(big.Int).Lsh(big.NewInt(1), uint(bits-1))
	return &rsa.PublicKey{N: n.Add(n, big.NewInt(1)), E: 65537}
}

func TestKeyTypeOfNamesOnlyKeysStrictacmeGenerates(t *testing.T) {
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p521, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	tests := []struct {
		name string
		pub  any
		want KeyType
		ok   bool
	}{
		{"P-256", &p256.PublicKey, EC256, true},
		{"P-521", &p521.PublicKey, "", false},
		{"RSA 3072", rsaPub(3072), RSA3072, true},
		{"RSA 8192", rsaPub(8192), RSA8192, true},
		{"RSA 1024", rsaPub(1024), "", false},
		{"RSA 6144", rsaPub(6144), "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := KeyTypeOf(tt.pub)
			if got != tt.want || ok != tt.ok {
				t.Errorf("KeyTypeOf = %q, %v; want %q, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}
