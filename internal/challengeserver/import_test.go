package challengeserver

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strictacme/strictacme/internal/exitcode"
)

// An acme-dns source without its engine is refused before any database
// is opened, as a usage error that says the form.
func TestImportSourceWithoutEngine(t *testing.T) {
	c := &Config{}
	for _, src := range []string{"/var/lib/acme-dns/acme-dns.db", "sqlite3:"} {
		_, err := c.ImportAcmeDNS(context.Background(), src, time.Now())
		if !errors.Is(err, ErrImportSource) || exitcode.Of(err) != exitcode.Usage {
			t.Errorf("%q: %v", src, err)
		}
	}
}

// An acme-dns source of an engine acme-dns keeps no database in (MySQL)
// is a usage error, the server's database is not created, and the rest of
// the source, which may hold a password, is not repeated.
func TestImportSourceOfAnUnknownEngineWritesNothing(t *testing.T) {
	db := filepath.Join(t.TempDir(), "serve.db")
	c := &Config{}
	c.Database.Engine, c.Database.Connection = "sqlite", db
	_, err := c.ImportAcmeDNS(context.Background(), "mysql:root:S3CRET@tcp(127.0.0.1:1)/acme", time.Now())
	if !errors.Is(err, ErrImportSource) || exitcode.Of(err) != exitcode.Usage {
		t.Fatalf("error %v (exit %d), want the source refused as a usage error", err, exitcode.Of(err))
	}
	if strings.Contains(err.Error(), "S3CRET") {
		t.Errorf("error %q repeats the source's password", err)
	}
	if _, err := os.Stat(db); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the server's database was created: %v", err)
	}
}
