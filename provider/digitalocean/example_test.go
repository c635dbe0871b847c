package digitalocean_test

import (
	"context"
	"fmt"

	"github.com/libdns/libdns"

	"github.com/strictacme/strictacme/provider/digitalocean"
	"github.com/strictacme/strictacme/provider/digitalocean/digitaloceantest"
)

// A Provider is ready from its zero value once the token is set (and,
// here, the base URL of a fake API on 127.0.0.1). The zone comes from the
// account's domain list; the value is written beside another client's and
// deleted again by its value.
func Example() {
	api := digitaloceantest.NewServer(digitaloceantest.Options{})
	defer api.Close()
	api.AddDomain("example.com", digitaloceantest.Record{Type: "TXT", Name: "_acme-challenge", Data: "another-clients-value", TTL: 300})

	p := &digitalocean.Provider{Token: digitaloceantest.DefaultToken, BaseURL: api.URL()}
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
