// Package names validates and normalises the DNS names a certificate is
// requested for: apex and subdomains, one leading wildcard label, and IDNs
// given in Unicode (converted to A-labels, RFC 5891 / UTS #46).
package names

import (
	"fmt"
	"net/netip"
	"strings"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
)

// Identifier is one validated DNS identifier.
type Identifier struct {
	// Input is the name as the user wrote it.
	Input string
	// ASCII is the A-label form, lower case, no trailing dot, with "*." kept
	// for a wildcard: what is sent to the CA (RFC 8555 §7.1.3).
	ASCII string
	// Wildcard is true for "*.<base>".
	Wildcard bool
}

// Base returns the name without a wildcard label: the name whose
// _acme-challenge subdomain is validated (RFC 8555 §8.4).
func (id Identifier) Base() string { return strings.TrimPrefix(id.ASCII, "*.") }

var profile = idna.New(
	idna.MapForLookup(),
	idna.BidiRule(),
	idna.ValidateLabels(true),
	idna.StrictDomainName(false), // underscores are checked below, with a better message
	idna.Transitional(false),
)

// Parse validates one name. Errors are one line naming the name and the fix.
// Besides the DNS syntax it refuses A-labels ("xn--") that are not valid
// punycode of a valid IDN (RFC 5891 §5.4), labels with hyphens in the third
// and fourth position that are not A-labels (reserved, RFC 5891
// §4.2.3.1), and names that are public suffixes in the ICANN section of
// the public-suffix list (co.uk, com.au): nobody can own those, and a CA
// refuses them only after the order exists.
func Parse(input string) (Identifier, error) {
	s := strings.TrimSpace(input)
	s = strings.TrimSuffix(s, ".")
	fail := func(format string, a ...any) (Identifier, error) {
		return Identifier{}, fmt.Errorf("domain %q: "+format, append([]any{input}, a...)...)
	}
	if s == "" {
		return fail("empty name; give a DNS name such as example.com")
	}
	if _, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		return fail("IP addresses cannot be validated with DNS challenges; give a DNS name")
	}
	id := Identifier{Input: input}
	if strings.HasPrefix(s, "*.") {
		id.Wildcard = true
		s = s[2:]
	}
	if strings.Contains(s, "*") {
		return fail("a wildcard is allowed only as the whole leftmost label, once (*.example.com)")
	}
	ascii := strings.ToLower(s)
	if !isASCII(s) {
		a, err := profile.ToASCII(s)
		if err != nil {
			return fail("not a valid internationalised name (%v)", err)
		}
		ascii = strings.ToLower(a)
	}
	if len(ascii) > 253 {
		return fail("longer than 253 characters")
	}
	labels := strings.Split(ascii, ".")
	if len(labels) < 2 {
		return fail("a certificate name needs at least two labels (example.com)")
	}
	for _, l := range labels {
		if err := checkLabel(l); err != nil {
			return fail("%v", err)
		}
	}
	if ps, icann := publicsuffix.PublicSuffix(ascii); icann && ps == ascii {
		return fail("%s is a public suffix, under which others register their domains; give a name you own under it, e.g. example.%s", ascii, ascii)
	}
	if _, err := netip.ParseAddr(ascii); err == nil {
		return fail("IP addresses cannot be validated with DNS challenges; give a DNS name")
	}
	id.ASCII = ascii
	if id.Wildcard {
		id.ASCII = "*." + ascii
	}
	return id, nil
}

func checkLabel(l string) error {
	switch {
	case l == "":
		return fmt.Errorf("empty label; remove the doubled or leading dot")
	case len(l) > 63:
		return fmt.Errorf("label %q is longer than 63 characters", l)
	case l[0] == '-' || l[len(l)-1] == '-':
		return fmt.Errorf("label %q starts or ends with a hyphen", l)
	}
	for _, r := range l {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return fmt.Errorf("invalid character %q in label %q; use letters, digits and hyphens", r, l)
		}
	}
	if len(l) >= 4 && l[2:4] == "--" {
		if !strings.HasPrefix(l, "xn--") {
			return fmt.Errorf("label %q has hyphens in the third and fourth position, which are reserved for IDN A-labels (xn--); change the label", l)
		}
		// A valid A-label decodes to a valid U-label that encodes back to
		// the same A-label.
		u, err := profile.ToUnicode(l)
		if err == nil {
			var back string
			back, err = profile.ToASCII(u)
			if err == nil && back != l {
				err = fmt.Errorf("it is not the canonical form of %q (%s)", u, back)
			}
		}
		if err != nil {
			return fmt.Errorf("label %q is not a valid IDN A-label (%v); give the name in Unicode or its correct xn-- form", l, err)
		}
	}
	return nil
}

// ParseAll validates every name, drops exact duplicates and refuses an empty
// list. The first error is returned.
func ParseAll(inputs []string) ([]Identifier, error) {
	if len(inputs) == 0 {
		return nil, fmt.Errorf("no domain given; add -d example.com (repeatable)")
	}
	var out []Identifier
	seen := map[string]bool{}
	for _, in := range inputs {
		id, err := Parse(in)
		if err != nil {
			return nil, err
		}
		if seen[id.ASCII] {
			continue
		}
		seen[id.ASCII] = true
		out = append(out, id)
	}
	return out, nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
