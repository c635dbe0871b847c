// Package txtdata turns a TXT value into record data in presentation
// format (RFC 1035 §5.1) and back, as DNS provider APIs that take zone-file
// syntax (PowerDNS, Route 53) want it.
package txtdata

import (
	"errors"
	"fmt"
	"strings"
)

// Quote returns v as TXT record data in presentation format: each string
// of at most 255 bytes quoted, quotes and backslashes escaped, bytes
// outside printable ASCII written \DDD. PowerDNS refuses unquoted content
// ("Data field in DNS should start with quote"); Route 53 reads unquoted
// content as one string per word.
func Quote(v string) string {
	var b strings.Builder
	for first := true; first || v != ""; first = false {
		part := v[:min(len(v), 255)]
		v = v[len(part):]
		if !first {
			b.WriteByte(' ')
		}
		b.WriteByte('"')
		for i := 0; i < len(part); i++ {
			switch c := part[i]; {
			case c == '"' || c == '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case c < 0x20 || c > 0x7e:
				fmt.Fprintf(&b, "\\%03d", c)
			default:
				b.WriteByte(c)
			}
		}
		b.WriteByte('"')
	}
	return b.String()
}

// Unquote parses TXT record data in presentation format (quoted strings,
// or unquoted words as a backend may hold them) and joins its strings.
func Unquote(content string) (string, error) {
	var out []byte
	s := strings.TrimSpace(content)
	for s != "" {
		quoted := s[0] == '"'
		if quoted {
			s = s[1:]
		}
		i := 0
		for ; i < len(s); i++ {
			c := s[i]
			if quoted && c == '"' || !quoted && (c == ' ' || c == '\t') {
				break
			}
			if c != '\\' {
				out = append(out, c)
				continue
			}
			if i+1 >= len(s) {
				return "", errors.New("TXT content ends in a backslash")
			}
			if i+3 < len(s) && isDigit(s[i+1]) && isDigit(s[i+2]) && isDigit(s[i+3]) {
				n := int(s[i+1]-'0')*100 + int(s[i+2]-'0')*10 + int(s[i+3]-'0')
				if n > 255 {
					return "", errors.New("TXT content has an escape above \\255")
				}
				out = append(out, byte(n))
				i += 3
				continue
			}
			out = append(out, s[i+1])
			i++
		}
		if quoted && i >= len(s) {
			return "", errors.New("TXT content lacks its closing quote")
		}
		if quoted {
			i++
		}
		s = strings.TrimLeft(s[i:], " \t")
	}
	return string(out), nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
