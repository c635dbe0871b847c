package persist

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/mholt/acmez/v3/acme"

	"github.com/strictacme/strictacme/internal/challenge"
	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/names"
)

// Source says where the issuer domain names came from.
type Source string

// Sources of issuer domain names.
const (
	// SourceAuto uses the directory's caaIdentities when it lists any,
	// else an order's challenge. Only a request value, never a result.
	SourceAuto Source = "auto"
	// SourceDirectory is the directory's meta.caaIdentities (RFC 8555
	// §9.7.6), which the draft allows CAs to use as issuer-domain-names
	// (draft-ietf-acme-dns-persist-00 §2). Costs one GET, creates nothing.
	SourceDirectory Source = "directory"
	// SourceChallenge is the "issuer-domain-names" of the dns-persist-01
	// challenge of a new order's authorizations (§3.1). Costs one order;
	// its pending authorizations are deactivated (RFC 8555 §7.5.2).
	SourceChallenge Source = "challenge"
	// SourceFlag is a name the operator gave.
	SourceFlag Source = "flag"
)

// ParseSource returns the Source named s: auto, directory or challenge.
func ParseSource(s string) (Source, error) {
	switch Source(strings.ToLower(strings.TrimSpace(s))) {
	case SourceAuto, "":
		return SourceAuto, nil
	case SourceDirectory:
		return SourceDirectory, nil
	case SourceChallenge:
		return SourceChallenge, nil
	}
	return "", fmt.Errorf("issuer source %q: use auto, directory or challenge", s)
}

// Issuers are the CA's issuer domain names and where they came from.
type Issuers struct {
	// Names are A-labels, lower case, without trailing dot; at least one.
	Names []string `json:"issuer_domain_names"`
	// Source is SourceDirectory, SourceChallenge or SourceFlag.
	Source Source `json:"issuer_source"`
	// Deactivated counts the authorizations deactivated after reading
	// them (SourceChallenge only).
	Deactivated int `json:"deactivated_authorizations,omitempty"`
}

// maxIssuers is the most issuer domain names a challenge may list
// (draft-ietf-acme-dns-persist-00 §3.1: clients MUST reject more).
const maxIssuers = 10

// Discover learns the CA's issuer domain names for ids with account acct
// (which must be registered when src may create an order). With
// SourceChallenge, or SourceAuto and no caaIdentities in the directory, it
// creates one order for ids, reads the dns-persist-01 challenge of every
// authorization and deactivates those that were pending, so nothing is left
// pending. Errors carry exit codes: CA when the CA does not offer
// dns-persist-01 or sends a malformed challenge.
func Discover(ctx context.Context, client *acme.Client, acct acme.Account, ids []names.Identifier, src Source) (Issuers, error) {
	if src == SourceAuto || src == SourceDirectory {
		dir, err := client.GetDirectory(ctx)
		if err != nil {
			return Issuers{}, exitcode.FromCA(fmt.Errorf("CA directory %s: %w", client.Directory, err))
		}
		if dir.Meta != nil && len(dir.Meta.CAAIdentities) > 0 {
			ns, err := normalize(dir.Meta.CAAIdentities)
			if err != nil {
				return Issuers{}, exitcode.With(exitcode.CA, fmt.Errorf("directory caaIdentities: %w", err))
			}
			return Issuers{Names: ns, Source: SourceDirectory}, nil
		}
		if src == SourceDirectory {
			return Issuers{}, exitcode.With(exitcode.CA, errors.New("the CA's directory lists no caaIdentities; use --issuer-source challenge or give --issuer"))
		}
	}
	return fromChallenge(ctx, client, acct, ids)
}

func fromChallenge(ctx context.Context, client *acme.Client, acct acme.Account, ids []names.Identifier) (iss Issuers, err error) {
	order := acme.Order{}
	for _, id := range ids {
		order.Identifiers = append(order.Identifiers, acme.Identifier{Type: "dns", Value: id.ASCII})
	}
	order, err = client.NewOrder(ctx, acct, order)
	if err != nil {
		return iss, exitcode.FromCA(fmt.Errorf("creating an order to read the dns-persist-01 challenge: %w", err))
	}
	iss.Source = SourceChallenge
	var pending []string
	defer func() {
		// Relinquish what was only read (RFC 8555 §7.5.2), even when ctx
		// is done, so the order does not wait for validation.
		dctx := context.WithoutCancel(ctx)
		var errs []error
		for _, u := range pending {
			if _, derr := client.DeactivateAuthorization(dctx, acct, u); derr != nil {
				errs = append(errs, fmt.Errorf("deactivating authorization %s: %w", u, derr))
				continue
			}
			iss.Deactivated++
		}
		if err == nil && len(errs) > 0 {
			err = exitcode.FromCA(errors.Join(errs...))
		}
	}()
	seen := map[string]bool{}
	for _, u := range order.Authorizations {
		authz, gerr := client.GetAuthorization(ctx, acct, u)
		if gerr != nil {
			return iss, exitcode.FromCA(fmt.Errorf("fetching authorization %s: %w", u, gerr))
		}
		if authz.Status == acme.StatusPending {
			pending = append(pending, u)
		}
		var offered []string
		var chal *acme.Challenge
		for i, c := range authz.Challenges {
			offered = append(offered, c.Type)
			if c.Type == string(challenge.DNSPersist01) {
				chal = &authz.Challenges[i]
			}
		}
		if chal == nil {
			return iss, exitcode.With(exitcode.CA, fmt.Errorf("the CA does not offer dns-persist-01 for %s (it offers: %s)", authz.IdentifierValue(), strings.Join(offered, ", ")))
		}
		ns, nerr := normalize(chal.IssuerDomainNames)
		if nerr != nil {
			return iss, exitcode.With(exitcode.CA, fmt.Errorf("%s: the CA's dns-persist-01 challenge is malformed: %w", authz.IdentifierValue(), nerr))
		}
		for _, n := range ns {
			if !seen[n] {
				seen[n] = true
				iss.Names = append(iss.Names, n)
			}
		}
	}
	if len(iss.Names) == 0 {
		return iss, exitcode.With(exitcode.CA, errors.New("the order had no pending authorization to read issuer domain names from; give --issuer or use --issuer-source directory"))
	}
	return iss, nil
}

// normalize lower-cases names and drops trailing dots; it refuses an empty
// list or more than ten names (draft-ietf-acme-dns-persist-00 §3.1).
func normalize(in []string) ([]string, error) {
	if len(in) == 0 {
		return nil, errors.New("issuer-domain-names is empty")
	}
	if len(in) > maxIssuers {
		return nil, fmt.Errorf("issuer-domain-names lists %d names, more than the %d allowed", len(in), maxIssuers)
	}
	out := make([]string, 0, len(in))
	for _, n := range in {
		n = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(n), "."))
		if n == "" || len(n) > 253 {
			return nil, fmt.Errorf("issuer domain name %q is empty or longer than 253 octets", n)
		}
		out = append(out, n)
	}
	return out, nil
}
