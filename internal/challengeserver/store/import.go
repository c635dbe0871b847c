package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ImportResult counts what ImportAcmeDNS did.
type ImportResult struct {
	Accounts int // accounts created
	Skipped  int // accounts whose username or subdomain already existed
	Values   int // TXT values still within their lifetime, imported
}

// importBatch is how many accounts one import transaction writes: large
// enough that the commit (an fsync with synchronous = FULL) is a small
// share of the time, small enough that a transaction stays short.
const importBatch = 5000

// importCacheKiB is SQLite's page cache during an import, in KiB: enough
// for the indexes of 100,000 accounts (SQLite's default is 2,000 KiB).
const importCacheKiB = 64 << 10

// ImportSourceEngine reports whether ImportAcmeDNS reads an acme-dns
// database of engine: "sqlite", "sqlite3", "postgres" or "postgresql"
// (any case).
func ImportSourceEngine(engine string) bool {
	_, ok := importDriver(engine)
	return ok
}

// importDriver is the database/sql driver that reads engine's databases.
func importDriver(engine string) (driver string, ok bool) {
	switch strings.ToLower(engine) {
	case SQLite, "sqlite3", "":
		return "sqlite", true
	case Postgres, "postgresql":
		return "pgx", true
	}
	return "", false
}

// ImportAcmeDNS copies the accounts of an acme-dns database (schema version 1,
// tables records and txt of acme-dns's pkg/database/db.go) into dst. engine and connection name the
// source as in Open ("sqlite"/"sqlite3" and a file, or "postgres" and a DSN).
// Password hashes are bcrypt in both, so existing credentials keep working.
// TXT values updated within lifetime before now are imported with their
// remaining lifetime; older ones (acme-dns never expires them) are dropped.
// Accounts that already exist in dst (username or subdomain) are skipped,
// so the import can be re-run.
//
// Accounts and their values are written importBatch at a time, each batch
// in one transaction with its change records; an error leaves the batches
// committed before it, which a re-run skips.
func ImportAcmeDNS(ctx context.Context, dst *SQL, engine, connection string, now time.Time, lifetime time.Duration) (ImportResult, error) {
	var res ImportResult
	driver, ok := importDriver(engine)
	if !ok {
		return res, fmt.Errorf("import: unknown engine %q", engine)
	}
	if driver == "sqlite" {
		connection = "file:" + connection + "?mode=ro"
	}
	src, err := sql.Open(driver, connection)
	if err != nil {
		return res, fmt.Errorf("import: open acme-dns database: %w", redact(err, connection))
	}
	defer src.Close()

	rows, err := src.QueryContext(ctx, `SELECT Username, Password, Subdomain, AllowFrom FROM records`)
	if err != nil {
		return res, fmt.Errorf("import: read acme-dns records table: %w", redact(err, connection))
	}
	var accs []Account
	for rows.Next() {
		var user, pass, sub string
		var allow sql.NullString
		if err := rows.Scan(&user, &pass, &sub, &allow); err != nil {
			rows.Close()
			return res, fmt.Errorf("import: %w", err)
		}
		accs = append(accs, Account{Username: strings.ToLower(user), PasswordHash: []byte(pass), Subdomain: sub,
			AllowFrom: decodeAllow(allow.String), Created: now})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return res, fmt.Errorf("import: %w", err)
	}

	vrows, err := src.QueryContext(ctx, `SELECT Subdomain, Value, LastUpdate FROM txt WHERE Value <> ''`)
	if err != nil {
		return res, fmt.Errorf("import: read acme-dns txt table: %w", redact(err, connection))
	}
	vals := map[string][]Value{}
	for vrows.Next() {
		var sub, val string
		var last int64
		if err := vrows.Scan(&sub, &val, &last); err != nil {
			vrows.Close()
			return res, fmt.Errorf("import: %w", err)
		}
		up := time.Unix(last, 0)
		if exp := up.Add(lifetime); exp.After(now) {
			vals[sub] = append(vals[sub], Value{Text: val, Updated: up, Expires: exp})
		}
	}
	vrows.Close()
	if err := vrows.Err(); err != nil {
		return res, fmt.Errorf("import: %w", err)
	}

	// In subdomain order, each batch adds to one stretch of the subdomain
	// indexes (accounts, values) instead of to pages all over them, and
	// each page is written to the journal once rather than by every batch.
	slices.SortFunc(accs, func(a, b Account) int { return strings.Compare(a.Subdomain, b.Subdomain) })
	if dst.engine == SQLite {
		// The usernames (UUIDs) still arrive in random order, and with
		// SQLite's default 2 MB page cache the index pages were read and
		// written over and over. The cache is the connection's memory,
		// given back when the import ends.
		if _, err := dst.db.ExecContext(ctx, `PRAGMA cache_size = -`+fmt.Sprint(importCacheKiB)); err != nil {
			return res, fmt.Errorf("import: %w", dst.fail("set cache size", err))
		}
		defer dst.db.ExecContext(context.WithoutCancel(ctx), `PRAGMA cache_size = -`+fmt.Sprint(SQLiteCacheKiB)) //nolint:errcheck // the usual size again
	}
	for len(accs) > 0 {
		batch := accs[:min(importBatch, len(accs))]
		accs = accs[len(batch):]
		var r ImportResult
		err := dst.txChanges(ctx, "import", func(tx *sql.Tx) ([]string, error) {
			r = ImportResult{}
			return dst.importBatch(ctx, tx, batch, vals, &r)
		})
		if err != nil {
			return res, fmt.Errorf("import: %w", err)
		}
		res.Accounts += r.Accounts
		res.Skipped += r.Skipped
		res.Values += r.Values
	}
	return res, nil
}

// importBatch inserts accs (skipping those whose username or subdomain
// exists) and the live values of their subdomains in tx; it returns the
// subdomains written, for the change records.
func (s *SQL) importBatch(ctx context.Context, tx *sql.Tx, accs []Account, vals map[string][]Value, r *ImportResult) ([]string, error) {
	insAcc, err := tx.PrepareContext(ctx, s.q(`INSERT INTO accounts(username, password_hash, subdomain, allowfrom, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`))
	if err != nil {
		return nil, err
	}
	defer insAcc.Close()
	insVal, err := tx.PrepareContext(ctx, s.q(`INSERT INTO txt_values(subdomain, value, updated_at, expires_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (subdomain, value) DO UPDATE SET updated_at = excluded.updated_at, expires_at = excluded.expires_at`))
	if err != nil {
		return nil, err
	}
	defer insVal.Close()
	var subs []string
	for _, a := range accs {
		res, err := insAcc.ExecContext(ctx, a.Username, string(a.PasswordHash), a.Subdomain, encodeAllow(a.AllowFrom), ms(a.Created))
		if err != nil {
			return nil, err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			r.Skipped++
		} else {
			r.Accounts++
		}
		// Values are (re)written for skipped accounts too, as an update
		// would: a re-run refreshes them.
		for _, v := range vals[a.Subdomain] {
			if _, err := insVal.ExecContext(ctx, a.Subdomain, v.Text, ms(v.Updated), ms(v.Expires)); err != nil {
				return nil, err
			}
			r.Values++
		}
		subs = append(subs, a.Subdomain)
	}
	return subs, nil
}
