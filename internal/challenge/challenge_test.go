package challenge

import (
	"crypto/sha256"
	"encoding/base32"
	"strings"
	"testing"
	"time"

	"github.com/mholt/acmez/v3/acme"
)

// The account URL and label of the example in
// draft-ietf-acme-dns-account-label (§3.2 in -01/-02; the same vector
// appears in the earlier drafts of the same document): account
// "https://example.com/acme/acct/ExampleAccount" validating
// "www.example.org" uses the label "_ujmmovf2vn55tgye".
const (
	draftAccountURL = "https://example.com/acme/acct/ExampleAccount"
	draftLabel      = "_ujmmovf2vn55tgye"
)

func TestAccountLabelDraftExample(t *testing.T) {
	if got := AccountLabel(draftAccountURL); got != draftLabel {
		t.Fatalf("AccountLabel = %q, want %q (draft example)", got, draftLabel)
	}
	want := draftLabel + "._acme-challenge.www.example.org."
	if got := DNSAccount01Name("www.example.org", draftAccountURL); got != want {
		t.Fatalf("DNSAccount01Name = %q, want %q", got, want)
	}
}

// TestAccountLabelCrossChecks computes the label three more ways for several
// account URLs: acmez's DNSAccount01TXTRecordName, Pebble's VA formula
// (va.validateDNSAccount01: lower(base32(sha256(url)[0:10])) with "_"
// prepended), and the definition spelled out by hand (bit groups of five
// over the RFC 4648 alphabet), so a shared mistake in one library cannot
// hide.
func TestAccountLabelCrossChecks(t *testing.T) {
	urls := []string{
		draftAccountURL,
		"https://acme-v02.api.letsencrypt.org/acme/acct/123456789",
		"https://127.0.0.1:14000/my-account/1",
		"https://ca.example/acct/ünïcode?x=1",
	}
	for _, u := range urls {
		got := AccountLabel(u)
		if len(got) != 17 || got[0] != '_' || strings.ToLower(got) != got {
			t.Errorf("%s: label %q is not '_' + 16 lower-case characters", u, got)
		}
		chal := acme.Challenge{Identifier: acme.Identifier{Type: "dns", Value: "example.com"}}
		if want := chal.DNSAccount01TXTRecordName(acme.Account{Location: u}) + "."; DNSAccount01Name("example.com", u) != want {
			t.Errorf("%s: name %q, acmez %q", u, DNSAccount01Name("example.com", u), want)
		}
		sum := sha256.Sum256([]byte(u))
		if pebble := "_" + strings.ToLower(base32.StdEncoding.EncodeToString(sum[0:10])); got != pebble {
			t.Errorf("%s: label %q, Pebble's formula %q", u, got, pebble)
		}
		if byHand := "_" + base32ByHand(sum[:10]); got != byHand {
			t.Errorf("%s: label %q, by hand %q", u, got, byHand)
		}
	}
}

// base32ByHand encodes b (a multiple of 5 octets) with the lower-case RFC
// 4648 §6 alphabet, five bits at a time, most significant first.
func base32ByHand(b []byte) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz234567"
	var out strings.Builder
	var acc uint64
	bits := 0
	for _, c := range b {
		acc = acc<<8 | uint64(c)
		bits += 8
		for bits >= 5 {
			out.WriteByte(alphabet[(acc>>(bits-5))&31])
			bits -= 5
		}
	}
	return out.String()
}

func TestNames(t *testing.T) {
	tests := []struct{ got, want string }{
		{DNS01Name("example.com"), "_acme-challenge.example.com."},
		{DNS01Name("*.Example.COM"), "_acme-challenge.example.com."},
		{DNS01Name("example.com."), "_acme-challenge.example.com."},
		{PersistName("example.com"), "_validation-persist.example.com."},   // draft-ietf-acme-dns-persist-00 §4
		{PersistName("*.example.com"), "_validation-persist.example.com."}, // §5: the base domain's name
		{PersistName("xn--bcher-kva.example"), "_validation-persist.xn--bcher-kva.example."},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
	chal := acme.Challenge{Identifier: acme.Identifier{Type: "dns", Value: "example.com"}}
	if PersistName("example.com") != chal.DNSPersist01TXTRecordName()+"." {
		t.Errorf("PersistName disagrees with acmez: %q", chal.DNSPersist01TXTRecordName())
	}
}

// TestTXTValue checks the dns-01/dns-account-01 digest against a vector
// computed independently: SHA-256 of "token.thumbprint", base64url without
// padding (RFC 8555 §8.4), 43 characters.
func TestTXTValue(t *testing.T) {
	ka := "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"
	chal := acme.Challenge{KeyAuthorization: ka}
	got := TXTValue(ka)
	if got != chal.DNS01KeyAuthorization() || len(got) != 43 || strings.ContainsAny(got, "+/=") {
		t.Fatalf("TXTValue = %q, acmez %q", got, chal.DNS01KeyAuthorization())
	}
}

// The dns-persist-01 examples of draft-ietf-acme-dns-persist-00 §10: the
// issuer "authority.example", account "https://ca.example/acct/123",
// persistUntil 1721952000 (2024-07-26T00:00:00Z). The draft writes the
// records as several character-strings; the concatenated RDATA is what
// Value returns.
func TestPersistValueDraftExamples(t *testing.T) {
	until := time.Date(2024, 7, 26, 0, 0, 0, 0, time.UTC)
	if until.Unix() != 1721952000 {
		t.Fatalf("vector: %d", until.Unix())
	}
	base := PersistRecord{IssuerDomainName: "authority.example", AccountURI: "https://ca.example/acct/123"}
	tests := []struct {
		name string
		rec  PersistRecord
		want string
	}{
		{"§10.1 FQDN only", base, "authority.example; accounturi=https://ca.example/acct/123"},
		{"§10.2 wildcard", withWildcard(base), "authority.example; accounturi=https://ca.example/acct/123; policy=wildcard"},
		{"§10.3 persistUntil", withUntil(base, until), "authority.example; accounturi=https://ca.example/acct/123; persistUntil=1721952000"},
		{"§10.4 wildcard and persistUntil", withUntil(withWildcard(base), until), "authority.example; accounturi=https://ca.example/acct/123; policy=wildcard; persistUntil=1721952000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.rec.Value(); got != tt.want {
				t.Fatalf("Value = %q, want %q", got, tt.want)
			}
			back, err := ParsePersist(tt.want)
			if err != nil {
				t.Fatal(err)
			}
			if back.IssuerDomainName != tt.rec.IssuerDomainName || back.AccountURI != tt.rec.AccountURI ||
				back.Wildcard != tt.rec.Wildcard || !back.PersistUntil.Equal(tt.rec.PersistUntil) {
				t.Fatalf("ParsePersist round trip = %+v, want %+v", back, tt.rec)
			}
			if tt.rec.PersistUntil.IsZero() {
				chal := acme.Challenge{}
				acmez := chal.DNSPersist01TXTRecordValue(acme.Account{Location: tt.rec.AccountURI}, tt.rec.IssuerDomainName, tt.rec.Wildcard)
				if acmez != tt.want {
					t.Fatalf("acmez DNSPersist01TXTRecordValue = %q, want %q", acmez, tt.want)
				}
			}
		})
	}
}

func withWildcard(r PersistRecord) PersistRecord { r.Wildcard = true; return r }

func withUntil(r PersistRecord, t time.Time) PersistRecord { r.PersistUntil = t; return r }

// TestParsePersist covers the parsing rules Pebble's VA applies
// (va.parseDNSPersistIssueValues) and the draft states: tags without regard
// to case, a policy other than wildcard counts as absent, unknown tags are
// ignored, duplicates and a missing accounturi are errors.
func TestParsePersist(t *testing.T) {
	ok := []struct {
		in   string
		want PersistRecord
	}{
		{"authority.example;accounturi=https://ca.example/acct/123", PersistRecord{IssuerDomainName: "authority.example", AccountURI: "https://ca.example/acct/123"}},
		{"  Authority.Example ;\tAccountURI=https://ca.example/acct/123 ; POLICY=WILDCARD", PersistRecord{IssuerDomainName: "authority.example", AccountURI: "https://ca.example/acct/123", Wildcard: true}},
		{"authority.example; accounturi=https://ca.example/acct/123; policy=other", PersistRecord{IssuerDomainName: "authority.example", AccountURI: "https://ca.example/acct/123"}},
		{"authority.example; accounturi=https://ca.example/acct/123; future=thing", PersistRecord{IssuerDomainName: "authority.example", AccountURI: "https://ca.example/acct/123"}},
	}
	for _, tt := range ok {
		got, err := ParsePersist(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParsePersist(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
	bad := []struct{ in, msg string }{
		{"", "empty issuer"},
		{"authority.example", "accounturi is missing"},
		{"authority.example; policy=wildcard", "accounturi is missing"},
		{"authority.example; accounturi=a; accounturi=b", "given twice"},
		{"authority.example; accounturi=a; persistUntil=tomorrow", "not UNIX seconds"},
		{"authority.example; accounturi", "not tag=value"},
	}
	for _, tt := range bad {
		_, err := ParsePersist(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("ParsePersist(%q) err = %v, want it to say %q", tt.in, err, tt.msg)
		}
	}
}

func TestAuthorizes(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rec := PersistRecord{IssuerDomainName: "authority.example", AccountURI: "https://ca.example/acct/123"}
	issuers := []string{"authority.example", "ca.example.net"}
	tests := []struct {
		name     string
		rec      PersistRecord
		issuers  []string
		account  string
		wildcard bool
		err      string // "" = authorizes
	}{
		{"matching", rec, issuers, rec.AccountURI, false, ""},
		{"issuer matched without regard to case", PersistRecord{IssuerDomainName: "Authority.Example", AccountURI: rec.AccountURI}, issuers, rec.AccountURI, false, ""},
		{"other CA", rec, []string{"letsencrypt.org"}, rec.AccountURI, false, "not one the CA accepts"},
		{"other account", rec, issuers, "https://ca.example/acct/999", false, "is not this account"},
		{"wildcard without policy", rec, issuers, rec.AccountURI, true, "policy=wildcard"},
		{"wildcard with policy", withWildcard(rec), issuers, rec.AccountURI, true, ""},
		{"persistUntil in the future", withUntil(rec, now.Add(time.Hour)), issuers, rec.AccountURI, false, ""},
		{"persistUntil in the past", withUntil(rec, now.Add(-time.Second)), issuers, rec.AccountURI, false, "in the past"},
	}
	for _, tt := range tests {
		err := tt.rec.Authorizes(tt.issuers, tt.account, tt.wildcard, now)
		switch {
		case tt.err == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("%s: err = %v, want it to say %q", tt.name, err, tt.err)
		}
	}
}

func TestParseTypes(t *testing.T) {
	got, err := ParseTypes([]string{"dns-persist-01, DNS-01"})
	if err != nil || len(got) != 2 || got[0] != DNSPersist01 || got[1] != DNS01 {
		t.Fatalf("ParseTypes = %v, %v", got, err)
	}
	if got, _ := ParseTypes(nil); len(got) != 1 || got[0] != DNS01 {
		t.Fatalf("default = %v", got)
	}
	for _, in := range [][]string{{"dns-01,dns-01"}, {"http-01"}} {
		if _, err := ParseTypes(in); err == nil {
			t.Errorf("ParseTypes(%v) accepted", in)
		}
	}
	if string(DNSAccount01) != acme.ChallengeTypeDNSAccount01 || string(DNSPersist01) != acme.ChallengeTypeDNSPersist01 || string(DNS01) != acme.ChallengeTypeDNS01 {
		t.Fatal("type names differ from acmez's constants")
	}
}
