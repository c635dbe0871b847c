package preflight

import (
	"context"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/providers"
	"github.com/strictacme/strictacme/provider/rfc2136"
	"github.com/strictacme/strictacme/provider/rfc2136/rfc2136test"
)

// check tests an rfc2136 provider without writing: its signed SOA question
// finds the zone (so a wrong key is a Fail on the provider's row, naming
// the setting), and with transfer rights the zone is read by AXFR; a
// write-only provider says its credentials beyond the question are not
// tested. Nothing is ever sent as an UPDATE.
func TestCheckRowsOfAnRFC2136Provider(t *testing.T) {
	const key, secret = "acme-update.", "c2VjcmV0LWtleS1mb3ItdGhlLXRlc3Qtb25seS0wMDE="
	s := rfc2136test.Start(t, rfc2136test.Options{Keys: []rfc2136test.Key{{Name: key, Secret: secret}}, Transfer: []string{key}})
	if err := s.AddZone("example.com.", "@ 3600 IN A 192.0.2.10"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		p      providers.Provider
		status Status
		says   string
	}{
		{"transfer allowed", &rfc2136.Provider{Server: s.Addr(), KeyName: key, KeySecret: secret}, OK, "zone example.com readable (2 records)"},
		{"write-only", (&rfc2136.Provider{Server: s.Addr(), KeyName: key, KeySecret: secret}).WriteOnly(), Warn, "found through the provider; it cannot read records, so its right to write can only be tested by writing"},
		{"wrong secret", &rfc2136.Provider{Server: s.Addr(), KeyName: key, KeySecret: "b3RoZXItc2VjcmV0LW5vdC10aGUtc2VydmVycy0wMDA="}, Fail, "BADSIG"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := providers.NewSet(providers.Entry{Name: "internal-dns", Provider: tt.p})
			if err != nil {
				t.Fatal(err)
			}
			routes := Routes(context.Background(), Target{Identifiers: []string{"example.com", "*.example.com"}, Providers: set})
			rows := ProviderRows(context.Background(), set, routes)
			if len(rows) != 1 || rows[0].Status != tt.status || !strings.Contains(rows[0].Detail, tt.says) {
				t.Fatalf("rows %+v; want %s saying %q", rows, tt.status, tt.says)
			}
			t.Logf("%s: %s", rows[0].Status, rows[0].Detail)
			if tt.status == Fail && (rows[0].Code != exitcode.DNS || strings.Contains(rows[0].Detail, "b3RoZXItc2Vj")) {
				t.Errorf("row %+v: want exit code DNS and no secret", rows[0])
			}
		})
	}
	if n := len(s.Updates()); n != 0 {
		t.Errorf("check sent %d UPDATE messages", n)
	}
	for _, m := range s.Messages() {
		if m.Type != dns.TypeSOA && m.Type != dns.TypeAXFR {
			t.Errorf("check sent %+v", m)
		}
	}
}
