package preflight

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/resolver"
)

// RFC 8659 §4 matching, one situation per case.
func TestPermits(t *testing.T) {
	le := []string{"letsencrypt.org"}
	dns01 := []string{"dns-01"}
	cases := []struct {
		name     string
		set      []string // CAA rdata at example.com.
		wildcard bool
		account  string
		want     bool
		why      string
	}{
		{"no records", nil, false, "", true, "any CA"},
		{"issue names the CA", []string{`0 issue "letsencrypt.org"`}, false, "", true, "permits letsencrypt.org"},
		{"issue is case-insensitive, trailing dot ignored", []string{`0 ISSUE "LetsEncrypt.org."`}, false, "", true, "permits"},
		{"issue names another CA", []string{`0 issue "other-ca.example"`}, false, "", false, "allows only other-ca.example"},
		{"semicolon alone names no CA", []string{`0 issue ";"`}, false, "", false, `allows only ";"`},
		{"one of several issue properties", []string{`0 issue "other-ca.example"`, `0 issue "letsencrypt.org"`}, false, "", true, "permits"},
		{"only iodef: any CA", []string{`0 iodef "mailto:sec@example.com"`}, false, "", true, "no issue property"},
		{"critical unknown tag forbids", []string{`128 tbs "x"`, `0 issue "letsencrypt.org"`}, false, "", false, "critical"},
		{"wildcard uses issuewild when present", []string{`0 issue "letsencrypt.org"`, `0 issuewild ";"`}, true, "", false, "issuewild"},
		{"non-wildcard ignores issuewild", []string{`0 issue "letsencrypt.org"`, `0 issuewild ";"`}, false, "", true, "permits"},
		{"wildcard falls back to issue", []string{`0 issue "letsencrypt.org"`}, true, "", true, "permits"},
		{"validationmethods without dns-01", []string{`0 issue "letsencrypt.org; validationmethods=http-01"`}, false, "", false, "validationmethods=http-01"},
		{"validationmethods with dns-01", []string{`0 issue "letsencrypt.org; validationmethods=http-01,dns-01"`}, false, "", true, "permits"},
		{"accounturi of another account", []string{`0 issue "letsencrypt.org; accounturi=https://ca/acct/1"`}, false, "https://ca/acct/2", false, "bound to account"},
		{"accounturi of this account", []string{`0 issue "letsencrypt.org; accounturi=https://ca/acct/2"`}, false, "https://ca/acct/2", true, "permits"},
		{"accounturi, account not created yet", []string{`0 issue "letsencrypt.org; accounturi=https://ca/acct/2"`}, false, "", true, "if the new account is"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var set []*dns.CAA
			for _, r := range c.set {
				set = append(set, caa("example.com.", r))
			}
			got, why := Permits(set, le, c.wildcard, dns01, c.account)
			if got != c.want || !strings.Contains(why, c.why) {
				t.Errorf("Permits = %v, %q; want %v, containing %q", got, why, c.want, c.why)
			}
		})
	}
}

// RFC 8659 §3: the relevant RRset is the first non-empty one climbing from
// the name; the climb stops at the registered domain.
func TestFindCAAClimbsToRegisteredDomain(t *testing.T) {
	r := &fakeResolver{spec: "https://doh.test/dns-query", records: map[string][]string{
		"example.com. CAA": {`example.com. 300 IN CAA 0 issue "letsencrypt.org"`},
	}}
	set, err := FindCAA(context.Background(), []resolver.Resolver{r}, "*.a.b.example.com")
	if err != nil || set.Owner != "example.com." || len(set.Records) != 1 {
		t.Fatalf("FindCAA = %+v, %v", set, err)
	}
	want := []string{"a.b.example.com. CAA", "b.example.com. CAA", "example.com. CAA"}
	if got := r.questions(); !slices.Equal(got, want) {
		t.Errorf("questions %v, want %v", got, want)
	}

	r = &fakeResolver{spec: "https://doh.test/dns-query"}
	set, err = FindCAA(context.Background(), []resolver.Resolver{r}, "www.example.co.uk")
	if err != nil || set.Owner != "" {
		t.Fatalf("FindCAA = %+v, %v", set, err)
	}
	for _, q := range r.questions() {
		if q == "co.uk. CAA" || q == "uk. CAA" {
			t.Errorf("asked a public suffix: %s", q)
		}
	}
}

// The closest RRset wins even if a parent has another one.
func TestFindCAAStopsAtFirstRRset(t *testing.T) {
	r := &fakeResolver{spec: "x", records: map[string][]string{
		"www.example.com. CAA": {`www.example.com. 300 IN CAA 0 issue "other-ca.example"`},
		"example.com. CAA":     {`example.com. 300 IN CAA 0 issue "letsencrypt.org"`},
	}}
	set, err := FindCAA(context.Background(), []resolver.Resolver{r}, "www.example.com")
	if err != nil || set.Owner != "www.example.com." {
		t.Fatalf("FindCAA = %+v, %v", set, err)
	}
}

// A SERVFAIL on the CAA lookup is a failure: the CA would not issue either.
func TestCAALookupFailure(t *testing.T) {
	r := &fakeResolver{spec: "x", rcode: map[string]int{"www.example.com. CAA": dns.RcodeServerFailure}}
	dir := &Dir{}
	dir.Meta.CAAIdentities = []string{"letsencrypt.org"}
	row := CAA(context.Background(), []resolver.Resolver{r}, "www.example.com", dir, []string{"dns-01"}, "")
	if row.Status != Fail || row.Code != exitcode.DNS || !strings.Contains(row.Detail, "SERVFAIL") {
		t.Errorf("%+v", row)
	}
}

func TestCAARows(t *testing.T) {
	r := &fakeResolver{spec: "x", records: map[string][]string{
		"example.com. CAA": {`example.com. 300 IN CAA 0 issue "other-ca.example"`},
	}}
	rs := []resolver.Resolver{r}
	if row := CAA(context.Background(), rs, "example.com", &Dir{}, nil, ""); row.Status != Warn || !strings.Contains(row.Detail, "no caaIdentities") {
		t.Errorf("no identities: %+v", row)
	}
	dir := &Dir{}
	dir.Meta.CAAIdentities = []string{"letsencrypt.org"}
	row := CAA(context.Background(), rs, "example.com", dir, []string{"dns-01"}, "")
	if row.Status != Fail || row.Code != exitcode.CA || !strings.Contains(row.Detail, `example.com. CAA 0 issue "letsencrypt.org"`) {
		t.Errorf("forbidden: %+v", row)
	}
	if row := CAA(context.Background(), nil, "example.com", dir, nil, ""); row.Status != Warn {
		t.Errorf("no resolver: %+v", row)
	}
}
