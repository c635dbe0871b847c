package desec

import (
	"fmt"
	"strings"
)

// deSEC holds record contents in zone-file presentation format (RFC 1035
// §5.1): a TXT record is one or more character-strings, each in double
// quotes, at most 255 bytes each (RFC 1035 §3.3.14). These two functions
// convert between that form and the plain text libdns speaks.

// quoteTXT is text as deSEC's records field takes it: chunks of at most
// 255 bytes, each quoted, with '"' and '\' escaped and bytes outside
// printable ASCII written as \DDD.
func quoteTXT(text string) string {
	var chunks []string
	for {
		n := min(len(text), 255)
		var b strings.Builder
		b.WriteByte('"')
		for i := 0; i < n; i++ {
			c := text[i]
			switch {
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
		chunks = append(chunks, b.String())
		text = text[n:]
		if text == "" {
			return strings.Join(chunks, " ")
		}
	}
}

// unquoteTXT is the text of a TXT record in presentation format: its
// character-strings, quoted or not, unescaped and joined.
func unquoteTXT(rec string) (string, error) {
	var out strings.Builder
	s := strings.TrimSpace(rec)
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
				out.WriteByte(c)
				continue
			}
			if i+1 >= len(s) {
				return "", fmt.Errorf("TXT record %q ends in a lone backslash", rec)
			}
			if d := s[i+1:]; len(d) >= 3 && isDigit(d[0]) && isDigit(d[1]) && isDigit(d[2]) {
				v := int(d[0]-'0')*100 + int(d[1]-'0')*10 + int(d[2]-'0')
				if v > 255 {
					return "", fmt.Errorf("TXT record %q has an escape above \\255", rec)
				}
				out.WriteByte(byte(v))
				i += 3
				continue
			}
			out.WriteByte(s[i+1])
			i++
		}
		if quoted {
			if i >= len(s) {
				return "", fmt.Errorf("TXT record %q has an unterminated quote", rec)
			}
			i++ // the closing quote
		}
		s = strings.TrimLeft(s[i:], " \t")
	}
	return out.String(), nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
