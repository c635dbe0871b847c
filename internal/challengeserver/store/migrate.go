package store

import (
	"context"
	"database/sql"
	"fmt"
)

// migration is one schema step; stmts run in one transaction, per engine.
type migration struct {
	sqlite, postgres []string
}

// migrations[i] takes the schema from version i to i+1. Append only; never
// edit a released step. Table names differ from acme-dns's (records, txt,
// acmedns) so both can live in one PostgreSQL database during an import.
var migrations = []migration{
	{
		sqlite: []string{
			`CREATE TABLE accounts (
				username TEXT PRIMARY KEY,
				password_hash TEXT NOT NULL,
				subdomain TEXT NOT NULL UNIQUE,
				allowfrom TEXT NOT NULL DEFAULT '[]',
				created_at INTEGER NOT NULL)`,
			`CREATE TABLE txt_values (
				subdomain TEXT NOT NULL,
				value TEXT NOT NULL,
				updated_at INTEGER NOT NULL,
				expires_at INTEGER NOT NULL,
				PRIMARY KEY (subdomain, value))`,
			`CREATE INDEX txt_values_expires ON txt_values(expires_at)`,
			`CREATE TABLE changes (
				seq INTEGER PRIMARY KEY AUTOINCREMENT,
				subdomain TEXT NOT NULL,
				at INTEGER NOT NULL)`,
		},
		postgres: []string{
			`CREATE TABLE accounts (
				username TEXT PRIMARY KEY,
				password_hash TEXT NOT NULL,
				subdomain TEXT NOT NULL UNIQUE,
				allowfrom TEXT NOT NULL DEFAULT '[]',
				created_at BIGINT NOT NULL)`,
			`CREATE TABLE txt_values (
				subdomain TEXT NOT NULL,
				value TEXT NOT NULL,
				updated_at BIGINT NOT NULL,
				expires_at BIGINT NOT NULL,
				PRIMARY KEY (subdomain, value))`,
			`CREATE INDEX txt_values_expires ON txt_values(expires_at)`,
			`CREATE TABLE changes (
				seq BIGSERIAL PRIMARY KEY,
				subdomain TEXT NOT NULL,
				at BIGINT NOT NULL)`,
			`CREATE INDEX changes_at ON changes(at)`,
		},
	},
	// 2: the server's own records and certificate (tls = "acme"): TXT
	// values at any name inside the zone, the API certificate shared by
	// every instance, and leases so one instance at a time orders.
	{
		sqlite: []string{
			`CREATE TABLE zone_txt (
				name TEXT NOT NULL,
				value TEXT NOT NULL,
				updated_at INTEGER NOT NULL,
				expires_at INTEGER NOT NULL,
				PRIMARY KEY (name, value))`,
			`CREATE TABLE server_certs (
				name TEXT PRIMARY KEY,
				fullchain TEXT NOT NULL,
				privkey TEXT NOT NULL,
				not_after INTEGER NOT NULL,
				updated_at INTEGER NOT NULL)`,
			`CREATE TABLE leases (
				name TEXT PRIMARY KEY,
				holder TEXT NOT NULL,
				expires_at INTEGER NOT NULL)`,
		},
		postgres: []string{
			`CREATE TABLE zone_txt (
				name TEXT NOT NULL,
				value TEXT NOT NULL,
				updated_at BIGINT NOT NULL,
				expires_at BIGINT NOT NULL,
				PRIMARY KEY (name, value))`,
			`CREATE TABLE server_certs (
				name TEXT PRIMARY KEY,
				fullchain TEXT NOT NULL,
				privkey TEXT NOT NULL,
				not_after BIGINT NOT NULL,
				updated_at BIGINT NOT NULL)`,
			`CREATE TABLE leases (
				name TEXT PRIMARY KEY,
				holder TEXT NOT NULL,
				expires_at BIGINT NOT NULL)`,
		},
	},
	// 3: one row that Ping rewrites to prove the write path (locks, disk,
	// read-only standby) works.
	{
		sqlite: []string{
			`CREATE TABLE health_probe (id INTEGER PRIMARY KEY, at INTEGER NOT NULL)`,
			`INSERT INTO health_probe(id, at) VALUES (1, 0)`,
		},
		postgres: []string{
			`CREATE TABLE health_probe (id INTEGER PRIMARY KEY, at BIGINT NOT NULL)`,
			`INSERT INTO health_probe(id, at) VALUES (1, 0)`,
		},
	},
}

// SchemaVersion is the schema version this build migrates to.
var SchemaVersion = len(migrations)

// migrate brings the schema to SchemaVersion. On PostgreSQL an advisory lock
// serialises instances that start at the same time. A database newer than
// this build is an error, so an old binary never writes a newer schema.
func (s *SQL) migrate(ctx context.Context) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.fail("migrate", err)
	}
	defer tx.Rollback() //nolint:errcheck
	if s.engine == Postgres {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7358201)`); err != nil {
			return s.fail("migrate", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
		return s.fail("migrate", err)
	}
	var v int
	err = tx.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&v)
	switch {
	case err == sql.ErrNoRows:
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version(version) VALUES (0)`); err != nil {
			return s.fail("migrate", err)
		}
	case err != nil:
		return s.fail("migrate", err)
	}
	if v > SchemaVersion {
		return fmt.Errorf("store: database schema version %d is newer than this build's %d; upgrade strictacme", v, SchemaVersion)
	}
	for ; v < SchemaVersion; v++ {
		stmts := migrations[v].sqlite
		if s.engine == Postgres {
			stmts = migrations[v].postgres
		}
		for _, st := range stmts {
			if _, err := tx.ExecContext(ctx, st); err != nil {
				return s.fail(fmt.Sprintf("migrate to version %d", v+1), err)
			}
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE schema_version SET version = ?`), v+1); err != nil {
			return s.fail("migrate", err)
		}
	}
	return s.fail("migrate", tx.Commit())
}
