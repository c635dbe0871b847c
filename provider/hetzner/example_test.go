package hetzner_test

import (
	"context"
	"fmt"
	"time"

	"github.com/libdns/libdns"

	"github.com/strictacme/strictacme/provider/hetzner"
	"github.com/strictacme/strictacme/provider/hetzner/hetznertest"
)

// A Provider is ready from its zero value once APIKey is set. Here it
// talks to a fake DNS API on 127.0.0.1; in production leave Endpoint
// empty. Another client's value at the same name is a record of its own
// and stays.
func Example() {
	api := hetznertest.NewServer(hetznertest.Options{})
	defer api.Close()
	api.AddZone("example.com", hetznertest.Record{Type: "TXT", Name: "_acme-challenge", Value: "another-clients-value", TTL: 120})

	p := &hetzner.Provider{APIKey: api.Token(), Endpoint: api.URL()}
	rec := libdns.TXT{Name: "_acme-challenge", Text: "kPYxnB3V4uQ4Ah7v0pE9ysDsVCeQXVPkMVNcb3Y4bFM"}
	if _, err := p.AppendRecords(context.Background(), "example.com.", []libdns.Record{rec}); err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range api.Records("example.com") {
		fmt.Println(r.Type, r.Name, r.TTL, r.Value)
	}
	// Output:
	// TXT _acme-challenge 120 another-clients-value
	// TXT _acme-challenge 120 kPYxnB3V4uQ4Ah7v0pE9ysDsVCeQXVPkMVNcb3Y4bFM
}

// With a Hetzner Cloud API token the provider speaks the Cloud API: our
// value is added to the RRset by an add_records action, quoted as that
// API keeps TXT values, beside another client's value. (The example
// skips the one-second pauses between looks at the running action.)
func Example_cloudAPI() {
	api := hetznertest.NewServer(hetznertest.Options{})
	defer api.Close()
	api.AddZone("example.com", hetznertest.Record{Type: "TXT", Name: "_acme-challenge", Value: `"another-clients-value"`, TTL: 120})

	p := &hetzner.Provider{APIToken: api.Token(), Endpoint: api.CloudURL(),
		Sleep: func(context.Context, time.Duration) error { return nil }}
	rec := libdns.TXT{Name: "_acme-challenge", Text: "kPYxnB3V4uQ4Ah7v0pE9ysDsVCeQXVPkMVNcb3Y4bFM"}
	if _, err := p.AppendRecords(context.Background(), "example.com.", []libdns.Record{rec}); err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range api.Records("example.com") {
		fmt.Println(r.Type, r.Name, r.TTL, r.Value)
	}
	// Output:
	// TXT _acme-challenge 120 "another-clients-value"
	// TXT _acme-challenge 120 "kPYxnB3V4uQ4Ah7v0pE9ysDsVCeQXVPkMVNcb3Y4bFM"
}
