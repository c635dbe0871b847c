package plan

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/strictacme/strictacme/provider/hetzner/hetznertest"
)

func init() { backends["hetzner"] = hetznerBackend }

// hetznerBackend is a fake Hetzner DNS account with pages of 2 items.
func hetznerBackend(t *testing.T) backend {
	api := hetznertest.NewServer(hetznertest.Options{MaxPerPage: 2})
	t.Cleanup(api.Close)
	api.AddZone("example.com",
		hetznertest.Record{Type: "A", Name: "@", Value: "192.0.2.10"},
		hetznertest.Record{Type: "MX", Name: "@", Value: "10 mx.example.net.", TTL: 3600},
		hetznertest.Record{Type: "CNAME", Name: "www", Value: "example.com."},
		hetznertest.Record{Type: "TXT", Name: "_acme-challenge", Value: foreignTXT, TTL: 120},
	)
	api.AddZone("example.net")
	api.AddZone("sub.example.org")
	return backend{
		env: map[string]string{"HETZNER_API_KEY": api.Token(), "HETZNER_ENDPOINT": api.URL()},
		txt: func(fqdn string) []string {
			name := strings.TrimSuffix(strings.TrimSuffix(fqdn, "."), ".example.com")
			var out []string
			for _, r := range api.Records("example.com") {
				if r.Type == "TXT" && r.Name == name {
					out = append(out, r.Value)
				}
			}
			sort.Strings(out)
			return out
		},
		others: func() string {
			var lines []string
			for _, r := range api.Records("example.com") {
				if !strings.HasPrefix(r.Name, "_acme-challenge") || r.Value == foreignTXT {
					lines = append(lines, fmt.Sprintf("%+v", r))
				}
			}
			return strings.Join(lines, "\n")
		},
	}
}
