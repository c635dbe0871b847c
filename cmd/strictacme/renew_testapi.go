package main

import (
	"context"
	"errors"
	"os"

	"github.com/libdns/libdns"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/providers"
	"github.com/strictacme/strictacme/internal/testworld"
)

// testAPIProviderName is the hidden --dns value for the fake provider API of
// internal/testworld, at $TESTAPI_URL with the bearer token $TESTAPI_TOKEN
// (trusted through --ca-cert). It exists for tests that run strictacme as a
// separate process against a world living in the test process, so the world
// outlives a killed run (docs/renewal.md, "Crash tests"). It is not listed
// in --help.
const testAPIProviderName = "testapi"

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

func testAPIEntry(p *plan) (providers.Entry, error) {
	url, token := os.Getenv("TESTAPI_URL"), os.Getenv("TESTAPI_TOKEN")
	if url == "" || token == "" {
		return providers.Entry{}, exitcode.With(exitcode.Usage, errors.New("--dns testapi needs TESTAPI_URL and TESTAPI_TOKEN (the test world's provider API)"))
	}
	prov := testworld.NewProvider(url, token, httpClient(p.rootCAs, false))
	return providers.Entry{Name: testAPIProviderName, Provider: testAPIProvider{Provider: prov, afterWrite: func() { killPoint("written") }}}, nil
}
