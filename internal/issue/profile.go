package issue

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/strictacme/strictacme/internal/exitcode"
)

// CheckProfile verifies that the CA's directory offers the certificate
// profile name in meta.profiles (draft-ietf-acme-profiles §3) before an order
// asks for it. "" is always accepted. The error (exit code Usage) lists the
// profiles the CA offers, or says it offers none.
func (is *Issuer) CheckProfile(ctx context.Context, name string) error {
	if name == "" {
		return nil
	}
	dir, err := is.client.GetDirectory(ctx)
	if err != nil {
		return classify(fmt.Errorf("CA directory %s: %w", is.cfg.Directory, err))
	}
	var offered []string
	if dir.Meta != nil {
		for p := range dir.Meta.Profiles {
			if p == name {
				return nil
			}
			offered = append(offered, p)
		}
	}
	if len(offered) == 0 {
		return exitcode.With(exitcode.Usage, fmt.Errorf("--profile %q: the CA at %s offers no certificate profiles; leave --profile out", name, is.cfg.Directory))
	}
	sort.Strings(offered)
	return exitcode.With(exitcode.Usage, fmt.Errorf("--profile %q: the CA at %s does not offer it; it offers: %s", name, is.cfg.Directory, strings.Join(offered, ", ")))
}
