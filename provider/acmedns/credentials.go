package acmedns

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/strictacme/strictacme/internal/atomicfile"
	"github.com/strictacme/strictacme/internal/fileperm"
	"github.com/strictacme/strictacme/internal/redact"
)

// Account is one acme-dns account as stored in the common credentials JSON
// (goacmedns's file storage, https://github.com/nrdcg/goacmedns, storage/file.go).
// Unknown members are kept and
// written back unchanged.
type Account struct {
	FullDomain string `json:"fulldomain"`
	SubDomain  string `json:"subdomain"`
	Username   string `json:"username"`
	Password   string `json:"password"`
	// ServerURL is the API base URL; empty in older files (then the
	// Provider's ServerURL is used).
	ServerURL string `json:"server_url,omitempty"`
	// AllowFrom is kept when the file holds a pasted register reply.
	AllowFrom []string `json:"allowfrom,omitempty"`

	extra map[string]json.RawMessage
}

var knownKeys = map[string]bool{"fulldomain": true, "subdomain": true, "username": true, "password": true, "server_url": true, "allowfrom": true}

// UnmarshalJSON implements json.Unmarshaler; keys match without regard to
// case, unknown keys are kept.
func (a *Account) UnmarshalJSON(b []byte) error {
	type plain Account
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return err
	}
	*a = Account(p)
	for k, v := range all {
		if !knownKeys[strings.ToLower(k)] {
			if a.extra == nil {
				a.extra = map[string]json.RawMessage{}
			}
			a.extra[k] = v
		}
	}
	return nil
}

// MarshalJSON implements json.Marshaler.
func (a Account) MarshalJSON() ([]byte, error) {
	type plain Account
	b, err := json.Marshal(plain(a))
	if err != nil || len(a.extra) == 0 {
		return b, err
	}
	var m map[string]json.RawMessage
	_ = json.Unmarshal(b, &m)
	for k, v := range a.extra {
		m[k] = v
	}
	return json.Marshal(m)
}

// CNAME returns the record the owner of domain must add, in zone-file form:
// "_acme-challenge.<domain>. CNAME <fulldomain>." (domain without "*.").
func (a Account) CNAME(domain string) string {
	return ChallengeName(domain) + " CNAME " + strings.TrimSuffix(a.FullDomain, ".") + "."
}

// ChallengeName is "_acme-challenge.<domain>." with "*." and any trailing dot
// removed from domain first.
func ChallengeName(domain string) string {
	return "_acme-challenge." + Key(domain) + "."
}

// Key is the credentials-file key of domain: lower case, without "*.", a
// leading "_acme-challenge." or a trailing dot (the wildcard shares the
// apex's challenge name, RFC 8555 §8.4).
func Key(domain string) string {
	d := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(domain), "."))
	d = strings.TrimPrefix(d, "*.")
	return strings.TrimPrefix(d, "_acme-challenge.")
}

// Credentials maps a domain (see Key) to its account: the goacmedns JSON
// file format used by lego, acme-dns-client, certbot-dns-acmedns and
// cert-manager (formats: https://github.com/nrdcg/goacmedns account.go;
// https://cert-manager.io/docs/configuration/acme/dns01/acme-dns/).
type Credentials map[string]Account

// Lookup returns the account for domain, trying the exact key first and
// then Key(domain).
func (c Credentials) Lookup(domain string) (Account, bool) {
	if a, ok := c[domain]; ok {
		return a, true
	}
	a, ok := c[Key(domain)]
	return a, ok
}

// ByFullDomain returns the account whose fulldomain is fqdn (any case,
// trailing dot optional).
func (c Credentials) ByFullDomain(fqdn string) (Account, bool) {
	f := strings.ToLower(strings.TrimSuffix(fqdn, "."))
	for _, a := range c {
		if strings.ToLower(strings.TrimSuffix(a.FullDomain, ".")) == f {
			return a, true
		}
	}
	return Account{}, false
}

// LoadCredentials reads the credentials file at path. A missing file is an
// empty Credentials and no error; a file readable by group or others is an
// error, since it holds keys (not checked on Windows, where the folder's ACL
// decides, see internal/fileperm).
func LoadCredentials(path string) (Credentials, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Credentials{}, nil
	}
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(path); err == nil && fileperm.Exposed(fi.Mode()) {
		return nil, fmt.Errorf("acmedns: %s holds API keys but is readable by others (mode %v); chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	c := Credentials{}
	if len(strings.TrimSpace(string(b))) == 0 {
		return c, nil
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("acmedns: %s: not a credentials file (a JSON object of domain → {fulldomain, subdomain, username, password, server_url}): %v", path, err)
	}
	for _, a := range c {
		redact.Add(a.Password)
	}
	return c, nil
}

// Save writes c to path atomically with mode 0600.
func (c Credentials) Save(path string) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, append(b, '\n'), 0o600)
}

// Ensured is the account of one domain after Ensure.
type Ensured struct {
	// Domain is the credentials key (Key of the domain asked for).
	Domain  string
	Account Account
	// Registered is true when Ensure created the account now.
	Registered bool
}

// SaveError is a failure to save the credentials after an account was
// registered: the account exists on the server but its key is only in
// memory.
type SaveError struct {
	Path    string
	Account Account
	Err     error
}

func (e *SaveError) Error() string {
	return fmt.Sprintf("save %s: %v (the account %s was created; its key is lost unless this is fixed and it is registered again)", e.Path, e.Err, e.Account.Username)
}

func (e *SaveError) Unwrap() error { return e.Err }

// Ensure returns an account for each domain (one per Key: *.example.com
// shares example.com's), in order and without repeats, registering at
// serverURL those c has none for. c is saved to path after every
// registration, so an account created on the server is never held only
// in memory across a later failure; a failed save is a *SaveError. An
// error of Register is returned as it is, with the accounts ensured so far.
func (c Credentials) Ensure(ctx context.Context, path, serverURL string, domains []string, opts RegisterOptions) ([]Ensured, error) {
	var out []Ensured
	seen := map[string]bool{}
	for _, d := range domains {
		key := Key(d)
		if key == "" {
			return out, fmt.Errorf("acmedns: domain %q is empty", d)
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		acc, ok := c.Lookup(key)
		if ok {
			out = append(out, Ensured{Domain: key, Account: acc})
			continue
		}
		acc, err := Register(ctx, serverURL, opts)
		if err != nil {
			return out, err
		}
		c[key] = acc
		if err := c.Save(path); err != nil {
			return out, &SaveError{Path: path, Account: acc, Err: err}
		}
		out = append(out, Ensured{Domain: key, Account: acc, Registered: true})
	}
	return out, nil
}
