package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
)

// ZonePrefix marks a Change (and a key of Load and Subdomains) that is about
// the server's own TXT values at a name inside the zone rather than about an
// account's subdomain: the key is ZonePrefix + the relative owner name, e.g.
// "=_acme-challenge" or "=_acme-challenge.api" ("=@" for the apex). Account
// subdomains never start with it.
const ZonePrefix = "="

// ZoneKey returns the change key of the zone-level TXT name (relative, lower
// case, "@" for the apex).
func ZoneKey(name string) string { return ZonePrefix + strings.ToLower(name) }

// ServerCert is the server's own API certificate (tls = "acme"), shared by
// every instance through the store.
type ServerCert struct {
	// FullchainPEM is the leaf followed by the intermediates (PEM).
	FullchainPEM []byte
	// KeyPEM is the private key (PEM, possibly sealed by the caller). It is
	// secret: never log it.
	KeyPEM []byte
	// NotAfter is the leaf's expiry.
	NotAfter time.Time
	// Updated is when it was stored (millisecond precision); it changes
	// with every renewal, so readers can tell a new certificate cheaply.
	Updated time.Time
}

// ServerState is what `serve` needs for its own certificate on top of Store:
// TXT values at arbitrary names inside the zone (served from the view like
// account values), the certificate, and a lease so that one instance at a
// time orders. *SQL implements it.
type ServerState interface {
	// PutZoneTXT adds or refreshes v at name (relative to the zone, lower
	// case, "@" for the apex). Expired values of name are removed.
	PutZoneTXT(ctx context.Context, name string, v Value) error
	// DeleteZoneTXT removes value text at name, or every value there when
	// text is "". It returns how many were removed.
	DeleteZoneTXT(ctx context.Context, name, text string) (int, error)
	// PutServerCert stores c under name, replacing what was there.
	PutServerCert(ctx context.Context, name string, c ServerCert) error
	// ServerCert returns the certificate stored under name, or ErrNotFound.
	ServerCert(ctx context.Context, name string) (ServerCert, error)
	// AcquireLease takes the lease name for holder until now+ttl when it is
	// free, expired or already holder's (then it is extended). It reports
	// whether holder has the lease now.
	AcquireLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (bool, error)
	// ReleaseLease gives the lease up if holder has it.
	ReleaseLease(ctx context.Context, name, holder string) error
}

var _ ServerState = (*SQL)(nil)

// PutZoneTXT implements ServerState.
func (s *SQL) PutZoneTXT(ctx context.Context, name string, v Value) error {
	name = strings.ToLower(name)
	return s.tx(ctx, "update zone txt", ZoneKey(name), func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO zone_txt(name, value, updated_at, expires_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (name, value) DO UPDATE SET updated_at = excluded.updated_at, expires_at = excluded.expires_at`),
			name, v.Text, ms(v.Updated), ms(v.Expires)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.q(`DELETE FROM zone_txt WHERE name = ? AND expires_at <= ?`), name, ms(v.Updated))
		return err
	})
}

// DeleteZoneTXT implements ServerState.
func (s *SQL) DeleteZoneTXT(ctx context.Context, name, text string) (int, error) {
	name = strings.ToLower(name)
	var n int64
	err := s.tx(ctx, "delete zone txt", ZoneKey(name), func(tx *sql.Tx) error {
		var res sql.Result
		var err error
		if text == "" {
			res, err = tx.ExecContext(ctx, s.q(`DELETE FROM zone_txt WHERE name = ?`), name)
		} else {
			res, err = tx.ExecContext(ctx, s.q(`DELETE FROM zone_txt WHERE name = ? AND value = ?`), name, text)
		}
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return int(n), err
}

// zoneValues adds the live zone-level values (of names, or of every name
// when names is nil) to out under ZoneKey(name).
func (s *SQL) zoneValues(ctx context.Context, out map[string][]Value, now time.Time, names []string) error {
	query := `SELECT name, value, updated_at, expires_at FROM zone_txt WHERE expires_at > ?`
	args := []any{ms(now)}
	if names != nil {
		if len(names) == 0 {
			return nil
		}
		query += ` AND name IN (` + strings.TrimSuffix(strings.Repeat("?,", len(names)), ",") + `)`
		for _, n := range names {
			args = append(args, n)
		}
	}
	rows, err := s.db.QueryContext(ctx, s.q(query+` ORDER BY updated_at, value`), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var name, text string
		var up, exp int64
		if err := rows.Scan(&name, &text, &up, &exp); err != nil {
			return err
		}
		k := ZoneKey(name)
		out[k] = append(out[k], Value{Text: text, Updated: fromMS(up), Expires: fromMS(exp)})
	}
	return rows.Err()
}

// PutServerCert implements ServerState.
func (s *SQL) PutServerCert(ctx context.Context, name string, c ServerCert) error {
	if c.Updated.IsZero() {
		c.Updated = time.Now()
	}
	if err := s.checkFile(); err != nil {
		return err
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO server_certs(name, fullchain, privkey, not_after, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET fullchain = excluded.fullchain, privkey = excluded.privkey,
		not_after = excluded.not_after, updated_at = excluded.updated_at`),
		name, string(c.FullchainPEM), string(c.KeyPEM), ms(c.NotAfter), ms(c.Updated))
	if err != nil {
		return s.fail("store server certificate", err)
	}
	return s.checkFile()
}

// ServerCert implements ServerState.
func (s *SQL) ServerCert(ctx context.Context, name string) (ServerCert, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	var chain, key string
	var na, up int64
	err := s.db.QueryRowContext(ctx, s.q(`SELECT fullchain, privkey, not_after, updated_at FROM server_certs WHERE name = ?`), name).
		Scan(&chain, &key, &na, &up)
	if errors.Is(err, sql.ErrNoRows) {
		return ServerCert{}, ErrNotFound
	}
	if err != nil {
		return ServerCert{}, s.fail("read server certificate", err)
	}
	return ServerCert{FullchainPEM: []byte(chain), KeyPEM: []byte(key), NotAfter: fromMS(na), Updated: fromMS(up)}, nil
}

// AcquireLease implements ServerState: one upsert that only takes a free,
// expired or own lease, so two instances never both succeed.
func (s *SQL) AcquireLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (bool, error) {
	if err := s.checkFile(); err != nil {
		return false, err
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	res, err := s.db.ExecContext(ctx, s.q(`INSERT INTO leases(name, holder, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE leases.expires_at <= ? OR leases.holder = excluded.holder`), name, holder, ms(now.Add(ttl)), ms(now))
	if err != nil {
		return false, s.fail("acquire lease", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, s.fail("acquire lease", err)
	}
	if err := s.checkFile(); err != nil {
		return false, err
	}
	return n == 1, nil
}

// ReleaseLease implements ServerState.
func (s *SQL) ReleaseLease(ctx context.Context, name, holder string) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	_, err := s.db.ExecContext(ctx, s.q(`DELETE FROM leases WHERE name = ? AND holder = ?`), name, holder)
	return s.fail("release lease", err)
}
