package keyshape

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"testing"
)

func TestLooksLikeKey(t *testing.T) {
	for s, want := range map[string]bool{
		"0123456789abcdef0123456789abcdef":              true, // the fake Namecheap key
		"a1b2c3d4e5f60718293a4b5c6d7e8f90":              true,
		"zWlS1Tj3cG8mQ2yV7nR4kX0pE6hB9dU5aF_-oL3iN2s":   true, // base64url HMAC key
		"q2V+8kZ/0rTf5mY1nW3xB7cJ4hL6gP9sD2aE=":         true,
		"NAMECHEAP_API_KEY":                             false,
		"STRICTACME_EAB_HMAC_KEY":                       false,
		"/run/secrets/namecheap":                        false,
		"/etc/ssl/private/a1b2c3d4e5f60718293a4b5c6d7e": false,
		"secrets/nc-api-key":                            false,
		"nc-api-key-file1234567":                        false,
		"namecheap.key":                                 false,
		"C:\\secrets\\key1a2b3c4d5e6f7a8b":              false,
		"short1a2b":                                     false,
		"":                                              false,
	} {
		if got := LooksLikeKey(s); got != want {
			t.Errorf("LooksLikeKey(%q) = %v, want %v", s, got, want)
		}
	}
	// Random keys of the shapes in use look like keys (almost) always.
	misses := 0
	for range 1000 {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		for _, k := range []string{hex.EncodeToString(b[:16]), base64.RawURLEncoding.EncodeToString(b), base64.StdEncoding.EncodeToString(b)} {
			if !LooksLikeKey(k) {
				misses++
			}
		}
	}
	if misses > 10 {
		t.Errorf("%d of 3000 random keys not recognised", misses)
	}
}
