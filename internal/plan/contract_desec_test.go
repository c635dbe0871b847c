package plan

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/strictacme/strictacme/provider/desec/desectest"
)

func init() { backends["desec"] = desecBackend }

// desecBackend is a fake deSEC account with pages of 2 items, so every
// listing the provider makes spans pages.
func desecBackend(t *testing.T) backend {
	api := desectest.NewServer(desectest.Options{PageSize: 2})
	t.Cleanup(api.Close)
	api.AddDomain("example.com",
		desectest.RRset{Type: "A", TTL: 3600, Records: []string{"192.0.2.10"}},
		desectest.RRset{Type: "MX", TTL: 3600, Records: []string{"10 mx.example.net."}},
		desectest.RRset{Subname: "www", Type: "CNAME", TTL: 3600, Records: []string{"example.com."}},
		desectest.RRset{Subname: "_acme-challenge", Type: "TXT", TTL: 7200, Records: []string{`"` + foreignTXT + `"`}},
	)
	api.AddDomain("example.net")
	api.AddDomain("other.example")
	return backend{
		env: map[string]string{"DESEC_TOKEN": api.Token(), "DESEC_ENDPOINT": api.URL()},
		txt: func(fqdn string) []string {
			sub := strings.TrimSuffix(strings.TrimSuffix(fqdn, "."), ".example.com")
			r, _ := api.RRset("example.com", sub, "TXT")
			var out []string
			for _, rec := range r.Records {
				out = append(out, strings.Trim(rec, `"`))
			}
			sort.Strings(out)
			return out
		},
		others: func() string {
			var lines []string
			for _, r := range api.RRsets("example.com") {
				if !strings.HasPrefix(r.Subname, "_acme-challenge") {
					lines = append(lines, fmt.Sprintf("%+v", r))
				} else if r.Subname == "_acme-challenge" {
					lines = append(lines, fmt.Sprintf("TTL of _acme-challenge TXT %d", r.TTL))
				}
			}
			return strings.Join(lines, "\n")
		},
	}
}
