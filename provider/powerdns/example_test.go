package powerdns_test

import (
	"context"
	"fmt"

	"github.com/libdns/libdns"

	"github.com/strictacme/strictacme/provider/powerdns"
	"github.com/strictacme/strictacme/provider/powerdns/powerdnstest"
)

// A Provider is ready from its zero value once the API's URL and key are
// set. Here the API is a fake PowerDNS on 127.0.0.1 whose zone example.com
// already holds another client's TXT value at the challenge name: it is
// kept, with its TTL, while ours comes and goes.
func Example() {
	api := powerdnstest.New(powerdnstest.Options{APIKey: "example-key"})
	defer api.Close()
	api.AddZone("example.com", "Native", powerdnstest.RRset{Name: "_acme-challenge.example.com.", Type: "TXT", TTL: 600,
		Records: []powerdnstest.Record{{Content: `"another-clients-value"`}}})

	p := &powerdns.Provider{ServerURL: api.URL(), APIKey: "example-key", HTTPClient: api.Client()}
	ctx := context.Background()
	zone, err := p.ZoneFor(ctx, "_acme-challenge.example.com.")
	if err != nil {
		panic(err)
	}
	rec := libdns.TXT{Name: "_acme-challenge", Text: "kPYxnB3V4uQ4Ah7v0pE9ysDsVCeQXVPkMVNcb3Y4bFM"}
	if _, err := p.AppendRecords(ctx, zone, []libdns.Record{rec}); err != nil {
		panic(err)
	}
	fmt.Println(zone, api.TXT("_acme-challenge.example.com."))
	if _, err := p.DeleteRecords(ctx, zone, []libdns.Record{rec}); err != nil {
		panic(err)
	}
	fmt.Println(api.TXT("_acme-challenge.example.com."), api.RRsets(zone)[0].TTL)
	// Output:
	// example.com. [another-clients-value kPYxnB3V4uQ4Ah7v0pE9ysDsVCeQXVPkMVNcb3Y4bFM]
	// [another-clients-value] 600
}
