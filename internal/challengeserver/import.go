package challengeserver

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/strictacme/strictacme/internal/challengeserver/store"
	"github.com/strictacme/strictacme/internal/exitcode"
)

// ErrImportSource is an acme-dns source not of the form ENGINE:CONNECTION,
// or of an engine acme-dns's databases are not kept in.
var ErrImportSource = errors.New("want ENGINE:CONNECTION with ENGINE sqlite3 or postgres, e.g. sqlite3:/var/lib/acme-dns/acme-dns.db")

// ImportAcmeDNS copies the accounts of the acme-dns database source,
// "ENGINE:CONNECTION" (sqlite3:/var/lib/acme-dns/acme-dns.db or
// postgres:postgres://…), into c's database (store.ImportAcmeDNS, TXT
// values kept for c's TXT lifetime). A source not of that form, or of
// another engine, is ErrImportSource, with exitcode.Usage, and c's
// database is not opened.
func (c *Config) ImportAcmeDNS(ctx context.Context, source string, now time.Time) (store.ImportResult, error) {
	engine, conn, ok := strings.Cut(source, ":")
	if !ok || conn == "" {
		return store.ImportResult{}, exitcode.With(exitcode.Usage, fmt.Errorf("%q: %w", source, ErrImportSource))
	}
	if !store.ImportSourceEngine(engine) {
		// Checked before the database is opened (and created): nothing is
		// written for a source that cannot be read. The rest of the source
		// may hold a password: it is not repeated.
		return store.ImportResult{}, exitcode.With(exitcode.Usage, fmt.Errorf("unknown engine %q: %w", engine, ErrImportSource))
	}
	dst, err := store.Open(ctx, c.Database.Engine, c.Database.Connection)
	if err != nil {
		return store.ImportResult{}, err
	}
	defer dst.Close()
	return store.ImportAcmeDNS(ctx, dst, engine, conn, now, c.TXT.Lifetime.Duration)
}
