// Package storetest gives tests a fresh PostgreSQL database from the
// throwaway cluster named by STRICTACME_TEST_POSTGRES (see .ci/postgres.sh).
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx"
)

// EnvPostgres names the variable holding an admin DSN (a postgres:// URL)
// of a cluster tests may create databases in.
const EnvPostgres = "STRICTACME_TEST_POSTGRES"

// Postgres creates an empty database for t and returns its DSN; the
// database is dropped when t ends. It skips t when EnvPostgres is unset.
func Postgres(t testing.TB) string {
	t.Helper()
	admin := os.Getenv(EnvPostgres)
	if admin == "" {
		t.Skip(EnvPostgres + " is unset: run `eval \"$(.ci/postgres.sh)\"` to test PostgreSQL")
	}
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("%s: not a postgres:// URL: %v", EnvPostgres, err)
	}
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "t_" + hex.EncodeToString(b)
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		db.Close()
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		db.ExecContext(context.Background(), "DROP DATABASE "+name+" WITH (FORCE)")
		db.Close()
	})
	u.Path = "/" + name
	return u.String()
}
