package desec_test

import (
	"context"
	"fmt"

	"github.com/libdns/libdns"

	"github.com/strictacme/strictacme/provider/desec"
	"github.com/strictacme/strictacme/provider/desec/desectest"
)

// A Provider is ready from its zero value once Token is set. Here it
// talks to a fake deSEC API on 127.0.0.1; in production leave Endpoint
// empty. Another client's value at the same name stays, with its TTL.
func Example() {
	api := desectest.NewServer(desectest.Options{})
	defer api.Close()
	api.AddDomain("example.com", desectest.RRset{Subname: "_acme-challenge", Type: "TXT", TTL: 7200, Records: []string{`"another-clients-value"`}})

	p := &desec.Provider{Token: api.Token(), Endpoint: api.URL()}
	ctx := context.Background()
	zone, err := p.ZoneFor(ctx, "_acme-challenge.example.com.")
	if err != nil {
		fmt.Println(err)
		return
	}
	rec := libdns.TXT{Name: "_acme-challenge", Text: "kPYxnB3V4uQ4Ah7v0pE9ysDsVCeQXVPkMVNcb3Y4bFM"}
	if _, err := p.AppendRecords(ctx, zone, []libdns.Record{rec}); err != nil {
		fmt.Println(err)
		return
	}
	set, _ := api.RRset("example.com", "_acme-challenge", "TXT")
	fmt.Println(zone, set.TTL, set.Records)
	// Output:
	// example.com. 7200 ["another-clients-value" "kPYxnB3V4uQ4Ah7v0pE9ysDsVCeQXVPkMVNcb3Y4bFM"]
}
