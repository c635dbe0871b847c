package main

import (
	"context"
	"errors"
	"os"

	"github.com/libdns/libdns"

	"github.com/strictacme/strictacme/internal/plan"
	"github.com/strictacme/strictacme/internal/providers"
	"github.com/strictacme/strictacme/internal/testworld"
)

// testAPIProviderName is the provider kind, registered by the test binary
// only, for the fake provider API of internal/testworld at $TESTAPI_URL with
// the bearer token $TESTAPI_TOKEN (trusted through --ca-cert). Tests that
// run strictacme as a separate process use it, so the world lives in the
// test process and outlives a killed run.
const testAPIProviderName = "testapi"

func init() {
	plan.RegisterProvider(plan.ProviderKind{
		Name: testAPIProviderName, Hidden: true,
		New: func(_ func(string) (string, bool), env plan.BuildEnv) (providers.Provider, error) {
			url, token := os.Getenv("TESTAPI_URL"), os.Getenv("TESTAPI_TOKEN")
			if url == "" || token == "" {
				return nil, errors.New("provider testapi needs TESTAPI_URL and TESTAPI_TOKEN (the test world's provider API)")
			}
			prov := testworld.NewProvider(url, token, plan.HTTPClient(env.RootCAs, false))
			return testAPIProvider{Provider: prov, afterWrite: func() { killPoint("written") }}, nil
		},
	})
}

// testAPIProvider adds the "written" crash-test step after each write.
type testAPIProvider struct {
	*testworld.Provider
	afterWrite func()
}

func (p testAPIProvider) AppendRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	out, err := p.Provider.AppendRecords(ctx, zone, recs)
	if err == nil && p.afterWrite != nil {
		p.afterWrite()
	}
	return out, err
}
