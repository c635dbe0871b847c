package plan

import (
	"context"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/libdns/libdns"
	"github.com/miekg/dns"
	"golang.org/x/time/rate"

	"github.com/strictacme/strictacme/internal/providers"
	"github.com/strictacme/strictacme/provider/namecheap"
	"github.com/strictacme/strictacme/provider/namecheap/namecheaptest"
	"github.com/strictacme/strictacme/provider/rfc2136/rfc2136test"
)

// backend is one provider kind's fake service, set up for the contract: it
// holds zone example.com with records of the operator's and a TXT value
// foreign at _acme-challenge.example.com (another client's order).
type backend struct {
	// env is what the kind is built with, by its variables.
	env map[string]string
	// txt returns the TXT values the service holds at fqdn, sorted.
	txt func(fqdn string) []string
	// others returns every record of the zone that is not at a challenge
	// name, as text, to compare before and after.
	others func() string
	// unthrottled, when set, rebuilds the provider from the same settings
	// without its real-time API budget (Namecheap's 20 calls a minute
	// would make this test sleep seconds); the registry's build is still
	// made and must succeed.
	unthrottled func(get func(string) (string, bool)) (providers.Provider, error)
	// roots, when set, are the roots the kind is built with (a fake API on
	// loopback TLS), as --ca-cert gives them.
	roots *x509.CertPool
}

const foreignTXT = "another-clients-value"

// backends start each kind's fake service. A kind offered to users
// without an entry here fails TestEveryProviderPassesTheContract: a new
// provider comes with its fake.
var backends = map[string]func(t *testing.T) backend{
	"rfc2136":   rfc2136Backend,
	"namecheap": namecheapBackend,
	"exec":      execBackend,
}

// exempt are kinds the contract does not fit, and why.
var exempt = map[string]string{
	"acmedns": "an account's subdomain is the whole record set: acme-dns keeps the two latest values there and nothing else, so there is no zone, no foreign value and no other record to keep; provider/acmedns and internal/issue/acmedns_test.go pin its behaviour",
}

// TestEveryProviderPassesTheContract builds every registered provider kind
// through the registry, against its fake service, and checks what every
// provider promises: the zone of a challenge name is found without a DNS
// question to anything but the provider's own service; the records of an
// apex, its wildcard and a subdomain are written in one call and are
// then there beside the foreign value at the same name; one delete call
// removes exactly them; every other record is as before.
func TestEveryProviderPassesTheContract(t *testing.T) {
	for _, k := range ProviderKinds() {
		t.Run(k.Name, func(t *testing.T) {
			start, ok := backends[k.Name]
			if !ok {
				if why, ok := exempt[k.Name]; ok {
					t.Skip(why)
				}
				t.Fatalf("provider kind %s has no fake service in the contract test; add one to backends", k.Name)
			}
			checkContract(t, k, start(t))
		})
	}
}

// checkContract runs the contract on kind k built against backend b.
func checkContract(t *testing.T, k *ProviderKind, b backend) {
	get := func(env string) (string, bool) { v, ok := b.env[env]; return v, ok }
	env := BuildEnv{Path: t.TempDir()}
	if b.roots != nil {
		env.RootCAs, env.HTTPClient = b.roots, HTTPClient(b.roots, false)
	}
	p, err := k.New(get, env)
	if err != nil {
		t.Fatal(err)
	}
	if b.unthrottled != nil {
		if p, err = b.unthrottled(get); err != nil {
			t.Fatal(err)
		}
	}
	set, err := providers.NewSet(providers.Entry{Name: k.Name, Provider: p})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tgt, err := set.Route(ctx, "_acme-challenge.sub.example.com.")
	if err != nil || tgt.Zone != "example.com." {
		t.Fatalf("Route = %q, %v; want zone example.com.", tgt.Zone, err)
	}
	before := b.others()
	recs := []libdns.Record{
		libdns.TXT{Name: "_acme-challenge", Text: "apex-value-000000000000000000000000000000000"},
		libdns.TXT{Name: "_acme-challenge", Text: "wildcard-value-0000000000000000000000000000"},
		libdns.TXT{Name: "_acme-challenge.sub", Text: "sub-value-00000000000000000000000000000000"},
	}
	if _, err := p.AppendRecords(ctx, tgt.Zone, recs); err != nil {
		t.Fatal(err)
	}
	want := []string{foreignTXT, "apex-value-000000000000000000000000000000000", "wildcard-value-0000000000000000000000000000"}
	if got := b.txt("_acme-challenge.example.com."); !slices.Equal(got, want) {
		t.Errorf("after the write, TXT at the apex challenge name: %q, want %q", got, want)
	}
	if got := b.txt("_acme-challenge.sub.example.com."); len(got) != 1 {
		t.Errorf("after the write, TXT at the sub challenge name: %q", got)
	}
	if _, err := p.DeleteRecords(ctx, tgt.Zone, recs); err != nil {
		t.Fatal(err)
	}
	if got := b.txt("_acme-challenge.example.com."); !slices.Equal(got, []string{foreignTXT}) {
		t.Errorf("after the delete, TXT at the apex challenge name: %q, want only the foreign value", got)
	}
	if got := b.txt("_acme-challenge.sub.example.com."); len(got) != 0 {
		t.Errorf("after the delete, left at the sub challenge name: %q", got)
	}
	if after := b.others(); after != before {
		t.Errorf("other records changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

func rfc2136Backend(t *testing.T) backend {
	const key, secret = "acme-update.", "c2VjcmV0LWtleS1mb3ItdGhlLXRlc3Qtb25seS0wMDE="
	s := rfc2136test.Start(t, rfc2136test.Options{
		Keys: []rfc2136test.Key{{Name: key, Secret: secret}},
		Grants: []rfc2136test.Grant{
			{Key: key, Match: "name", Name: "_acme-challenge.example.com.", Types: []uint16{dns.TypeTXT}},
			{Key: key, Match: "name", Name: "_acme-challenge.sub.example.com.", Types: []uint16{dns.TypeTXT}},
		},
	})
	if err := s.AddZone("example.com.", "@ 3600 IN A 192.0.2.10", "@ 3600 IN MX 10 mx.example.net.", "www 300 IN CNAME example.com.",
		`_acme-challenge 3600 IN TXT "`+foreignTXT+`"`); err != nil {
		t.Fatal(err)
	}
	return backend{
		env: map[string]string{"RFC2136_NAMESERVER": s.Addr(), "RFC2136_TSIG_KEY": key, "RFC2136_TSIG_SECRET": secret},
		txt: func(fqdn string) []string { v := s.TXT(fqdn); sort.Strings(v); return v },
		others: func() string {
			var lines []string
			for _, rr := range s.Records("example.com.") {
				if rr.Header().Rrtype != dns.TypeSOA && !strings.HasPrefix(rr.Header().Name, "_acme-challenge.") {
					lines = append(lines, rr.String())
				}
			}
			return strings.Join(lines, "\n")
		},
	}
}

func namecheapBackend(t *testing.T) backend {
	nc := namecheaptest.NewServer(namecheaptest.Options{})
	t.Cleanup(nc.Close)
	const clientIP = "203.0.113.7"
	nc.Whitelist(clientIP)
	nc.AddZone("example.com", namecheaptest.ZoneOptions{EmailType: "MX", Hosts: []namecheaptest.Host{
		{Name: "@", Type: "A", Address: "192.0.2.10", TTL: "1799", IsActive: true},
		{Name: "@", Type: "MX", Address: "mx.example.net.", MXPref: "10", TTL: "1800", IsActive: true},
		{Name: "www", Type: "CNAME", Address: "example.com.", TTL: "1800", IsActive: true},
		{Name: "_acme-challenge", Type: "TXT", Address: foreignTXT, TTL: "60", IsActive: true},
	}})
	return backend{
		env: map[string]string{
			"NAMECHEAP_API_USER": nc.APIUser(), "NAMECHEAP_API_KEY": nc.APIKey(), "NAMECHEAP_ENDPOINT": nc.URL(),
			"NAMECHEAP_CLIENT_IP": clientIP, "NAMECHEAP_LOCK_DIR": t.TempDir(),
		},
		txt: func(fqdn string) []string {
			name := strings.TrimSuffix(strings.TrimSuffix(fqdn, "."), ".example.com")
			var out []string
			for _, h := range nc.Hosts("example.com") {
				if h.Type == "TXT" && h.Name == name {
					out = append(out, h.Address)
				}
			}
			sort.Strings(out)
			return out
		},
		others: func() string {
			var lines []string
			for _, h := range nc.Hosts("example.com") {
				if !strings.HasPrefix(h.Name, "_acme-challenge") {
					h.HostId = 0 // regenerated on each setHosts, as the real API does
					lines = append(lines, fmt.Sprintf("%+v", h))
				}
			}
			return strings.Join(lines, "\n") + "\nEmailType " + nc.EmailType("example.com")
		},
		unthrottled: func(get func(string) (string, bool)) (providers.Provider, error) {
			cfg, err := namecheap.ConfigFromEnv(get)
			if err != nil {
				return nil, err
			}
			cfg.Limiter = rate.NewLimiter(rate.Inf, 1)
			return namecheap.New(cfg)
		},
	}
}

// execBackend is a DNS "service" in a text file, one "FQDN TYPE VALUE"
// line per record, kept by a script in lego's exec convention.
func execBackend(t *testing.T) backend {
	if runtime.GOOS == "windows" {
		t.Skip("the script is a POSIX shell script")
	}
	dir := t.TempDir()
	zone := filepath.Join(dir, "zone.txt")
	initial := "example.com. A 192.0.2.10\nexample.com. MX 10 mx.example.net.\nwww.example.com. CNAME example.com.\n_acme-challenge.example.com. TXT " + foreignTXT + "\n"
	if err := os.WriteFile(zone, []byte(initial), 0o600); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "hook")
	body := `#!/bin/sh
set -eu
zone='` + zone + `'
case "$1" in
present) echo "$2 TXT $3" >>"$zone" ;;
cleanup) grep -vxF "$2 TXT $3" "$zone" >"$zone.new" || true; mv "$zone.new" "$zone" ;;
*) exit 2 ;;
esac
`
	if err := os.WriteFile(script, []byte(body), 0o700); err != nil {
		t.Fatal(err)
	}
	lines := func() []string {
		b, err := os.ReadFile(zone)
		if err != nil {
			t.Fatal(err)
		}
		return strings.Split(strings.TrimSpace(string(b)), "\n")
	}
	return backend{
		env: map[string]string{"EXEC_PATH": script},
		txt: func(fqdn string) []string {
			var out []string
			for _, l := range lines() {
				if v, ok := strings.CutPrefix(l, fqdn+" TXT "); ok {
					out = append(out, v)
				}
			}
			sort.Strings(out)
			return out
		},
		others: func() string {
			var out []string
			for _, l := range lines() {
				if !strings.HasPrefix(l, "_acme-challenge") {
					out = append(out, l)
				}
			}
			return strings.Join(out, "\n")
		},
	}
}
