package main

import "github.com/strictacme/strictacme/internal/cliflag"

// The flags of the provider settings (internal/cliflag, from the provider
// registry): defined by issue and check, read before the plan is built.
var (
	registerProviderFlags = cliflag.RegisterProviderFlags
	providerFlagsGiven    = cliflag.ProviderFlagsGiven
	providerLookup        = cliflag.ProviderLookup
)
