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

// ErrImportSource is an acme-dns source not of the form ENGINE:CONNECTION.
var ErrImportSource = errors.New("want ENGINE:CONNECTION, e.g. sqlite3:/var/lib/acme-dns/acme-dns.db")

// ImportAcmeDNS copies the accounts of the acme-dns database source,
// "ENGINE:CONNECTION" (sqlite3:/var/lib/acme-dns/acme-dns.db or
// postgres:postgres://…), into c's database (store.ImportAcmeDNS, TXT
// values kept for c's TXT lifetime). A source not of that form is
// ErrImportSource, with exitcode.Usage.
func (c *Config) ImportAcmeDNS(ctx context.Context, source string, now time.Time) (store.ImportResult, error) {
	engine, conn, ok := strings.Cut(source, ":")
	if !ok || conn == "" {
		return store.ImportResult{}, exitcode.With(exitcode.Usage, fmt.Errorf("%q: %w", source, ErrImportSource))
	}
	dst, err := store.Open(ctx, c.Database.Engine, c.Database.Connection)
	if err != nil {
		return store.ImportResult{}, err
	}
	defer dst.Close()
	return store.ImportAcmeDNS(ctx, dst, engine, conn, now, c.TXT.Lifetime.Duration)
}
