package namecheap

import (
	"fmt"
	"testing"

	"github.com/libdns/libdns"

	"github.com/strictacme/strictacme/provider/namecheap/namecheaptest"
)

// BenchmarkCertificate measures one certificate's whole DNS-01 provider
// work against the fake server (zone discovery, present, a read-back as the
// `provider` propagation check, clean-up) with a fresh Provider per
// certificate, and reports API calls per certificate. Wall time excludes
// the 20-calls-a-minute budget (the limiter is off) so it shows the
// client's own cost; against the real API the budget dominates.
func BenchmarkCertificate(b *testing.B) {
	for _, bc := range []struct {
		name         string
		zones, names int // names per zone
	}{
		{"names=1/zones=1", 1, 1},
		{"names=10/zones=1", 1, 10},
		{"names=100/zones=1", 1, 100},
		{"names=10/zones=10", 10, 1},
	} {
		b.Run(bc.name, func(b *testing.B) {
			w := newWorld(b, namecheaptest.Options{RateLimit: -1}, nil)
			var domains []string
			for z := range bc.zones {
				d := fmt.Sprintf("bench%d-example.com", z)
				domains = append(domains, d)
				w.srv.AddZone(d, namecheaptest.ZoneOptions{EmailType: "MX", Hosts: baseZone()})
			}
			w.srv.ResetCalls()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				p, err := New(w.p.cfg)
				if err != nil {
					b.Fatal(err)
				}
				certificate(b, p, domains, bc.names, i)
			}
			b.StopTimer()
			b.ReportMetric(float64(w.srv.TotalCalls())/float64(b.N), "calls/op")
		})
	}
}

// certificate runs the provider side of one order for names names in each
// of domains.
func certificate(b *testing.B, p *Provider, domains []string, names, serial int) {
	byZone := map[string][]libdns.Record{}
	var order []string
	for _, d := range domains {
		for n := range names {
			fqdn := fmt.Sprintf("_acme-challenge.n%d.%s.", n, d)
			z, err := p.ZoneFor(ctx, fqdn)
			if err != nil {
				b.Fatal(err)
			}
			host, _ := HostName(fqdn, z)
			if byZone[z] == nil {
				order = append(order, z)
			}
			byZone[z] = append(byZone[z], txt(host, fmt.Sprintf("v%d-%d", serial, n)))
		}
	}
	for _, z := range order {
		if _, err := p.AppendRecords(ctx, z, byZone[z]); err != nil {
			b.Fatal(err)
		}
	}
	for _, z := range order {
		if _, err := p.GetRecords(ctx, z); err != nil {
			b.Fatal(err)
		}
	}
	for _, z := range order {
		if _, err := p.DeleteRecords(ctx, z, byZone[z]); err != nil {
			b.Fatal(err)
		}
	}
}
