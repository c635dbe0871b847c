package cloudflare_test

import (
	"context"
	"fmt"

	"github.com/libdns/libdns"

	"github.com/strictacme/strictacme/provider/cloudflare"
	"github.com/strictacme/strictacme/provider/cloudflare/cloudflaretest"
)

// A Provider is ready from its zero value once an API token is set (and,
// here, the base URL of a fake API on 127.0.0.1). The zone is found
// through the API, the challenge value is written in one batch beside
// another client's value, and deleted again by its value.
func Example() {
	api := cloudflaretest.NewServer(cloudflaretest.Options{})
	defer api.Close()
	api.AddZone("example.com", cloudflaretest.Record{Name: "_acme-challenge.example.com", Type: "TXT", Content: `"another-clients-value"`, TTL: 120})

	p := &cloudflare.Provider{APIToken: cloudflaretest.DefaultToken, BaseURL: api.URL()}
	ctx := context.Background()
	zone, err := p.ZoneFor(ctx, "_acme-challenge.example.com.")
	if err != nil {
		panic(err)
	}
	rec := libdns.TXT{Name: "_acme-challenge", Text: "kPYxnB3V4uQ4Ah7v0pE9ysDsVCeQXVPkMVNcb3Y4bFM"}
	if _, err := p.AppendRecords(ctx, zone, []libdns.Record{rec}); err != nil {
		panic(err)
	}
	fmt.Println(zone, api.TXT("_acme-challenge.example.com"))
	if _, err := p.DeleteRecords(ctx, zone, []libdns.Record{rec}); err != nil {
		panic(err)
	}
	fmt.Println(api.TXT("_acme-challenge.example.com"))
	// Output:
	// example.com. [another-clients-value kPYxnB3V4uQ4Ah7v0pE9ysDsVCeQXVPkMVNcb3Y4bFM]
	// [another-clients-value]
}
