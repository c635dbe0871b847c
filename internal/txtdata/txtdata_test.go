package txtdata

import (
	"strings"
	"testing"
)

func TestQuoteRoundTrips(t *testing.T) {
	for _, v := range []string{"", "kPYxnB3V4uQ4Ah7v0pE9ysDsVCeQXVPkMVNcb3Y4bFM", `say "hi" \ there`, "tab\there\x00\xff", strings.Repeat("a", 255), strings.Repeat("b", 600)} {
		q := Quote(v)
		if !strings.HasPrefix(q, `"`) {
			t.Errorf("Quote(%q) = %s: not quoted", v, q)
		}
		got, err := Unquote(q)
		if err != nil || got != v {
			t.Errorf("Unquote(Quote(%q)) = %q, %v", v, got, err)
		}
	}
	if q := Quote(strings.Repeat("c", 256)); q != `"`+strings.Repeat("c", 255)+`" "c"` {
		t.Errorf("256 bytes: %s", q)
	}
}

func TestUnquoteReadsWhatBackendsHold(t *testing.T) {
	for in, want := range map[string]string{
		`"a" "b"`:     "ab",
		`v=spf1 -all`: "v=spf1-all",
		`"\065\066"`:  "AB",
		`  "x"  `:     "x",
	} {
		if got, err := Unquote(in); err != nil || got != want {
			t.Errorf("Unquote(%s) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{`"open`, `"\`, `"\999"`} {
		if _, err := Unquote(bad); err == nil {
			t.Errorf("Unquote(%s): no error", bad)
		}
	}
}
