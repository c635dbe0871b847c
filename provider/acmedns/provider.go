// Package acmedns is a libdns provider for acme-dns compatible challenge
// servers (acme-dns itself and `strictacme serve`): it sets the TXT value of
// an account's subdomain through POST /update, and removes it through POST
// /delete where the server has it.
//
// Credentials come from the common JSON file shared with lego, acme.sh's
// ACMEDNS_STORAGE proposal, acme-dns-client, certbot-dns-acmedns and
// cert-manager (goacmedns's file storage,
// https://github.com/nrdcg/goacmedns), so existing files keep working.
//
// The server is authoritative for the challenge name: a value is live when
// /update answers 200. Authoritative reports that, so callers can skip the
// propagation wait.
package acmedns

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/libdns/libdns"
)

// Provider implements libdns.RecordAppender and libdns.RecordDeleter.
// Safe for concurrent use.
type Provider struct {
	// ServerURL is the API base for accounts without server_url, e.g.
	// "https://auth.example.org" (a path prefix is kept).
	ServerURL string `json:"server_url,omitempty"`
	// CredentialsFile is the goacmedns-format JSON file; read on first use
	// unless Credentials is set.
	CredentialsFile string `json:"credentials_file,omitempty"`
	// Credentials, when set, are used as they are.
	Credentials Credentials `json:"-"`
	// HTTPClient (a 30 s timeout client if nil).
	HTTPClient *http.Client `json:"-"`

	mu sync.Mutex
}

var (
	_ libdns.RecordAppender = (*Provider)(nil)
	_ libdns.RecordDeleter  = (*Provider)(nil)
)

// ErrNoAccount means no account in the credentials covers a record's name;
// register one (Register) and add its CNAME (Account.CNAME).
var ErrNoAccount = errors.New("acmedns: no account for this name")

// Authoritative reports that a record is visible to the CA as soon as
// AppendRecords returns: the server that accepted it answers the DNS
// questions for it. Order flows skip their propagation wait for such
// providers.
func (p *Provider) Authoritative() bool { return true }

func (p *Provider) creds() (Credentials, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.Credentials != nil {
		return p.Credentials, nil
	}
	if p.CredentialsFile == "" {
		return nil, errors.New("acmedns: no credentials (set CredentialsFile or Credentials)")
	}
	c, err := LoadCredentials(p.CredentialsFile)
	if err != nil {
		return nil, err
	}
	p.Credentials = c
	return c, nil
}

// account finds the account for a record at fqdn: either fqdn is an
// account's fulldomain (the record was placed after following the CNAME), or
// fqdn is "_acme-challenge.<domain>" and domain is a key of the file.
func (p *Provider) account(fqdn string) (Account, error) {
	c, err := p.creds()
	if err != nil {
		return Account{}, err
	}
	if a, ok := c.ByFullDomain(fqdn); ok {
		return a, nil
	}
	if strings.HasPrefix(strings.ToLower(fqdn), "_acme-challenge.") {
		if a, ok := c.Lookup(fqdn); ok {
			return a, nil
		}
	}
	return Account{}, fmt.Errorf("%w: %s (add an account for %s to Credentials; Register creates one)", ErrNoAccount, fqdn, Key(fqdn))
}

// AccountFor returns the account the record at fqdn is written in (a
// "_acme-challenge.<domain>" name, or an account's fulldomain): the account
// whose fulldomain "_acme-challenge.<domain>" must be a CNAME to, for the CA
// to see the record. The error wraps ErrNoAccount when no account covers
// fqdn.
func (p *Provider) AccountFor(fqdn string) (Account, error) { return p.account(fqdn) }

func (p *Provider) server(a Account) string {
	if a.ServerURL != "" {
		return a.ServerURL
	}
	return p.ServerURL
}

func txtOf(zone string, r libdns.Record) (fqdn, text string, err error) {
	rr := r.RR()
	if !strings.EqualFold(rr.Type, "TXT") {
		return "", "", fmt.Errorf("acmedns: only TXT records can be set, not %s at %s", rr.Type, rr.Name)
	}
	return libdns.AbsoluteName(rr.Name, zone), rr.Data, nil
}

func (p *Provider) post(ctx context.Context, op string, a Account, body map[string]string) error {
	u, err := endpoint(p.server(a), op)
	if err != nil {
		return err
	}
	return call{client: p.HTTPClient, op: op, url: u, body: body,
		hdr: map[string]string{"X-Api-User": a.Username, "X-Api-Key": a.Password}}.do(ctx, nil)
}

// AppendRecords sets each TXT record through POST /update. The records may
// be named at the account's fulldomain or at "_acme-challenge.<domain>". On
// error the records set so far are returned with it.
func (p *Provider) AppendRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return p.each(ctx, "update", zone, recs)
}

// DeleteRecords removes each TXT value through POST /delete (a strictacme
// serve extension). Servers without it (acme-dns answers 404 or 405) keep
// the value until it rotates out; that is not an error.
func (p *Provider) DeleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return p.each(ctx, "delete", zone, recs)
}

// each posts op ("update" or "delete") for every record, in order, and
// returns the records done before the first error.
func (p *Provider) each(ctx context.Context, op, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	var done []libdns.Record
	for _, r := range recs {
		fqdn, text, err := txtOf(zone, r)
		if err != nil {
			return done, err
		}
		a, err := p.account(fqdn)
		if err != nil {
			return done, err
		}
		err = p.post(ctx, op, a, map[string]string{"subdomain": a.SubDomain, "txt": text})
		var ae *APIError
		if op == "delete" && errors.As(err, &ae) && (ae.Status == http.StatusNotFound || ae.Status == http.StatusMethodNotAllowed) {
			err = nil
		}
		if err != nil {
			return done, err
		}
		done = append(done, r)
	}
	return done, nil
}
