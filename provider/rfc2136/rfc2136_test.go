package rfc2136_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/libdns/libdns"
	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/provider/rfc2136"
	"github.com/strictacme/strictacme/provider/rfc2136/rfc2136test"
)

const (
	keyName = "acme-update."
	// secret is a 32-byte HMAC-SHA256 key, base64 as tsig-keygen prints it.
	secret = "c2VjcmV0LWtleS1mb3ItdGhlLXRlc3Qtb25seS0wMDE="
	value1 = "kPYxnB3V4uQ4Ah7v0pE9ysDsVCeQXVPkMVNcb3Y4bFM"
	value2 = "gT0x9Qm8v3Jk2LwZr5Yb7NcA1dEfHiKlMnOpQrStUvW"
	value3 = "Zz1Yy2Xx3Ww4Vv5Uu6Tt7Ss8Rr9Qq0Pp1Oo2Nn3Mm4L"
)

// A zone as an operator has it: mail, SPF, an alias, a long DKIM key in
// several strings, and a TXT at _acme-challenge that is not ours (another
// client's order) with a TTL of its own.
var otherRecords = []string{
	"@ 3600 IN A 192.0.2.10",
	"@ 3600 IN MX 10 mx1.example.net.",
	`@ 3600 IN TXT "v=spf1 include:mail.example.net ~all"`,
	"www 300 IN CNAME example.com.",
	"sub 600 IN A 192.0.2.11",
	`sel._domainkey 3600 IN TXT "v=DKIM1; k=rsa; p=` + strings.Repeat("A", 230) + `" "` + strings.Repeat("B", 100) + `"`,
	`_acme-challenge 3600 IN TXT "another-clients-value"`,
	"alias 300 IN CNAME target.example.net.",
}

// primary is a BIND-like primary for example.com whose update policy lets
// acme-update change TXT at the challenge names of the apex and of sub
// only (the minimal grant), and transfer the zone.
func primary(t *testing.T, opts ...func(*rfc2136test.Options)) *rfc2136test.Server {
	t.Helper()
	o := rfc2136test.Options{
		Keys: []rfc2136test.Key{{Name: keyName, Algorithm: dns.HmacSHA256, Secret: secret}},
		Grants: []rfc2136test.Grant{
			{Key: keyName, Match: "name", Name: "_acme-challenge.example.com.", Types: []uint16{dns.TypeTXT}},
			{Key: keyName, Match: "name", Name: "_acme-challenge.sub.example.com.", Types: []uint16{dns.TypeTXT}},
		},
		Transfer: []string{keyName},
	}
	for _, f := range opts {
		f(&o)
	}
	s := rfc2136test.Start(t, o)
	if err := s.AddZone("example.com.", otherRecords...); err != nil {
		t.Fatal(err)
	}
	return s
}

func provider(s *rfc2136test.Server) *rfc2136.Provider {
	return &rfc2136.Provider{Server: s.Addr(), KeyName: keyName, KeySecret: secret}
}

func txt(name, value string) libdns.Record { return libdns.TXT{Name: name, Text: value} }

// zoneText is the zone as text without the SOA (whose serial changes).
func zoneText(s *rfc2136test.Server) string {
	var lines []string
	for _, rr := range s.Records("example.com.") {
		if rr.Header().Rrtype != dns.TypeSOA {
			lines = append(lines, rr.String())
		}
	}
	return strings.Join(lines, "\n")
}

// wire is every record's wire form, to compare byte for byte.
func wire(t *testing.T, s *rfc2136test.Server) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, rr := range s.Records("example.com.") {
		if rr.Header().Rrtype == dns.TypeSOA {
			continue
		}
		b := make([]byte, dns.Len(rr))
		n, err := dns.PackRR(rr, b, 0, nil, false)
		if err != nil {
			t.Fatal(err)
		}
		out[string(b[:n])] = true
	}
	return out
}

// An apex, its wildcard and a subdomain: three values at two names go in
// one UPDATE without prerequisites, after one TXT question per name; the
// delete is one UPDATE of class-NONE records; afterwards every record of
// the zone is byte-identical to before, the other client's TXT at the
// same name and its TTL included.
func TestRoundTripKeepsEveryOtherRecord(t *testing.T) {
	s := primary(t)
	p := provider(s)
	before := wire(t, s)
	serial := s.Serial("example.com.")
	recs := []libdns.Record{txt("_acme-challenge", value1), txt("_acme-challenge", value2), txt("_acme-challenge.sub", value3)}
	ctx := context.Background()
	if _, err := p.AppendRecords(ctx, "example.com.", recs); err != nil {
		t.Fatal(err)
	}
	got := s.TXT("_acme-challenge.example.com.")
	if want := []string{"another-clients-value", value1, value2}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("TXT at the apex challenge name: %q, want %q", got, want)
	}
	if got := s.TXT("_acme-challenge.sub.example.com."); len(got) != 1 || got[0] != value3 {
		t.Fatalf("TXT at the sub challenge name: %q", got)
	}
	for _, rr := range s.Records("example.com.") {
		if rr.Header().Rrtype == dns.TypeTXT && rr.Header().Name == "_acme-challenge.example.com." && rr.Header().Ttl != 3600 {
			t.Errorf("%s: the RRset's TTL changed", rr)
		}
	}
	if _, err := p.DeleteRecords(ctx, "example.com.", recs); err != nil {
		t.Fatal(err)
	}
	after := wire(t, s)
	if len(after) != len(before) {
		t.Errorf("zone has %d records, had %d:\n%s", len(after), len(before), zoneText(s))
	}
	for b := range before {
		if !after[b] {
			t.Errorf("a record changed or went missing:\n%s", zoneText(s))
			break
		}
	}
	if s.Serial("example.com.") != serial+2 {
		t.Errorf("serial %d, want %d (one per UPDATE)", s.Serial("example.com."), serial+2)
	}
	ups := s.Updates()
	if len(ups) != 2 {
		t.Fatalf("%d UPDATE messages, want 2", len(ups))
	}
	for i, u := range ups {
		if u.Prereqs != 0 || u.Name != "example.com." || u.Key != keyName || len(u.Updates) != 3 {
			t.Errorf("UPDATE %d: zone %s key %q, %d prerequisites, %d records", i, u.Name, u.Key, u.Prereqs, len(u.Updates))
		}
		for _, rr := range u.Updates {
			wantClass := map[int]uint16{0: dns.ClassINET, 1: dns.ClassNONE}[i]
			if rr.Header().Class != wantClass || rr.Header().Rrtype != dns.TypeTXT {
				t.Errorf("UPDATE %d carries %s; want TXT of class %s (never an RRset or name delete)", i, rr, dns.ClassToString[wantClass])
			}
		}
	}
	if qs := len(s.Messages()) - len(ups); qs != 2 {
		t.Errorf("%d questions besides the UPDATEs, want 2 (one TXT question per name)", qs)
	}
}

// Deleting our value at a name leaves the value another order or client
// wrote there, though both are TXT at the same name with the same TTL.
func TestDeleteLeavesAForeignValueAtTheSameName(t *testing.T) {
	s := primary(t)
	p := provider(s)
	ctx := context.Background()
	if _, err := p.AppendRecords(ctx, "example.com.", []libdns.Record{txt("_acme-challenge", value1)}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.DeleteRecords(ctx, "example.com.", []libdns.Record{txt("_acme-challenge", value1)}); err != nil {
		t.Fatal(err)
	}
	if got := s.TXT("_acme-challenge.example.com."); len(got) != 1 || got[0] != "another-clients-value" {
		t.Fatalf("TXT left: %q", got)
	}
	// Deleting a value that is not there is no error and changes nothing.
	serial := s.Serial("example.com.")
	if _, err := p.DeleteRecords(ctx, "example.com.", []libdns.Record{txt("_acme-challenge", value2)}); err != nil {
		t.Fatal(err)
	}
	if s.Serial("example.com.") != serial {
		t.Error("deleting an absent value changed the zone")
	}
}

// Each way the key can be wrong is answered NOTAUTH with its TSIG error,
// and the error says which setting to fix, shows no secret and changes
// nothing.
func TestWrongKeyIsExplained(t *testing.T) {
	other := "b3RoZXItc2VjcmV0LW5vdC10aGUtc2VydmVycy0wMDA="
	tests := []struct {
		name      string
		p         func(addr string) *rfc2136.Provider
		tsigError uint16
		says      string
	}{
		{"unknown key name", func(a string) *rfc2136.Provider {
			return &rfc2136.Provider{Server: a, KeyName: "acme-other.", KeySecret: secret}
		}, dns.RcodeBadKey, "RFC2136_TSIG_KEY"},
		{"other algorithm", func(a string) *rfc2136.Provider {
			return &rfc2136.Provider{Server: a, KeyName: keyName, KeyAlgorithm: "hmac-sha512", KeySecret: secret}
		}, dns.RcodeBadKey, "RFC2136_TSIG_ALGORITHM"},
		{"other secret", func(a string) *rfc2136.Provider {
			return &rfc2136.Provider{Server: a, KeyName: keyName, KeySecret: other}
		}, dns.RcodeBadSig, "RFC2136_TSIG_SECRET"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := primary(t)
			before := zoneText(s)
			_, err := tt.p(s.Addr()).AppendRecords(context.Background(), "example.com.", []libdns.Record{txt("_acme-challenge", value1)})
			var se *rfc2136.ServerError
			if !errors.As(err, &se) || se.Rcode != dns.RcodeNotAuth || se.TSIGError != tt.tsigError || !se.KeyRejected() {
				t.Fatalf("error %v (%#v)", err, se)
			}
			if !strings.Contains(err.Error(), tt.says) || strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), other) {
				t.Errorf("error does not point at %s, or shows a secret: %v", tt.says, err)
			}
			if zoneText(s) != before {
				t.Error("the zone changed")
			}
		})
	}
}

// The key is right but the update policy does not cover a name: the whole
// UPDATE is refused (nothing of it applied) and the error says it is the
// policy, not the key, with the grant that would allow it.
func TestUpdatePolicyRefusalIsExplained(t *testing.T) {
	s := primary(t)
	before := zoneText(s)
	recs := []libdns.Record{txt("_acme-challenge", value1), txt("_acme-challenge.www", value2)}
	_, err := provider(s).AppendRecords(context.Background(), "example.com.", recs)
	var se *rfc2136.ServerError
	if !errors.As(err, &se) || se.Rcode != dns.RcodeRefused || se.KeyRejected() {
		t.Fatalf("error %v", err)
	}
	for _, want := range []string{"REFUSED", "key was accepted", "update policy", "update-policy { grant acme-update name _acme-challenge.example.com. TXT; }"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if zoneText(s) != before {
		t.Error("part of a refused UPDATE was applied")
	}
}

// Other refusals: an unsigned UPDATE, a zone the server does not serve,
// a record outside the zone it names.
func TestRefusalsNameTheirCause(t *testing.T) {
	tests := []struct {
		name  string
		p     func(addr string) *rfc2136.Provider
		zone  string
		rcode int
		says  string
	}{
		{"unsigned", func(a string) *rfc2136.Provider { return &rfc2136.Provider{Server: a} }, "example.com.", dns.RcodeRefused, "refuses unsigned updates"},
		{"zone not served, delete", func(a string) *rfc2136.Provider {
			return &rfc2136.Provider{Server: a, KeyName: keyName, KeySecret: secret}
		}, "example.org.", dns.RcodeNotAuth, "not authoritative for zone example.org (the key was accepted)"},
		// An add asks for the TXT at the name first: a server without the
		// zone refuses the question.
		{"zone not served, add", func(a string) *rfc2136.Provider {
			return &rfc2136.Provider{Server: a, KeyName: keyName, KeySecret: secret}
		}, "example.org.", dns.RcodeRefused, "serves no zone holding this name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := primary(t)
			p := tt.p(s.Addr())
			call := p.AppendRecords
			if strings.HasSuffix(tt.name, "delete") {
				call = p.DeleteRecords
			}
			_, err := call(context.Background(), tt.zone, []libdns.Record{txt("_acme-challenge", value1)})
			var se *rfc2136.ServerError
			if !errors.As(err, &se) || se.Rcode != tt.rcode || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("error %v, want %s saying %q", err, dns.RcodeToString[tt.rcode], tt.says)
			}
		})
	}
}

// The zone is asked of the configured primary alone, once per name, with a
// signed SOA question; no other server hears anything (a second server on
// loopback, serving the same zone, counts zero messages).
func TestZoneDiscoveryAsksOnlyThePrimary(t *testing.T) {
	s := primary(t)
	decoy := primary(t)
	p := provider(s)
	for _, name := range []string{"_acme-challenge.example.com.", "_acme-challenge.sub.example.com.", "_acme-challenge.sub.example.com."} {
		z, err := p.ZoneFor(context.Background(), name)
		if err != nil || z != "example.com." {
			t.Fatalf("ZoneFor(%s) = %q, %v", name, z, err)
		}
	}
	msgs := s.Messages()
	if len(msgs) != 2 {
		t.Fatalf("the primary got %d messages, want 2 (one SOA question per new name)", len(msgs))
	}
	for _, m := range msgs {
		if m.Type != dns.TypeSOA || m.Key != keyName {
			t.Errorf("message %+v: want a signed SOA question", m)
		}
	}
	if n := len(decoy.Messages()); n != 0 {
		t.Errorf("another server got %d messages", n)
	}
	// A name the primary serves no zone for: REFUSED, explained.
	if _, err := p.ZoneFor(context.Background(), "_acme-challenge.example.net."); err == nil || !strings.Contains(err.Error(), "serves no zone holding this name") {
		t.Errorf("ZoneFor outside the primary's zones: %v", err)
	}
	// A configured zone is confirmed at its apex, and names outside it are
	// refused before anything is sent.
	s.ResetLog()
	pz := provider(s)
	pz.Zone = "example.com"
	if z, err := pz.ZoneFor(context.Background(), "_acme-challenge.sub.example.com."); err != nil || z != "example.com." {
		t.Fatalf("ZoneFor with Zone = %q, %v", z, err)
	}
	if _, err := pz.ZoneFor(context.Background(), "_acme-challenge.example.org."); err == nil {
		t.Error("a name outside the configured zone was accepted")
	}
	if msgs := s.Messages(); len(msgs) != 1 || msgs[0].Name != "example.com." {
		t.Errorf("messages %+v; want one SOA question for the apex", msgs)
	}
	// A configured zone the server holds only inside another zone.
	pz = provider(s)
	pz.Zone = "sub.example.com"
	if _, err := pz.ZoneFor(context.Background(), "_acme-challenge.sub.example.com."); err == nil || !strings.Contains(err.Error(), "set RFC2136_ZONE to example.com") {
		t.Errorf("ZoneFor with a non-apex Zone: %v", err)
	}
}

// An answer too large for UDP comes back truncated; the provider asks again
// over TCP and the write completes. A message larger than 512 bytes goes
// over TCP from the start.
func TestTruncatedAnswersAreRetriedOverTCP(t *testing.T) {
	s := primary(t, func(o *rfc2136test.Options) { o.MaxUDP = 64 })
	p := provider(s)
	if _, err := p.AppendRecords(context.Background(), "example.com.", []libdns.Record{txt("_acme-challenge", value1)}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range s.Messages() {
		got = append(got, fmt.Sprintf("%s/%s", dns.OpcodeToString[m.Opcode], m.Transport))
	}
	if want := "[QUERY/udp QUERY/tcp UPDATE/udp UPDATE/tcp]"; fmt.Sprint(got) != want {
		t.Errorf("messages %v, want %s", got, want)
	}
	if v := s.TXT("_acme-challenge.example.com."); len(v) != 2 {
		t.Errorf("TXT %q", v)
	}

	s = primary(t)
	p = provider(s)
	var many []libdns.Record
	for i := range 12 {
		many = append(many, txt("_acme-challenge", fmt.Sprintf("%s%02d", value1[:41], i)))
	}
	if _, err := p.AppendRecords(context.Background(), "example.com.", many); err != nil {
		t.Fatal(err)
	}
	ups := s.Updates()
	if len(ups) != 1 || ups[0].Transport != "tcp" {
		t.Errorf("updates %+v; want one over TCP", ups)
	}
}

// GetRecords reads the zone by a signed AXFR from the primary; a key
// without transfer rights gets REFUSED, explained.
func TestGetRecordsTransfersTheZone(t *testing.T) {
	s := primary(t)
	recs, err := provider(s).GetRecords(context.Background(), "example.com.")
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(s.Records("example.com."))-1 {
		t.Errorf("%d records, the zone has %d besides the SOA", len(recs), len(s.Records("example.com."))-1)
	}
	found := false
	for _, r := range recs {
		rr := r.RR()
		if rr.Type == "TXT" && rr.Name == "sel._domainkey" && strings.HasSuffix(rr.Data, strings.Repeat("B", 100)) && len(rr.Data) == len("v=DKIM1; k=rsa; p=")+230+100 {
			found = true
		}
	}
	if !found {
		t.Errorf("the DKIM TXT of two strings is not read as one value: %v", recs)
	}
	s = primary(t, func(o *rfc2136test.Options) { o.Transfer = nil })
	_, err = provider(s).GetRecords(context.Background(), "example.com.")
	if err == nil || !strings.Contains(err.Error(), "may not transfer the zone") || !strings.Contains(err.Error(), "RFC2136_TRANSFER=false") {
		t.Errorf("transfer without rights: %v", err)
	}
}

// A name that is an alias cannot take a TXT: the server would drop it in
// silence, so the provider refuses before it sends the UPDATE.
func TestTXTBesideACNAMEIsRefusedBeforeTheUpdate(t *testing.T) {
	s := primary(t, func(o *rfc2136test.Options) {
		o.Grants = append(o.Grants, rfc2136test.Grant{Key: keyName, Match: "subdomain", Name: "example.com."})
	})
	_, err := provider(s).AppendRecords(context.Background(), "example.com.", []libdns.Record{txt("alias", value1)})
	if err == nil || !strings.Contains(err.Error(), "CNAME") {
		t.Fatalf("error %v", err)
	}
	if len(s.Updates()) != 0 {
		t.Error("an UPDATE was sent")
	}
}

// The key comes from the environment as lego names it, from a _FILE, or
// from a BIND key file; mistakes are one line naming the variable, and
// never show the secret.
func TestFromEnv(t *testing.T) {
	dir := t.TempDir()
	bind := filepath.Join(dir, "acme.key")
	keyFile := "# tsig-keygen -a hmac-sha384 acme-update\nkey \"acme-update\" {\n\talgorithm hmac-sha384;\n\tsecret \"" + secret + "\";\n};\n"
	if err := os.WriteFile(bind, []byte(keyFile), 0o600); err != nil {
		t.Fatal(err)
	}
	secretFile := filepath.Join(dir, "secret")
	if err := os.WriteFile(secretFile, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  map[string]string
		err  string
	}{
		{"lego variables", map[string]string{"RFC2136_NAMESERVER": "192.0.2.53", "RFC2136_TSIG_KEY": "acme-update", "RFC2136_TSIG_SECRET": secret, "RFC2136_TSIG_ALGORITHM": "hmac-sha256."}, ""},
		{"secret from a file", map[string]string{"RFC2136_NAMESERVER": "192.0.2.53:5353", "RFC2136_TSIG_KEY": "acme-update", "RFC2136_TSIG_SECRET_FILE": secretFile}, ""},
		{"BIND key file", map[string]string{"RFC2136_NAMESERVER": "[2001:db8::53]:53", "RFC2136_TSIG_FILE": bind}, ""},
		{"no server", map[string]string{"RFC2136_TSIG_FILE": bind}, "RFC2136_NAMESERVER is not set"},
		{"key without secret", map[string]string{"RFC2136_NAMESERVER": "192.0.2.53", "RFC2136_TSIG_KEY": "k"}, "RFC2136_TSIG_SECRET is not"},
		{"both secret forms", map[string]string{"RFC2136_NAMESERVER": "192.0.2.53", "RFC2136_TSIG_KEY": "k", "RFC2136_TSIG_SECRET": secret, "RFC2136_TSIG_SECRET_FILE": secretFile}, "set only one"},
		{"md5", map[string]string{"RFC2136_NAMESERVER": "192.0.2.53", "RFC2136_TSIG_KEY": "k", "RFC2136_TSIG_SECRET": secret, "RFC2136_TSIG_ALGORITHM": "hmac-md5.sig-alg.reg.int."}, "tsig-keygen -a hmac-sha256"},
		{"secret not base64", map[string]string{"RFC2136_NAMESERVER": "192.0.2.53", "RFC2136_TSIG_KEY": "k", "RFC2136_TSIG_SECRET": "not base64!"}, "not base64"},
		{"secret pasted into _FILE", map[string]string{"RFC2136_NAMESERVER": "192.0.2.53", "RFC2136_TSIG_KEY": "k", "RFC2136_TSIG_SECRET_FILE": "c2VjcmV0LWtleS1mb3ItdGhlLXRlc3Qtb25seS0wMDE"}, "looks like a key"},
		{"bad TTL", map[string]string{"RFC2136_NAMESERVER": "192.0.2.53", "RFC2136_TTL": "0"}, "RFC2136_TTL"},
		{"bad timeout", map[string]string{"RFC2136_NAMESERVER": "192.0.2.53", "RFC2136_DNS_TIMEOUT": "soon"}, "RFC2136_DNS_TIMEOUT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := rfc2136.FromEnv(func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok })
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one saying %q", err, tt.err)
				}
				if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), secret[:40]) || strings.Contains(err.Error(), "\n") {
					t.Errorf("error shows the secret or spans lines: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Server == "" {
				t.Error("no server")
			}
		})
	}
}

// ReadKeyFile takes tsig-keygen's output among other statements and
// comments, picks a key by name, and takes the one-line
// algorithm:name:secret form.
func TestReadKeyFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	two := write("two.conf", `// keys for dynamic updates
key "ddns" { algorithm hmac-sha512; secret "`+secret+`"; };
/* the one for ACME */
key acme-update {
	algorithm hmac-sha256;   # the default
	secret "`+secret+`";
};
options { directory "/var/cache/bind"; };
`)
	k, err := rfc2136.ReadKeyFile(two, "acme-update")
	if err != nil || k.Name != "acme-update." || k.Algorithm != dns.HmacSHA256 || k.Secret != secret {
		t.Fatalf("%v, %v", k, err)
	}
	if _, err := rfc2136.ReadKeyFile(two, ""); err == nil || !strings.Contains(err.Error(), "holds 2 keys") {
		t.Errorf("two keys without a name: %v", err)
	}
	if _, err := rfc2136.ReadKeyFile(two, "nope"); err == nil || !strings.Contains(err.Error(), "no key named nope") {
		t.Errorf("missing name: %v", err)
	}
	k, err = rfc2136.ReadKeyFile(write("line", "hmac-sha512:acme-update:"+secret+"\n"), "")
	if err != nil || k.Algorithm != dns.HmacSHA512 || k.Name != "acme-update." {
		t.Fatalf("%v, %v", k, err)
	}
	if s := k.String(); strings.Contains(s, secret) {
		t.Errorf("Key.String shows the secret: %s", s)
	}
}

// A silent server: the exchange ends at Timeout with an error naming the
// server, not a hang.
func TestSilentServerTimesOut(t *testing.T) {
	// A UDP socket nobody reads, and no TCP listener on its port.
	s := primary(t)
	addr := s.Addr()
	s.Close()
	p := &rfc2136.Provider{Server: addr, KeyName: keyName, KeySecret: secret, Timeout: 200 * time.Millisecond}
	_, err := p.AppendRecords(context.Background(), "example.com.", []libdns.Record{txt("_acme-challenge", value1)})
	if err == nil || !strings.Contains(err.Error(), addr) {
		t.Fatalf("error %v", err)
	}
}

// Records at a name with no TXT yet share the first one's TTL in the
// UPDATE (an RRset has one TTL); at a name that has TXT, the TTL already
// there wins even over Provider.TTL (RFC2136_TTL).
func TestNewValuesAtANameShareOneTTL(t *testing.T) {
	s := primary(t)
	p := provider(s)
	recs := []libdns.Record{
		libdns.TXT{Name: "_acme-challenge.sub", Text: value1, TTL: time.Minute},
		libdns.TXT{Name: "_acme-challenge.sub", Text: value2, TTL: 5 * time.Minute},
	}
	if _, err := p.AppendRecords(context.Background(), "example.com.", recs); err != nil {
		t.Fatal(err)
	}
	for _, rr := range s.Updates()[0].Updates {
		if rr.Header().Ttl != 60 {
			t.Errorf("%s: want TTL 60, the first record's", rr)
		}
	}
	p = provider(s)
	p.TTL = 30
	if _, err := p.AppendRecords(context.Background(), "example.com.", []libdns.Record{libdns.TXT{Name: "_acme-challenge.sub", Text: value3, TTL: time.Hour}}); err != nil {
		t.Fatal(err)
	}
	if rr := s.Updates()[1].Updates[0]; rr.Header().Ttl != 60 {
		t.Errorf("%s: want TTL 60, the RRset's, over Provider.TTL", rr)
	}
}
