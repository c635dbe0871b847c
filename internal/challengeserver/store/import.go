package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ImportResult counts what ImportAcmeDNS did.
type ImportResult struct {
	Accounts int // accounts created
	Skipped  int // accounts whose username or subdomain already existed
	Values   int // TXT values still within their lifetime, imported
}

// ImportAcmeDNS copies the accounts of an acme-dns database (schema version 1,
// tables records and txt of acme-dns's pkg/database/db.go) into dst. engine and connection name the
// source as in Open ("sqlite"/"sqlite3" and a file, or "postgres" and a DSN).
// Password hashes are bcrypt in both, so existing credentials keep working.
// TXT values updated within lifetime before now are imported with their
// remaining lifetime; older ones (acme-dns never expires them) are dropped.
// Accounts that already exist in dst are skipped, so the import can be re-run.
func ImportAcmeDNS(ctx context.Context, dst Store, engine, connection string, now time.Time, lifetime time.Duration) (ImportResult, error) {
	var res ImportResult
	driver := "sqlite"
	switch strings.ToLower(engine) {
	case SQLite, "sqlite3", "":
		connection = "file:" + connection + "?mode=ro"
	case Postgres, "postgresql":
		driver = "pgx"
	default:
		return res, fmt.Errorf("import: unknown engine %q", engine)
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
	type rec struct{ user, pass, sub, allow string }
	var recs []rec
	for rows.Next() {
		var r rec
		var allow sql.NullString
		if err := rows.Scan(&r.user, &r.pass, &r.sub, &allow); err != nil {
			rows.Close()
			return res, fmt.Errorf("import: %w", err)
		}
		r.allow = allow.String
		recs = append(recs, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return res, fmt.Errorf("import: %w", err)
	}
	for _, r := range recs {
		err := dst.CreateAccount(ctx, Account{
			Username:     strings.ToLower(r.user),
			PasswordHash: []byte(r.pass),
			Subdomain:    r.sub,
			AllowFrom:    decodeAllow(r.allow),
			Created:      now,
		})
		switch {
		case errors.Is(err, ErrConflict):
			res.Skipped++
		case err != nil:
			return res, fmt.Errorf("import account %s: %w", r.user, err)
		default:
			res.Accounts++
		}
	}

	vrows, err := src.QueryContext(ctx, `SELECT Subdomain, Value, LastUpdate FROM txt WHERE Value <> ''`)
	if err != nil {
		return res, fmt.Errorf("import: read acme-dns txt table: %w", redact(err, connection))
	}
	defer vrows.Close()
	for vrows.Next() {
		var sub, val string
		var last int64
		if err := vrows.Scan(&sub, &val, &last); err != nil {
			return res, fmt.Errorf("import: %w", err)
		}
		up := time.Unix(last, 0)
		if exp := up.Add(lifetime); exp.After(now) {
			if err := dst.PutTXT(ctx, sub, Value{Text: val, Updated: up, Expires: exp}, 0); err != nil {
				return res, fmt.Errorf("import value of %s: %w", sub, err)
			}
			res.Values++
		}
	}
	return res, vrows.Err()
}
