package issue

import (
	"context"
	"errors"

	"github.com/strictacme/strictacme/internal/persist"
	"github.com/strictacme/strictacme/internal/resolver"
)

// ResolverPersistChecker checks dns-persist-01 records through the
// configured recursive resolvers (DoH by default), never port 53 unless the
// operator configured plain DNS, with the rule of persist.Look: every
// resolver that answers must see a value that satisfies want.
type ResolverPersistChecker struct {
	Resolvers []resolver.Resolver
}

// CheckPersist asks every resolver for TXT at fqdn and applies want to the
// values each one sees; the error lists what each resolver saw.
func (c ResolverPersistChecker) CheckPersist(ctx context.Context, fqdn string, want func(values []string) error) error {
	if len(c.Resolvers) == 0 {
		return errors.New("no resolver configured")
	}
	checked := persist.Look(ctx, c.Resolvers, fqdn, func(values []string) string {
		if err := want(values); err != nil {
			return err.Error()
		}
		return ""
	})
	if checked.OK {
		return nil
	}
	return errors.New(checked.Reasons())
}
