package route53_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/libdns/libdns"

	"github.com/strictacme/strictacme/provider/route53"
	"github.com/strictacme/strictacme/provider/route53/route53test"
)

// A Provider is ready from its zero value where the AWS credential chain
// finds credentials; here static keys are given and the API is a fake
// Route 53 on 127.0.0.1 (Endpoint). AppendRecords returns once the change
// is INSYNC; another client's value at the name is kept.
func Example() {
	// Keep the SDK away from this machine's own AWS set-up.
	dir, _ := os.MkdirTemp("", "route53-example")
	defer os.RemoveAll(dir)
	os.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "none"))
	os.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "none"))
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	os.Unsetenv("AWS_PROFILE")

	api := route53test.New(route53test.Options{PendingPolls: 1})
	defer api.Close()
	id := api.AddZone("example.com", false, route53test.RRset{Name: "_acme-challenge.example.com.", Type: "TXT", TTL: 600,
		Values: []string{`"another-clients-value"`}})

	p := &route53.Provider{AccessKeyID: api.AccessKeyID(), SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		Endpoint: api.URL(), HTTPClient: api.Client(), SyncPoll: 10 * time.Millisecond}
	ctx := context.Background()
	zone, err := p.ZoneFor(ctx, "_acme-challenge.example.com.")
	if err != nil {
		panic(err)
	}
	rec := libdns.TXT{Name: "_acme-challenge", Text: "kPYxnB3V4uQ4Ah7v0pE9ysDsVCeQXVPkMVNcb3Y4bFM"}
	if _, err := p.AppendRecords(ctx, zone, []libdns.Record{rec}); err != nil {
		panic(err)
	}
	fmt.Println(zone, api.TXT(id, "_acme-challenge.example.com."))
	if _, err := p.DeleteRecords(ctx, zone, []libdns.Record{rec}); err != nil {
		panic(err)
	}
	fmt.Println(api.TXT(id, "_acme-challenge.example.com."))
	// Output:
	// example.com. [another-clients-value kPYxnB3V4uQ4Ah7v0pE9ysDsVCeQXVPkMVNcb3Y4bFM]
	// [another-clients-value]
}
