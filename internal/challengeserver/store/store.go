// Package store is the source of truth of the challenge server: accounts
// (acme-dns compatible credentials) and the live TXT values of each account's
// subdomain, in SQLite or PostgreSQL.
//
// DNS is never answered from here: the in-memory view (package view) follows
// the store through Changes, so a slow or unavailable database never stalls a
// DNS answer. Every write records a Change in the same transaction.
package store

import (
	"context"
	"errors"
	"net/netip"
	"time"
)

// Errors returned by Store methods. Test with errors.Is.
var (
	// ErrNotFound: no account with that username (or subdomain).
	ErrNotFound = errors.New("store: not found")
	// ErrConflict: the username or subdomain is already taken.
	ErrConflict = errors.New("store: already exists")
	// ErrUnavailable wraps every database failure (connection refused,
	// timeout, disk full, locked). The message of the wrapped error stays in
	// the chain for logs; API replies never show it (acme-dns does:
	// https://github.com/acme-dns/acme-dns/issues/420).
	ErrUnavailable = errors.New("store: database unavailable")
	// ErrFileChanged: the SQLite file was deleted or replaced while the
	// store had it open; always wrapped together with ErrUnavailable.
	ErrFileChanged = errors.New("store: database file deleted or replaced")
)

// Account is one acme-dns account (acme-dns's table records,
// pkg/database/db.go in https://github.com/acme-dns/acme-dns).
type Account struct {
	// Username is the X-Api-User value, a UUID v4 in canonical lower-case form.
	Username string
	// PasswordHash is the bcrypt hash of the 40-character X-Api-Key.
	PasswordHash []byte
	// Subdomain is the label below the zone apex whose TXT values the account
	// controls (a UUID v4 for accounts we create; imported ones may differ).
	Subdomain string
	// AllowFrom lists the source networks allowed to use the account; empty
	// means any source.
	AllowFrom []netip.Prefix
	// Created is when the account was registered (millisecond precision).
	Created time.Time
}

// Value is one live TXT value of a subdomain.
type Value struct {
	// Text is the TXT string as sent to /update (for dns-01, 43 base64url
	// characters, RFC 8555 §8.4).
	Text string
	// Updated is when the value was last written (millisecond precision).
	Updated time.Time
	// Expires is when the value stops being served.
	Expires time.Time
}

// Live reports whether v is served at time now.
func (v Value) Live(now time.Time) bool { return now.Before(v.Expires) }

// Change says that the accounts or values of Subdomain changed; Seq increases
// with every write (with gaps: see Follower in package view).
type Change struct {
	Seq       int64
	Subdomain string
}

// Store persists accounts and TXT values. Implementations are safe for
// concurrent use. Every database failure is wrapped in ErrUnavailable.
type Store interface {
	// CreateAccount inserts a; ErrConflict if the username or subdomain exists.
	CreateAccount(ctx context.Context, a Account) error
	// Account returns the account of username, or ErrNotFound.
	Account(ctx context.Context, username string) (Account, error)
	// DeleteAccount removes the account of username and its values; ErrNotFound
	// if there is none.
	DeleteAccount(ctx context.Context, username string) error
	// SetPassword replaces the bcrypt hash of username (key rotation).
	SetPassword(ctx context.Context, username string, hash []byte) error
	// SetAllowFrom replaces the allowed source networks of username.
	SetAllowFrom(ctx context.Context, username string, allow []netip.Prefix) error

	// PutTXT adds v to subdomain, or refreshes Updated and Expires when the
	// same text is already there. Afterwards at most limit values remain
	// (the most recently updated ones); limit < 1 means no limit. Expired
	// values of subdomain are removed on the way.
	PutTXT(ctx context.Context, subdomain string, v Value, limit int) error
	// DeleteTXT removes the value text of subdomain, or all its values when
	// text is "". It returns how many were removed.
	DeleteTXT(ctx context.Context, subdomain, text string) (int, error)

	// Load calls each for every subdomain with its values live at now
	// (oldest first; empty for an account without values) and for every
	// zone-level name with live values under ZoneKey(name) (see
	// ServerState), and returns the highest Change sequence at the time of
	// reading. vals is only valid during the call. Load streams: 100,000
	// accounts never sit in memory twice.
	Load(ctx context.Context, now time.Time, each func(sub string, vals []Value)) (seq int64, err error)
	// Subdomains returns the same as Load, for the named subdomains (and
	// ZoneKey names) only; a name missing from the map has no account (or
	// no live zone-level value).
	Subdomains(ctx context.Context, names []string, now time.Time) (map[string][]Value, error)
	// Changes returns the changes with Seq > after, plus those whose Seq is in
	// also (sequence numbers a reader saw skipped), in Seq order.
	Changes(ctx context.Context, after int64, also []int64) ([]Change, error)
	// Expire removes values that expired before now, the values of each
	// subdomain beyond its newest limit (limit < 1: none; PutTXT keeps to
	// the limit it is given, this catches a limit lowered since and
	// imported data), and changes older than keepChanges. It returns the
	// number of values removed.
	Expire(ctx context.Context, now time.Time, keepChanges time.Duration, limit int) (int, error)

	// Ping checks that the database answers and that a write made now would
	// be durable (see SQL.Ping); the error wraps ErrUnavailable.
	Ping(ctx context.Context) error
	// Close releases the database.
	Close() error
}
