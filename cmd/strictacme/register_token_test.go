package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strictacme/strictacme/internal/challengeserver/challengeservertest"
	"github.com/strictacme/strictacme/internal/exitcode"
)

// A challenge server whose registration needs the admin token: register
// without --admin-token-file, or with a wrong token, is a usage error that
// names the flag; with the right token it registers.
func TestRegisterAtServerThatNeedsTheAdminToken(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "admin-token")
	if err := os.WriteFile(tokenFile, []byte("right-admin-token-0123456789\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	wrongFile := filepath.Join(dir, "wrong-token")
	if err := os.WriteFile(wrongFile, []byte("wrong-admin-token-0123456789\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(challengeservertest.Config(t, fmt.Sprintf("admin_token_file = %q", tokenFile)),
		`registration = "open"`, `registration = "token"`, 1)
	srv := challengeservertest.Start(t, cfg)
	tests := []struct {
		name  string
		extra []string
		code  int
		want  string
	}{
		{"no token", nil, exitcode.Usage, "--admin-token-file: " + srv.APIURL + " refuses to register accounts without its admin token"},
		{"wrong token", []string{"--admin-token-file", wrongFile}, exitcode.Usage, "refused the admin token in " + wrongFile},
		{"right token", []string{"--admin-token-file", tokenFile}, exitcode.OK, "registered example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"register", "--server", srv.APIURL, "--credentials", filepath.Join(t.TempDir(), "acmedns.json"),
				"--no-check", "-d", "example.com"}, tt.extra...)
			code, _, stderr := runCLI(t, args...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Fatalf("exit %d, want %d with %q; stderr:\n%s", code, tt.code, tt.want, stderr)
			}
			if strings.Contains(stderr, "admin-token-0123456789") {
				t.Errorf("a token is in the output:\n%s", stderr)
			}
		})
	}
}
