package main

import (
	"errors"

	"github.com/strictacme/strictacme/internal/plan"
	"github.com/strictacme/strictacme/internal/providers"
	"github.com/strictacme/strictacme/internal/store"
)

// sandboxProvider is the provider kind only the sandbox command uses: the
// test world's provider, which exists only while sandbox runs.
const sandboxProvider = "sandbox"

// sandboxWorldProvider is the running sandbox's provider.
var sandboxWorldProvider providers.Provider

func init() {
	plan.RegisterProvider(plan.ProviderKind{
		Name: sandboxProvider, Hidden: true,
		New: func(func(string) (string, bool), plan.BuildEnv) (providers.Provider, error) {
			if sandboxWorldProvider == nil {
				return nil, errors.New("the sandbox's DNS exists only while strictacme sandbox runs; run it again")
			}
			return sandboxWorldProvider, nil
		},
	})
}

// issuedBySandbox reports whether a stored certificate came from the
// sandbox, whose CA is gone: nothing to renew or revoke.
func issuedBySandbox(m store.Metadata) bool {
	s, ok, _ := plan.FromMetadata(m)
	return ok && s.Provider == sandboxProvider
}
