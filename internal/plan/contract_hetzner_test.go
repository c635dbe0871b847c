package plan

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/strictacme/strictacme/internal/providers"
	"github.com/strictacme/strictacme/provider/hetzner"
	"github.com/strictacme/strictacme/provider/hetzner/hetznertest"
)

func init() { backends["hetzner"] = hetznerCloudBackend }

// The hetzner kind speaks two APIs over one account's zones: the Cloud
// API (HETZNER_API_TOKEN, the default path, run by
// TestEveryProviderPassesTheContract) and the DNS Console API
// (HETZNER_API_KEY), run here.
func TestHetznerDNSConsoleAPIPassesTheContract(t *testing.T) {
	k, ok := LookupProvider("hetzner")
	if !ok {
		t.Fatal("no hetzner kind")
	}
	checkContract(t, k, hetznerBackend(t, false))
}

func hetznerCloudBackend(t *testing.T) backend { return hetznerBackend(t, true) }

// hetznerBackend is a fake Hetzner account with pages of 2 items, spoken
// to through the Cloud API (cloud, TXT values stored quoted as that API
// keeps them) or the DNS Console API.
func hetznerBackend(t *testing.T, cloud bool) backend {
	api := hetznertest.NewServer(hetznertest.Options{MaxPerPage: 2})
	t.Cleanup(api.Close)
	foreign := foreignTXT
	if cloud {
		foreign = `"` + foreignTXT + `"`
	}
	api.AddZone("example.com",
		hetznertest.Record{Type: "A", Name: "@", Value: "192.0.2.10"},
		hetznertest.Record{Type: "MX", Name: "@", Value: "10 mx.example.net.", TTL: 3600},
		hetznertest.Record{Type: "CNAME", Name: "www", Value: "example.com."},
		hetznertest.Record{Type: "TXT", Name: "_acme-challenge", Value: foreign, TTL: 120},
	)
	api.AddZone("example.net")
	api.AddZone("sub.example.org")
	env := map[string]string{"HETZNER_API_KEY": api.Token(), "HETZNER_ENDPOINT": api.URL()}
	if cloud {
		env = map[string]string{"HETZNER_API_TOKEN": api.Token(), "HETZNER_ENDPOINT": api.CloudURL()}
	}
	return backend{
		env: env,
		// The Cloud API's actions are polled once a second; here the
		// pauses are skipped, the polls still made.
		unthrottled: func(get func(string) (string, bool)) (providers.Provider, error) {
			p, err := hetzner.FromEnv(get)
			if err != nil {
				return nil, err
			}
			p.Sleep = func(context.Context, time.Duration) error { return nil }
			return p, nil
		},
		txt: func(fqdn string) []string {
			name := strings.TrimSuffix(strings.TrimSuffix(fqdn, "."), ".example.com")
			var out []string
			for _, r := range api.Records("example.com") {
				if r.Type == "TXT" && r.Name == name {
					out = append(out, strings.Trim(r.Value, `"`))
				}
			}
			sort.Strings(out)
			return out
		},
		others: func() string {
			var lines []string
			for _, r := range api.Records("example.com") {
				if !strings.HasPrefix(r.Name, "_acme-challenge") || r.Value == foreign {
					lines = append(lines, fmt.Sprintf("%+v", r))
				}
			}
			return strings.Join(lines, "\n")
		},
	}
}
