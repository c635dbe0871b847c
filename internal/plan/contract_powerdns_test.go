package plan

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/strictacme/strictacme/provider/powerdns/powerdnstest"
)

func init() { backends["powerdns"] = powerdnsBackend }

func powerdnsBackend(t *testing.T) backend {
	s := powerdnstest.New(powerdnstest.Options{})
	t.Cleanup(s.Close)
	s.AddZone("example.com", "Native",
		powerdnstest.RRset{Name: "example.com.", Type: "A", TTL: 3600, Records: []powerdnstest.Record{{Content: "192.0.2.10"}}},
		powerdnstest.RRset{Name: "example.com.", Type: "MX", TTL: 3600, Records: []powerdnstest.Record{{Content: "10 mx.example.net."}}},
		powerdnstest.RRset{Name: "www.example.com.", Type: "CNAME", TTL: 300, Records: []powerdnstest.Record{{Content: "example.com."}}},
		powerdnstest.RRset{Name: "_acme-challenge.example.com.", Type: "TXT", TTL: 3600, Records: []powerdnstest.Record{{Content: `"` + foreignTXT + `"`}}},
	)
	s.AddZone("example.net", "Native")
	return backend{
		env:   map[string]string{"PDNS_API_URL": s.URL(), "PDNS_API_KEY": s.APIKey()},
		roots: s.RootCAs(),
		txt:   s.TXT,
		others: func() string {
			var lines []string
			for _, r := range s.RRsets("example.com.") {
				if !strings.HasPrefix(r.Name, "_acme-challenge.") {
					b, _ := json.Marshal(r)
					lines = append(lines, string(b))
				}
			}
			return strings.Join(lines, "\n")
		},
	}
}
