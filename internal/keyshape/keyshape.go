// Package keyshape tells a secret pasted where a file path or an
// environment variable name belongs (NAMECHEAP_API_KEY_FILE,
// --eab-hmac-key-file, api_key_env, …) from a real path or name, so that
// the error about such a setting can say so without printing the secret.
package keyshape

import "strings"

// LooksLikeKey reports whether s, given where a file path or a variable
// name belongs, looks like a key instead: at least 16 characters of the
// hex and base64 alphabets (A–Z, a–z, 0–9, + / = _ -), no dot, a slash
// only together with + or = (standard base64), and letters, digits and
// letter case alternating as in random text (at least one change of class
// every five characters). API keys (32 hex digits) and base64url HMAC
// keys match, and so does any run of 16 or more hex digits with both
// letters and digits; paths (a dot, a plain slash) and names such as
// NAMECHEAP_API_KEY or nc-api-key-2024 do not.
func LooksLikeKey(s string) bool {
	s = strings.TrimSpace(s)
	if len(s) < 16 || strings.Contains(s, ".") {
		return false
	}
	if strings.Contains(s, "/") && !strings.ContainsAny(s, "+=") {
		return false
	}
	if isHexWithLettersAndDigits(s) {
		return true
	}
	changes := 0
	for i := 0; i < len(s); i++ {
		c := class(s[i])
		if c < 0 {
			return false
		}
		if i > 0 && c > 0 {
			if p := class(s[i-1]); p > 0 && p != c {
				changes++
			}
		}
	}
	return changes*5 >= len(s)
}

func isHexWithLettersAndDigits(s string) bool {
	letters, digits := false, false
	for i := 0; i < len(s); i++ {
		switch b := s[i]; {
		case b >= '0' && b <= '9':
			digits = true
		case b >= 'a' && b <= 'f' || b >= 'A' && b <= 'F':
			letters = true
		default:
			return false
		}
	}
	return letters && digits
}

// class is 1 for a lower-case letter, 2 upper-case, 3 a digit, 0 another
// character of the base64 alphabets, -1 anything else.
func class(b byte) int {
	switch {
	case b >= 'a' && b <= 'z':
		return 1
	case b >= 'A' && b <= 'Z':
		return 2
	case b >= '0' && b <= '9':
		return 3
	case strings.IndexByte("+/=_-", b) >= 0:
		return 0
	}
	return -1
}
