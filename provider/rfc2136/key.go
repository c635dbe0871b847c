package rfc2136

import (
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/miekg/dns"
)

// DefaultAlgorithm is the TSIG algorithm when none is given: HMAC-SHA256,
// what BIND's tsig-keygen and Knot's keymgr generate by default.
const DefaultAlgorithm = "hmac-sha256"

// Algorithm returns the TSIG algorithm name (RFC 8945 §6) for name:
// "hmac-sha256", "hmac-sha384" or "hmac-sha512", with or without the
// trailing dot, in any case. HMAC-MD5 and HMAC-SHA1 are refused (RFC 8945
// §6 makes MD5 optional and deprecates it; SHA-1 is kept there only for
// old peers): a new key is one tsig-keygen away.
func Algorithm(name string) (string, error) {
	n := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(name), "."))
	switch n {
	case "":
		return dns.HmacSHA256, nil
	case "hmac-sha256":
		return dns.HmacSHA256, nil
	case "hmac-sha384":
		return dns.HmacSHA384, nil
	case "hmac-sha512":
		return dns.HmacSHA512, nil
	case "hmac-md5", "hmac-md5.sig-alg.reg.int", "hmac-sha1", "hmac-sha224":
		return "", fmt.Errorf("TSIG algorithm %s is not accepted; generate a new key with tsig-keygen -a hmac-sha256 (or hmac-sha384, hmac-sha512)", n)
	}
	return "", fmt.Errorf("unknown TSIG algorithm %q; use hmac-sha256, hmac-sha384 or hmac-sha512", name)
}

// Key is a TSIG key (RFC 8945): the key name both sides know it by, the
// algorithm and the base64 secret. String never shows the secret.
type Key struct {
	Name      string
	Algorithm string
	Secret    string
}

// String returns "name (algorithm)".
func (k Key) String() string {
	return fmt.Sprintf("%s (%s)", k.Name, strings.TrimSuffix(k.Algorithm, "."))
}

// check normalises k: an absolute lower-case name, a known algorithm and a
// secret that is base64. Errors name what is wrong but never the secret.
func (k Key) check() (Key, error) {
	if strings.TrimSpace(k.Name) == "" {
		return Key{}, errors.New("TSIG key name is empty; give the name of the key statement on the server")
	}
	k.Name = dns.CanonicalName(strings.TrimSpace(k.Name))
	alg, err := Algorithm(k.Algorithm)
	if err != nil {
		return Key{}, err
	}
	k.Algorithm = alg
	k.Secret = strings.TrimSpace(k.Secret)
	if k.Secret == "" {
		return Key{}, fmt.Errorf("TSIG key %s has no secret", k.Name)
	}
	if _, err := base64.StdEncoding.DecodeString(k.Secret); err != nil {
		return Key{}, fmt.Errorf("the secret of TSIG key %s is not base64; copy the secret \"...\" of the server's key statement", k.Name)
	}
	return k, nil
}

// ReadKeyFile reads a TSIG key from a file in BIND's key syntax, as
// tsig-keygen and ddns-confgen write it,
//
//	key "acme-update" {
//		algorithm hmac-sha256;
//		secret "base64...";
//	};
//
// or in the one-line form of nsupdate -y and Knot's knsupdate,
// "[algorithm:]name:secret". A file with several key statements needs
// name to pick one; "" takes the only one. Errors name the file but never
// show its contents.
func ReadKeyFile(path, name string) (Key, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if pe, ok := err.(*os.PathError); ok {
			err = pe.Err
		}
		return Key{}, fmt.Errorf("TSIG key file %s: %v", path, err)
	}
	keys, err := parseKeys(string(b))
	if err != nil {
		return Key{}, fmt.Errorf("TSIG key file %s: %v", path, err)
	}
	want := ""
	if name != "" {
		want = dns.CanonicalName(name)
	}
	var found []Key
	for _, k := range keys {
		if want == "" || dns.CanonicalName(k.Name) == want {
			found = append(found, k)
		}
	}
	switch {
	case len(found) == 0 && want != "":
		return Key{}, fmt.Errorf("TSIG key file %s has no key named %s", path, strings.TrimSuffix(want, "."))
	case len(found) == 0:
		return Key{}, fmt.Errorf("TSIG key file %s holds no key statement", path)
	case len(found) > 1:
		return Key{}, fmt.Errorf("TSIG key file %s holds %d keys; name the one to use (RFC2136_TSIG_KEY)", path, len(found))
	}
	k, err := found[0].check()
	if err != nil {
		return Key{}, fmt.Errorf("TSIG key file %s: %v", path, err)
	}
	return k, nil
}

// parseKeys reads the key statements of a BIND configuration fragment (other
// statements are skipped), or a one-line "[algorithm:]name:secret".
func parseKeys(text string) ([]Key, error) {
	if line := strings.TrimSpace(text); !strings.ContainsAny(line, "{;\n \t") && strings.Count(line, ":") >= 1 {
		parts := strings.Split(line, ":")
		switch len(parts) {
		case 2:
			return []Key{{Name: parts[0], Secret: parts[1]}}, nil
		case 3:
			return []Key{{Algorithm: parts[0], Name: parts[1], Secret: parts[2]}}, nil
		}
		return nil, errors.New("not in the form [algorithm:]name:secret")
	}
	toks, err := tokens(text)
	if err != nil {
		return nil, err
	}
	var keys []Key
	for i := 0; i < len(toks); i++ {
		if toks[i] != "key" {
			continue
		}
		if i+2 >= len(toks) || toks[i+2] != "{" {
			return nil, errors.New(`a key statement must read key "name" { algorithm ...; secret "..."; };`)
		}
		k := Key{Name: toks[i+1]}
		j := i + 3
		for ; j < len(toks) && toks[j] != "}"; j++ {
			switch toks[j] {
			case "algorithm":
				if j+1 < len(toks) {
					k.Algorithm = toks[j+1]
				}
			case "secret":
				if j+1 < len(toks) {
					k.Secret = toks[j+1]
				}
			}
		}
		if j == len(toks) {
			return nil, fmt.Errorf("key %q: no closing }", k.Name)
		}
		if k.Secret == "" {
			return nil, fmt.Errorf("key %q has no secret", k.Name)
		}
		keys = append(keys, k)
		i = j
	}
	return keys, nil
}

// tokens splits BIND configuration text into words, quoted strings and the
// punctuation { } ;, dropping comments (#, //, /* */).
func tokens(s string) ([]string, error) {
	var out []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '#' || strings.HasPrefix(s[i:], "//"):
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case strings.HasPrefix(s[i:], "/*"):
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				return nil, errors.New("unclosed /* comment")
			}
			i += end + 4
		case c == '{' || c == '}' || c == ';':
			out = append(out, string(c))
			i++
		case c == '"':
			end := strings.IndexByte(s[i+1:], '"')
			if end < 0 {
				return nil, errors.New("unclosed quote")
			}
			out = append(out, s[i+1:i+1+end])
			i += end + 2
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\r\n{};\"", rune(s[j])) {
				j++
			}
			out = append(out, s[i:j])
			i = j
		}
	}
	return out, nil
}
