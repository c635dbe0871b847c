package plan

import (
	"fmt"
	"strings"
	"testing"

	"github.com/strictacme/strictacme/provider/cloudflare/cloudflaretest"
)

func init() { backends["cloudflare"] = cloudflareBackend }

// cloudflareBackend is a fake Cloudflare account holding example.com, with
// records of the operator's and another client's TXT value; pages are
// small so the contract goes through pagination too.
func cloudflareBackend(t *testing.T) backend {
	s := cloudflaretest.NewServer(cloudflaretest.Options{MaxPerPage: 5})
	t.Cleanup(s.Close)
	s.AddZone("example.net")
	s.AddZone("example.com",
		cloudflaretest.Record{Name: "example.com", Type: "A", Content: "192.0.2.10", TTL: 1, Proxied: true},
		cloudflaretest.Record{Name: "example.com", Type: "MX", Content: "mx.example.net", TTL: 3600},
		cloudflaretest.Record{Name: "www.example.com", Type: "CNAME", Content: "example.com", TTL: 1},
		cloudflaretest.Record{Name: "_acme-challenge.example.com", Type: "TXT", Content: foreignTXT, TTL: 120},
	)
	return backend{
		env: map[string]string{"CF_DNS_API_TOKEN": cloudflaretest.DefaultToken, "CLOUDFLARE_BASE_URL": s.URL()},
		txt: func(fqdn string) []string { return s.TXT(fqdn) },
		others: func() string {
			var lines []string
			for _, r := range s.Records("example.com") {
				if !strings.HasPrefix(r.Name, "_acme-challenge.") {
					lines = append(lines, fmt.Sprintf("%+v", r))
				}
			}
			return strings.Join(lines, "\n")
		},
	}
}
