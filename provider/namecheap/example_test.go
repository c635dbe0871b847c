package namecheap_test

import (
	"context"
	"fmt"
	"os"

	"github.com/libdns/libdns"
	"golang.org/x/time/rate"

	"github.com/strictacme/strictacme/provider/namecheap"
	"github.com/strictacme/strictacme/provider/namecheap/namecheaptest"
)

// A Provider is ready from its zero value once the API user and key are
// set. Here it talks to a fake Namecheap API on 127.0.0.1; in production
// leave Endpoint empty and set ClientIP to the whitelisted egress IPv4.
func Example() {
	api := namecheaptest.NewServer(namecheaptest.Options{})
	defer api.Close()
	api.AddZone("example.com", namecheaptest.ZoneOptions{Hosts: []namecheaptest.Host{
		{Name: "@", Type: "A", Address: "192.0.2.10", TTL: "1800", IsActive: true},
	}})
	locks, err := os.MkdirTemp("", "namecheap-locks")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(locks)

	p := &namecheap.Provider{Config: namecheap.Config{
		APIUser:  api.APIUser(),
		APIKey:   api.APIKey(),
		ClientIP: "198.51.100.7",
		Endpoint: api.URL(),
		LockDir:  locks,
		Limiter:  rate.NewLimiter(rate.Inf, 1), // the fake has no call budget to spare
	}}
	ctx := context.Background()
	zone, err := p.ZoneFor(ctx, "_acme-challenge.www.example.com.")
	if err != nil {
		fmt.Println(err)
		return
	}
	rec := libdns.TXT{Name: "_acme-challenge.www", Text: "kPYxnB3V4uQ4Ah7v0pE9ysDsVCeQXVPkMVNcb3Y4bFM"}
	if _, err := p.AppendRecords(ctx, zone, []libdns.Record{rec}); err != nil {
		fmt.Println(err)
		return
	}
	for _, h := range api.Hosts("example.com") {
		fmt.Println(h.Type, h.Name, h.Address)
	}
	// Output:
	// A @ 192.0.2.10
	// TXT _acme-challenge.www kPYxnB3V4uQ4Ah7v0pE9ysDsVCeQXVPkMVNcb3Y4bFM
}
