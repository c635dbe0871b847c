package providers

import "testing"

func TestLongestZoneTakesTheDeepestZoneThatHoldsTheName(t *testing.T) {
	zones := []string{"example.com", "sub.example.com.", "ample.com", "Other.ORG."}
	for _, tc := range []struct {
		name, fqdn, want string
	}{
		{"child zone wins over its parent", "_acme-challenge.a.sub.example.com.", "sub.example.com."},
		{"parent holds a name outside the child", "_acme-challenge.www.example.com.", "example.com"},
		{"apex is held by its own zone", "example.com", "example.com"},
		{"a label suffix is not a zone suffix", "_acme-challenge.notample.com.", ""},
		{"case and trailing dot do not matter", "_ACME-challenge.other.org", "Other.ORG."},
		{"no zone holds a name elsewhere", "_acme-challenge.example.net.", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := LongestZone(tc.fqdn, zones); got != tc.want {
				t.Errorf("LongestZone(%q) = %q, want %q", tc.fqdn, got, tc.want)
			}
		})
	}
	if got := LongestZone("a.example.com.", []string{"."}); got != "." {
		t.Errorf("the root zone holds every name; got %q", got)
	}
}
