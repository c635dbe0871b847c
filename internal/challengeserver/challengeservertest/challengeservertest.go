// Package challengeservertest runs a challenge server (strictacme serve) on
// loopback for tests in other packages: SQLite in a temporary directory,
// open registration, the lowest bcrypt cost, logs discarded.
package challengeservertest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/strictacme/strictacme/internal/challengeserver"
)

// Zone is the challenge zone of Start's default configuration.
const Zone = "auth.example.org"

// Server is a running challenge server.
type Server struct {
	*challengeserver.Server
	// APIURL is "http://127.0.0.1:port" of the HTTP API.
	APIURL string
	// DNSAddr is the UDP/TCP "127.0.0.1:port" of the authoritative server.
	DNSAddr string
}

// NoResolver is the api.lookup_resolvers entry Config uses unless extra
// sets its own: a closed loopback port, so /lookup fails at once instead of
// asking the machine's resolvers (serve's default), which no test may use.
const NoResolver = "127.0.0.1:1"

// Config is the default configuration; extra is appended to its [api]
// table (e.g. `lookup = false`, or `lookup_resolvers = [...]` with a test
// world's resolver).
func Config(t testing.TB, extra string) string {
	t.Helper()
	if !strings.Contains(extra, "lookup_resolvers") {
		extra = fmt.Sprintf("lookup_resolvers = [%q]\n", NoResolver) + extra
	}
	return fmt.Sprintf(`
[general]
listen = ["127.0.0.1:0"]
domain = %q
nsname = "ns1.%s"
nsadmin = "hostmaster@example.org"
records = ["@ NS ns1", "ns1 A 127.0.0.1"]

[database]
engine = "sqlite"
connection = %q

[api]
listen = ["127.0.0.1:0"]
registration = "open"
%s
`, Zone, Zone, filepath.Join(t.TempDir(), "acmedns.db"), extra)
}

// Start runs a server from the TOML configuration text until the test ends.
func Start(t testing.TB, configText string) *Server {
	t.Helper()
	cfg, err := challengeserver.ParseConfig("serve.toml", []byte(configText))
	if err != nil {
		t.Fatal(err)
	}
	return StartConfig(t, cfg)
}

// StartConfig is Start with a parsed configuration.
func StartConfig(t testing.TB, cfg *challengeserver.Config) *Server {
	t.Helper()
	return StartOptions(t, cfg, challengeserver.Options{})
}

// StartOptions is StartConfig with run-time options (e.g. LookupPort, so
// /lookup asks a test world's authoritative server); BcryptCost and Log
// take the package's defaults when zero.
func StartOptions(t testing.TB, cfg *challengeserver.Config, opts challengeserver.Options) *Server {
	t.Helper()
	if opts.BcryptCost == 0 {
		opts.BcryptCost = bcrypt.MinCost
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	srv, err := challengeserver.New(t.Context(), cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = srv.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return &Server{Server: srv, APIURL: "http://" + srv.APIAddrs()[0].String(), DNSAddr: srv.DNS.UDPAddr(0)}
}
