package issue

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/internal/resolver"
)

// ResolverPersistChecker checks dns-persist-01 records through the
// configured recursive resolvers (DoH by default), never port 53 unless the
// operator configured plain DNS. The record must satisfy want as seen by at
// least one resolver, and no resolver may report a transport failure for all.
type ResolverPersistChecker struct {
	Resolvers []resolver.Resolver
}

// CheckPersist queries TXT at fqdn on every resolver and applies want to the
// values each one sees. It succeeds as soon as one resolver's view is
// accepted; otherwise the error lists what each resolver saw.
func (c ResolverPersistChecker) CheckPersist(ctx context.Context, fqdn string, want func(values []string) error) error {
	if len(c.Resolvers) == 0 {
		return errors.New("no resolver configured")
	}
	var seen []string
	for _, r := range c.Resolvers {
		msg, err := resolver.Query(ctx, r, fqdn, dns.TypeTXT)
		if err != nil {
			seen = append(seen, fmt.Sprintf("%s: %v", r, err))
			continue
		}
		var values []string
		if msg.Rcode == dns.RcodeSuccess {
			values = resolver.TXTValues(msg, fqdn)
		}
		if err := want(values); err != nil {
			seen = append(seen, fmt.Sprintf("%s: %v", r, err))
			continue
		}
		return nil
	}
	return errors.New(strings.Join(seen, "; "))
}
