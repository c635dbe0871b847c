package challengeserver

import (
	"context"
	"errors"
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
