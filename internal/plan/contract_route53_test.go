package plan

import (
	"fmt"
	"strings"
	"testing"

	"github.com/strictacme/strictacme/provider/route53/route53test"
)

func init() { backends["route53"] = route53Backend }

func route53Backend(t *testing.T) backend {
	route53test.Isolate(t)
	s := route53test.New(route53test.Options{PageSize: 1})
	t.Cleanup(s.Close)
	s.AddZone("example.com", true) // a private twin: the public one must be chosen
	id := s.AddZone("example.com", false,
		route53test.RRset{Name: "example.com.", Type: "A", TTL: 300, Values: []string{"192.0.2.10"}},
		route53test.RRset{Name: "example.com.", Type: "MX", TTL: 300, Values: []string{"10 mx.example.net."}},
		route53test.RRset{Name: "www.example.com.", Type: "CNAME", TTL: 300, Values: []string{"example.com."}},
		route53test.RRset{Name: "_acme-challenge.example.com.", Type: "TXT", TTL: 600, Values: []string{`"` + foreignTXT + `"`}},
	)
	return backend{
		env: map[string]string{
			"AWS_ACCESS_KEY_ID": s.AccessKeyID(), "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
			"AWS_ROUTE53_ENDPOINT": s.URL(), "AWS_SYNC_TIMEOUT": "30s",
		},
		roots: s.RootCAs(),
		txt:   func(fqdn string) []string { return s.TXT(id, fqdn) },
		others: func() string {
			var lines []string
			for _, r := range s.RRsets(id) {
				if !strings.HasPrefix(r.Name, "_acme-challenge.") {
					lines = append(lines, fmt.Sprintf("%+v", r))
				}
			}
			return strings.Join(lines, "\n")
		},
	}
}
