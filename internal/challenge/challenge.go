// Package challenge computes the DNS record names and values for the ACME DNS
// challenges: dns-01 (RFC 8555 §8.4), dns-account-01
// (draft-ietf-acme-dns-account-label) and dns-persist-01
// (draft-ietf-acme-dns-persist). It does no I/O.
package challenge

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"strings"
)

// Type is an ACME challenge type as it appears in the challenge object.
type Type string

// The DNS challenge types.
const (
	DNS01        Type = "dns-01"
	DNSAccount01 Type = "dns-account-01"
	DNSPersist01 Type = "dns-persist-01"
)

// Types lists the DNS challenge types this package knows, in the default
// preference order.
var Types = []Type{DNS01, DNSAccount01, DNSPersist01}

// ParseType returns the Type named s, or an error naming the accepted values.
func ParseType(s string) (Type, error) {
	for _, t := range Types {
		if string(t) == strings.ToLower(strings.TrimSpace(s)) {
			return t, nil
		}
	}
	return "", fmt.Errorf("unknown challenge type %q: use dns-01, dns-account-01 or dns-persist-01", s)
}

// ParseTypes parses a comma-separated preference list such as
// "dns-persist-01,dns-01". Duplicates are refused.
func ParseTypes(list []string) ([]Type, error) {
	var out []Type
	seen := map[Type]bool{}
	for _, item := range list {
		for _, s := range strings.Split(item, ",") {
			if strings.TrimSpace(s) == "" {
				continue
			}
			t, err := ParseType(s)
			if err != nil {
				return nil, err
			}
			if seen[t] {
				return nil, fmt.Errorf("challenge type %s listed twice", t)
			}
			seen[t] = true
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		out = []Type{DNS01}
	}
	return out, nil
}

// DNS01Name returns the absolute validation domain name for an identifier
// (without any "*." prefix): "_acme-challenge.<identifier>." (RFC 8555 §8.4).
func DNS01Name(identifier string) string {
	return "_acme-challenge." + fqdn(identifier)
}

// TXTValue returns the TXT value that proves a key authorization: the
// base64url (no padding) SHA-256 digest, 43 characters (RFC 8555 §8.4; the same
// value is used by dns-account-01).
func TXTValue(keyAuthorization string) string {
	sum := sha256.Sum256([]byte(keyAuthorization))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// AccountLabel returns the dns-account-01 account label for an account URL:
// "_" followed by the lower-case base32 (RFC 4648, no padding needed: 10
// octets encode to 16 characters) of the first 10 octets of SHA-256(URL)
// (draft-ietf-acme-dns-account-label §3.2).
func AccountLabel(accountURL string) string {
	sum := sha256.Sum256([]byte(accountURL))
	return "_" + strings.ToLower(base32.StdEncoding.EncodeToString(sum[:10]))
}

// DNSAccount01Name returns "<account label>._acme-challenge.<identifier>."
// (draft-ietf-acme-dns-account-label §3.2).
func DNSAccount01Name(identifier, accountURL string) string {
	return AccountLabel(accountURL) + "." + DNS01Name(identifier)
}

// PersistName returns "_validation-persist.<identifier>." where the
// dns-persist-01 record lives (draft-ietf-acme-dns-persist §3).
func PersistName(identifier string) string {
	return "_validation-persist." + fqdn(identifier)
}

func fqdn(name string) string {
	name = strings.ToLower(strings.TrimPrefix(name, "*."))
	if !strings.HasSuffix(name, ".") {
		name += "."
	}
	return name
}
