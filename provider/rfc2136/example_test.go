package rfc2136_test

import (
	"context"
	"fmt"

	"github.com/libdns/libdns"
	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/provider/rfc2136"
	"github.com/strictacme/strictacme/provider/rfc2136/rfc2136test"
)

// A Provider is ready from its zero value once the primary's address and
// the TSIG key are set. Here the primary is a BIND-like server on
// 127.0.0.1 whose update policy lets key acme-update change TXT at
// _acme-challenge.example.com only.
func Example() {
	const secret = "c2VjcmV0LWtleS1mb3ItdGhlLXRlc3Qtb25seS0wMDE="
	primary, err := rfc2136test.New(rfc2136test.Options{
		Keys:   []rfc2136test.Key{{Name: "acme-update", Secret: secret}},
		Grants: []rfc2136test.Grant{{Key: "acme-update", Match: "name", Name: "_acme-challenge.example.com", Types: []uint16{dns.TypeTXT}}},
	})
	if err != nil {
		panic(err)
	}
	defer primary.Close()
	if err := primary.AddZone("example.com", "@ 3600 IN A 192.0.2.10"); err != nil {
		panic(err)
	}

	p := &rfc2136.Provider{Server: primary.Addr(), KeyName: "acme-update", KeySecret: secret}
	ctx := context.Background()
	zone, err := p.ZoneFor(ctx, "_acme-challenge.example.com.")
	if err != nil {
		panic(err)
	}
	rec := libdns.TXT{Name: "_acme-challenge", Text: "kPYxnB3V4uQ4Ah7v0pE9ysDsVCeQXVPkMVNcb3Y4bFM"}
	if _, err := p.AppendRecords(ctx, zone, []libdns.Record{rec}); err != nil {
		panic(err)
	}
	fmt.Println(zone, primary.TXT("_acme-challenge.example.com."))
	if _, err := p.DeleteRecords(ctx, zone, []libdns.Record{rec}); err != nil {
		panic(err)
	}
	// The policy does not cover www: the server refuses, and the error
	// says it is the policy, not the key.
	_, err = p.AppendRecords(ctx, zone, []libdns.Record{libdns.TXT{Name: "www", Text: "x"}})
	fmt.Println(err != nil, primary.TXT("_acme-challenge.example.com."))
	// Output:
	// example.com. [kPYxnB3V4uQ4Ah7v0pE9ysDsVCeQXVPkMVNcb3Y4bFM]
	// true []
}
