package envvar

import (
	"strings"
	"testing"
	"time"
)

func vars(kv ...string) Lookup {
	m := map[string]string{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestDurationAndSeconds(t *testing.T) {
	if d, err := vars("D", "90").Duration("D", false); err != nil || d != 90*time.Second {
		t.Errorf("90: %v, %v", d, err)
	}
	if d, err := vars("D", "2m").Duration("D", false); err != nil || d != 2*time.Minute {
		t.Errorf("2m: %v, %v", d, err)
	}
	if _, err := vars("D", "0").Duration("D", false); err == nil {
		t.Error("0 accepted where zero is not")
	}
	if _, err := vars("D", "-1s").Duration("D", true); err == nil {
		t.Error("negative accepted")
	}
	if n, err := vars("S", "3600").Seconds("S", 60, 86400); err != nil || n != 3600 {
		t.Errorf("3600: %v, %v", n, err)
	}
	if _, err := vars("S", "30").Seconds("S", 60, 86400); err == nil || !strings.Contains(err.Error(), "between 60 and 86400") {
		t.Errorf("30: %v", err)
	}
}

func TestParseNamesTheVariableAndLeavesUnsetAtZero(t *testing.T) {
	l := vars("ON", " true ", "BAD", "maybe", "BLANK", "  ")
	if b, err := Parse(l, "ON", ParseBool); err != nil || !b {
		t.Errorf("ON: %v, %v", b, err)
	}
	for _, name := range []string{"UNSET", "BLANK"} {
		if b, err := Parse(l, name, ParseBool); err != nil || b {
			t.Errorf("%s: %v, %v; want false and no error", name, b, err)
		}
	}
	if _, err := Parse(l, "BAD", ParseBool); err == nil || err.Error() != `BAD="maybe": want true or false` {
		t.Errorf("BAD: %v", err)
	}
}

func TestParseURLWantsHTTPWithAHost(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"https://api.example.net/v1", "https://api.example.net/v1", ""},
		{" https://api.example.net/v1 ", "", "space before or after the URL"},
		{"https://api.example.net/v1?token=qsecret123", "", "no query or fragment"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080", ""},
		{"api.example.net", "", "e.g. https://api.example.net"},
		{"ftp://api.example.net", "", "e.g. https://api.example.net"},
		{"http://api.example.net/v1", "", "plain http; use https"},
	} {
		got, err := ParseURL(tc.in, "https://api.example.net")
		if got != tc.want || (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("ParseURL(%q) = %q, %v", tc.in, got, err)
		}
	}
}

// A URL read from a variable is quoted in the error without its userinfo:
// a plain setting's password is not echoed.
func TestParseErrorHidesURLUserinfo(t *testing.T) {
	l := Lookup(func(string) (string, bool) { return "http://proxy:s3cretpw@route53.internal/", true })
	_, err := Parse(l, "AWS_ROUTE53_ENDPOINT", func(v string) (string, error) { return ParseURL(v, "https://route53.amazonaws.com") })
	if err == nil || strings.Contains(err.Error(), "s3cretpw") || !strings.Contains(err.Error(), `AWS_ROUTE53_ENDPOINT="http://[redacted]@route53.internal/": credentials in the URL`) {
		t.Fatalf("%v", err)
	}
}
