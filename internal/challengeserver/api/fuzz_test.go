package api

import (
	"errors"
	"strings"
	"testing"
)

// FuzzDecodeUpdate: any body decodes without panic into either ErrForbidden
// or a request whose subdomain came from a JSON string.
func FuzzDecodeUpdate(f *testing.F) {
	for _, s := range []string{
		`{"subdomain":"d420c923-bbd7-4056-ab64-c3ca54c9b3cf","txt":"LHDhK3oGRvkiefQnx7OOczTY5Tic_xZ6HcMOc_gmtoM"}`,
		`{"SubDomain":"x","Txt":"y"}`, `{"subdomain":"x","txt":12}`, `{"subdomain":1}`, `[]`, ``, `{"subdomain":"x","txt":null}`,
		`{"subdomain":"x","subdomain":"y"}`, "{\"subdomain\":\"\\u0000\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := DecodeUpdate(b)
		if err != nil {
			if !errors.Is(err, ErrForbidden) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if req.TXTString && !req.TXTPresent {
			t.Fatal("txt string without txt")
		}
		if CheckTXT(req.TXT) == nil && len(req.TXT) != 43 {
			t.Fatal("CheckTXT accepted a value that is not 43 bytes")
		}
		_ = ValidSubdomain(req.Subdomain)
	})
}

// FuzzDecodeRegister: any body decodes without panic; errors are
// *RequestError with a known code; accepted prefixes are normalised.
func FuzzDecodeRegister(f *testing.F) {
	for _, s := range []string{
		``, `{}`, `{"allowfrom":[]}`, `{"allowfrom":[""]}`, `{"AllowFrom":["[::1]/128","10.1.2.3/8"]}`,
		`{"allowfrom":"10.0.0.0/8"}`, `{"allowfrom":[1]}`, `not json`, `{"allowfrom":["1.2.3.4"]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := DecodeRegister(b)
		if err != nil {
			var re *RequestError
			if !errors.As(err, &re) || (re.Code != CodeMalformedJSON && re.Code != CodeInvalidCIDR) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		for _, p := range req.AllowFrom {
			if !p.IsValid() || p != p.Masked() || strings.ContainsAny(p.String(), "[]") {
				t.Fatalf("prefix not normalised: %v", p)
			}
		}
	})
}
