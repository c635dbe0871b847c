// Package persist prepares, publishes and checks dns-persist-01 records
// (draft-ietf-acme-dns-persist-00): one TXT record per name, written once,
// that lets one ACME account obtain certificates from one CA with no DNS
// write at issuance.
//
// It learns the CA's issuer domain names (Issuers), builds the records
// (Build), writes them once through a DNS provider without duplicating an
// identical record and without journaling them for clean-up (Apply), and
// shows what each resolver sees and whether it authorizes the account
// (Check). The record syntax itself lives in internal/challenge.
package persist

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/strictacme/strictacme/internal/challenge"
	"github.com/strictacme/strictacme/internal/names"
)

// DefaultTTL is the TTL of a published record: an hour, since the record is
// meant to stay and a CA may cache it within its validation data reuse
// period (draft-ietf-acme-dns-persist-00 §7.8).
const DefaultTTL = time.Hour

// Record is the dns-persist-01 record for one name.
type Record struct {
	// Identifiers are the requested names this record covers, A-labels,
	// e.g. ["example.com", "*.example.com"].
	Identifiers []string `json:"identifiers"`
	// FQDN is the Authorization Domain Name, "_validation-persist.<name>."
	// (§4); a wildcard's record lives at its base name (§5).
	FQDN string `json:"fqdn"`
	// Value is the TXT RDATA, an RFC 8659 issue-value.
	Value string `json:"value"`
	// Issuer is the issuer domain name written in the record.
	Issuer string `json:"issuer_domain_name"`
	// AccountURI is the ACME account URL (RFC 8555 §7.3).
	AccountURI string `json:"accounturi"`
	// Wildcard is true when the record carries policy=wildcard (§5).
	Wildcard bool `json:"wildcard"`
	// PersistUntil is when the record stops authorizing; nil for never.
	PersistUntil *time.Time `json:"persist_until,omitempty"`
}

// Content returns the record as challenge.PersistRecord.
func (r Record) Content() challenge.PersistRecord {
	pr := challenge.PersistRecord{IssuerDomainName: r.Issuer, AccountURI: r.AccountURI, Wildcard: r.Wildcard}
	if r.PersistUntil != nil {
		pr.PersistUntil = *r.PersistUntil
	}
	return pr
}

// Options shape the records Build returns.
type Options struct {
	// Wildcard adds policy=wildcard to every record; a wildcard identifier
	// adds it to its own record in any case.
	Wildcard bool
	// PersistUntil, when not zero, is written as persistUntil (UNIX
	// seconds); it must be in the future.
	PersistUntil time.Time
}

// Build returns one record per distinct base name of ids, sorted by FQDN:
// "example.com" and "*.example.com" share "_validation-persist.example.com.".
// issuer must be one of the CA's issuer domain names (see Issuers) and
// accountURI the account's URL. now is used to refuse a persistUntil that is
// not in the future.
func Build(ids []names.Identifier, issuer, accountURI string, opts Options, now time.Time) ([]Record, error) {
	if len(ids) == 0 {
		return nil, fmt.Errorf("no names given; pass -d NAME")
	}
	if issuer == "" || accountURI == "" {
		return nil, fmt.Errorf("persist: issuer domain name and account URI are required")
	}
	if !opts.PersistUntil.IsZero() && !opts.PersistUntil.After(now) {
		return nil, fmt.Errorf("persistUntil %s is not in the future; a CA would refuse the record", opts.PersistUntil.UTC().Format(time.RFC3339))
	}
	byName := map[string]*Record{}
	for _, id := range ids {
		fqdn := challenge.PersistName(id.Base())
		r := byName[fqdn]
		if r == nil {
			r = &Record{FQDN: fqdn, Issuer: strings.ToLower(strings.TrimSuffix(issuer, ".")), AccountURI: accountURI, Wildcard: opts.Wildcard}
			if !opts.PersistUntil.IsZero() {
				u := time.Unix(opts.PersistUntil.Unix(), 0).UTC()
				r.PersistUntil = &u
			}
			byName[fqdn] = r
		}
		r.Identifiers = append(r.Identifiers, id.ASCII)
		if id.Wildcard {
			r.Wildcard = true
		}
	}
	out := make([]Record, 0, len(byName))
	for _, r := range byName {
		r.Value = r.Content().Value()
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].FQDN < out[j].FQDN })
	return out, nil
}

// ParseUntil reads a persistUntil time: RFC 3339
// (2027-01-01T00:00:00Z), a date (midnight UTC) or UNIX seconds. "" is the
// zero time (no persistUntil). The error says which forms are accepted.
func ParseUntil(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0).UTC(), nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q: give RFC 3339 (2027-01-01T00:00:00Z), a date (2027-01-01) or UNIX seconds", s)
}

// ZoneLine returns the record as one zone-file line (RFC 1035 §5.1), e.g.
//
//	_validation-persist.example.com. 3600 IN TXT "authority.example; accounturi=https://ca.example/acct/123"
//
// A value longer than 255 octets is split into several character-strings
// (RFC 1035 §3.3.14, draft-ietf-acme-dns-persist-00 §9.1); the CA
// concatenates them.
func (r Record) ZoneLine(ttl time.Duration) string {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	var parts []string
	for _, s := range SplitTXT(r.Value) {
		parts = append(parts, `"`+strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)+`"`)
	}
	return fmt.Sprintf("%s %d IN TXT %s", r.FQDN, int(ttl/time.Second), strings.Join(parts, " "))
}

// SplitTXT splits a TXT value into character-strings of at most 255 octets
// (RFC 1035 §3.3.14).
func SplitTXT(v string) []string {
	var out []string
	for len(v) > 255 {
		out = append(out, v[:255])
		v = v[255:]
	}
	return append(out, v)
}
