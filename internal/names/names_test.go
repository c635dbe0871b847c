package names

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in, ascii string
		wildcard  bool
		err       string
	}{
		{in: "example.com", ascii: "example.com"},
		{in: "Example.COM.", ascii: "example.com"},
		{in: "*.example.com", ascii: "*.example.com", wildcard: true},
		{in: "a.b.c.example.co.uk", ascii: "a.b.c.example.co.uk"},
		{in: "bücher.example", ascii: "xn--bcher-kva.example"},
		{in: "xn--bcher-kva.example", ascii: "xn--bcher-kva.example"},
		{in: "exa mple.com", err: `invalid character ' '`},
		{in: "*.*.example.com", err: "wildcard is allowed only"},
		{in: "a*.example.com", err: "wildcard is allowed only"},
		{in: "192.0.2.1", err: "IP addresses"},
		{in: "[2001:db8::1]", err: "IP addresses"},
		{in: "com", err: "at least two labels"},
		{in: "", err: "empty name"},
		{in: "a..example.com", err: "empty label"},
		{in: "-a.example.com", err: "hyphen"},
		{in: "_x.example.com", err: "invalid character '_'"},
		{in: strings.Repeat("a", 64) + ".com", err: "longer than 63"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			id, err := Parse(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Parse(%q) error = %v, want it to contain %q", tt.in, err, tt.err)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Fatalf("error is not one line: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if id.ASCII != tt.ascii || id.Wildcard != tt.wildcard {
				t.Fatalf("Parse(%q) = %+v, want ASCII %q wildcard %v", tt.in, id, tt.ascii, tt.wildcard)
			}
		})
	}
}

func TestParseAllDropsDuplicates(t *testing.T) {
	ids, err := ParseAll([]string{"example.com", "EXAMPLE.com", "*.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 2 || ids[1].Base() != "example.com" {
		t.Fatalf("got %+v", ids)
	}
	if _, err := ParseAll(nil); err == nil {
		t.Fatal("empty list accepted")
	}
}

// TestPublicSuffixesAndBrokenALabelsAreRefused: co.uk and xn-- labels that
// are not valid punycode were accepted and only the CA refused them, after
// the order existed. They are refused up front with the fix; a real name
// under a suffix, a private suffix and valid A-labels still pass.
func TestPublicSuffixesAndBrokenALabelsAreRefused(t *testing.T) {
	for _, tt := range []struct {
		in, want string // want: error substring, or "" for accepted
	}{
		{"co.uk", "co.uk is a public suffix"},
		{"*.co.uk", "e.g. example.co.uk"},
		{"com.au", "public suffix"},
		{"xn--abc.com", `label "xn--abc" is not a valid IDN A-label`},
		{"xn--zz.example.com", "correct xn-- form"},
		{"ab--cd.example.com", "reserved for IDN A-labels"},
		{"example.co.uk", ""},
		{"*.example.co.uk", ""},
		{"github.io", ""}, // private section: its owner may ask
		{"xn--mnchen-3ya.de", ""},
		{"xn--p1ai.xn--p1ai", ""},
	} {
		_, err := Parse(tt.in)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.in, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: err = %v, want %q", tt.in, err, tt.want)
		}
	}
}
