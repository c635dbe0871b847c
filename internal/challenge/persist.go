package challenge

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// PersistRecord is the content of a dns-persist-01 TXT record: an RFC 8659
// issue-value naming the CA (issuer domain name) and the ACME account that may
// issue for the name (draft-ietf-acme-dns-persist §3).
type PersistRecord struct {
	// IssuerDomainName is one of the names the CA lists in the challenge's
	// "issuer-domain-names", A-label, lower case, no trailing dot.
	IssuerDomainName string
	// AccountURI is the ACME account URL (RFC 8555 §7.3).
	AccountURI string
	// Wildcard adds "policy=wildcard": the record then also authorizes
	// wildcard certificates and subdomains.
	Wildcard bool
	// PersistUntil, when not zero, is when the record stops authorizing
	// issuance; sent as UNIX seconds.
	PersistUntil time.Time
}

// Value returns the TXT value, e.g.
// "ca.example; accounturi=https://ca.example/acct/1; policy=wildcard".
func (r PersistRecord) Value() string {
	var b strings.Builder
	b.WriteString(r.IssuerDomainName)
	b.WriteString("; accounturi=")
	b.WriteString(r.AccountURI)
	if r.Wildcard {
		b.WriteString("; policy=wildcard")
	}
	if !r.PersistUntil.IsZero() {
		b.WriteString("; persistUntil=")
		b.WriteString(strconv.FormatInt(r.PersistUntil.Unix(), 10))
	}
	return b.String()
}

// ParsePersist parses a dns-persist-01 TXT value. Tags are matched without
// regard to case (RFC 8659 §4.2); unknown tags are ignored; a policy other
// than "wildcard" counts as absent (draft-ietf-acme-dns-persist §3).
func ParsePersist(value string) (PersistRecord, error) {
	parts := strings.Split(value, ";")
	r := PersistRecord{IssuerDomainName: strings.ToLower(strings.TrimSpace(parts[0]))}
	if r.IssuerDomainName == "" {
		return r, errors.New("dns-persist-01 record: empty issuer domain name")
	}
	seen := map[string]bool{}
	for _, p := range parts[1:] {
		p = strings.TrimSpace(p)
		tag, val, ok := strings.Cut(p, "=")
		if !ok {
			return r, fmt.Errorf("dns-persist-01 record: parameter %q is not tag=value", p)
		}
		tag = strings.ToLower(strings.TrimSpace(tag))
		val = strings.TrimSpace(val)
		if seen[tag] {
			return r, fmt.Errorf("dns-persist-01 record: parameter %q given twice", tag)
		}
		seen[tag] = true
		switch tag {
		case "accounturi":
			r.AccountURI = val
		case "policy":
			r.Wildcard = strings.EqualFold(val, "wildcard")
		case "persistuntil":
			n, err := strconv.ParseInt(val, 10, 64)
			if err != nil {
				return r, fmt.Errorf("dns-persist-01 record: persistUntil %q is not UNIX seconds", val)
			}
			r.PersistUntil = time.Unix(n, 0).UTC()
		}
	}
	if r.AccountURI == "" {
		return r, errors.New("dns-persist-01 record: accounturi is missing")
	}
	return r, nil
}

// Authorizes reports whether r lets accountURI obtain a certificate for a
// (wildcard, if wildcard is true) identifier from a CA that accepts
// issuerDomainNames, at time now. The error says which condition failed.
func (r PersistRecord) Authorizes(issuerDomainNames []string, accountURI string, wildcard bool, now time.Time) error {
	okIssuer := false
	for _, n := range issuerDomainNames {
		if strings.EqualFold(n, r.IssuerDomainName) {
			okIssuer = true
		}
	}
	switch {
	case !okIssuer:
		return fmt.Errorf("issuer domain name %q is not one the CA accepts (%s)", r.IssuerDomainName, strings.Join(issuerDomainNames, ", "))
	case r.AccountURI != accountURI:
		return fmt.Errorf("accounturi %q is not this account (%s)", r.AccountURI, accountURI)
	case wildcard && !r.Wildcard:
		return errors.New("a wildcard needs policy=wildcard in the record")
	case !r.PersistUntil.IsZero() && now.After(r.PersistUntil):
		return fmt.Errorf("persistUntil %s is in the past; publish a new record", r.PersistUntil.Format(time.RFC3339))
	}
	return nil
}

// ErrNoPersistRecord is returned by FindAuthorizing when there is no TXT
// value at all.
var ErrNoPersistRecord = errors.New("no dns-persist-01 TXT record")

// FindAuthorizing returns the first of the TXT values at a
// _validation-persist name that authorizes accountURI (see Authorizes). The
// error is ErrNoPersistRecord for no values, else every value's reason,
// joined with "; ".
func FindAuthorizing(values, issuerDomainNames []string, accountURI string, wildcard bool, now time.Time) (PersistRecord, error) {
	if len(values) == 0 {
		return PersistRecord{}, ErrNoPersistRecord
	}
	var reasons []string
	for _, v := range values {
		pr, err := ParsePersist(v)
		if err == nil {
			err = pr.Authorizes(issuerDomainNames, accountURI, wildcard, now)
		}
		if err == nil {
			return pr, nil
		}
		reasons = append(reasons, err.Error())
	}
	return PersistRecord{}, errors.New(strings.Join(reasons, "; "))
}
