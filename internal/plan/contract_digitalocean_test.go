package plan

import (
	"fmt"
	"strings"
	"testing"

	"github.com/strictacme/strictacme/provider/digitalocean/digitaloceantest"
)

func init() { backends["digitalocean"] = digitaloceanBackend }

// digitaloceanBackend is a fake DigitalOcean account holding example.com,
// with records of the operator's and another client's TXT value.
func digitaloceanBackend(t *testing.T) backend {
	s := digitaloceantest.NewServer(digitaloceantest.Options{})
	t.Cleanup(s.Close)
	s.AddDomain("example.net")
	s.AddDomain("example.com",
		digitaloceantest.Record{Type: "A", Name: "@", Data: "192.0.2.10", TTL: 3600},
		digitaloceantest.Record{Type: "MX", Name: "@", Data: "mx.example.net", TTL: 1800},
		digitaloceantest.Record{Type: "CNAME", Name: "www", Data: "@", TTL: 1800},
		digitaloceantest.Record{Type: "TXT", Name: "_acme-challenge", Data: foreignTXT, TTL: 300},
	)
	return backend{
		env: map[string]string{"DO_AUTH_TOKEN": digitaloceantest.DefaultToken, "DO_API_URL": s.URL()},
		txt: func(fqdn string) []string { return s.TXT(fqdn) },
		others: func() string {
			var lines []string
			for _, r := range s.Records("example.com") {
				if !strings.HasPrefix(r.Name, "_acme-challenge") {
					lines = append(lines, fmt.Sprintf("%+v", r))
				}
			}
			return strings.Join(lines, "\n")
		},
	}
}
