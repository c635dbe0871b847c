package plan

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/issue"
	"github.com/strictacme/strictacme/internal/store"
)

// A command's CA, trust roots and resolvers are refused together, each
// under its settings key, before anything is built.
func TestReachRefusesEveryBadPartUnderItsKey(t *testing.T) {
	_, err := Reach{Server: "ftp://x", CACerts: []string{filepath.Join(t.TempDir(), "missing.pem")}}.Open(true)
	var pe *ProblemsError
	if !errors.As(err, &pe) {
		t.Fatalf("got %v, want problems", err)
	}
	var keys []string
	for _, p := range pe.Problems {
		keys = append(keys, p.Key)
	}
	if len(keys) != 3 || keys[0] != "server" || keys[1] != "ca_certs" || keys[2] != "request_timeout" {
		t.Errorf("keys %v, want server, ca_certs, request_timeout", keys)
	}
}

// Without a server nothing is said about one, and the resolvers are
// built only when asked for, from the defaults when none are given.
func TestReachBuildsOnlyWhatIsAsked(t *testing.T) {
	got, err := Reach{}.Open(false)
	if err != nil || got.Directory != "" || got.Resolvers != nil || got.HTTPClient == nil {
		t.Fatalf("got %+v, %v", got, err)
	}
	got, err = Reach{Server: "letsencrypt", RequestTimeout: 1e9}.Open(true)
	if err != nil || got.Directory == "" || len(got.Resolvers) == 0 {
		t.Fatalf("got %+v, %v", got, err)
	}
	if _, err := (Reach{Resolvers: []string{"gopher://x"}, RequestTimeout: 1e9}).Open(true); err == nil {
		t.Error("a bad resolver spec was accepted")
	}
}

// TestManageAccountChecksBeforeTheLockAndNamesTheMissingAccount pins that
// a bad CA setting is refused before the state directory is opened, and
// that a directory without the CA's account says how to get one.
func TestManageAccountChecksBeforeTheLockAndNamesTheMissingAccount(t *testing.T) {
	opened := false
	open := func(context.Context) (*store.Store, func(), error) {
		opened = true
		return store.OpenExistingLocked(context.Background(), t.TempDir(), false)
	}
	var pe *ProblemsError
	if _, err := ManageAccount(context.Background(), Reach{Server: "ftp://ca.example"}, open, issue.AccountChange{}); !errors.As(err, &pe) || opened {
		t.Fatalf("bad server: %v (state opened: %v)", err, opened)
	}
	_, err := ManageAccount(context.Background(), Reach{Server: "https://127.0.0.1:1/dir"}, open, issue.AccountChange{})
	if exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), "no account stored for https://127.0.0.1:1/dir") {
		t.Fatalf("no account: %v", err)
	}
}
