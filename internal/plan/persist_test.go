package plan

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/strictacme/strictacme/internal/persist"
	"github.com/strictacme/strictacme/internal/testworld"
)

// A first pass of persist creates the account whose URL the records carry
// and prints the records; the second finds the stored account. A provider
// kind nobody registered is refused before the store or the CA is touched.
func TestPersistUsesTheStoredAccount(t *testing.T) {
	w := testworld.Start(t)
	path := t.TempDir()
	var logs []string
	opts := PersistOptions{
		Reach: Reach{Server: w.DirectoryURL, CACerts: []string{w.TLSRootFile}, RequestTimeout: time.Second}, Path: path, AcceptTOS: true,
		Names: []string{"example.com"}, IssuerSource: "directory", Timeout: time.Minute,
		Run: persist.RunOptions{Log: func(l string) { logs = append(logs, l) }},
	}
	var first, second persist.Report
	if err := Persist(context.Background(), opts, &first); err != nil {
		t.Fatal(err)
	}
	if first.Account == "" || len(first.Zone) != 1 || !strings.Contains(first.Zone[0], "accounturi="+first.Account) {
		t.Fatalf("first pass: account %q, zone lines %q", first.Account, first.Zone)
	}
	if err := Persist(context.Background(), opts, &second); err != nil {
		t.Fatal(err)
	}
	if second.Account != first.Account || logs[0] != "account created: "+first.Account || !slices.Contains(logs[1:], "account: "+first.Account) {
		t.Errorf("second pass: account %q, log %q; want the stored one", second.Account, logs)
	}

	before := w.CA.Requests(testworld.PathNewAccount)
	opts.Provider, opts.Apply, opts.Path = "no-such-kind", true, t.TempDir()
	var pe *ProblemsError
	if err := Persist(context.Background(), opts, &persist.Report{}); !errors.As(err, &pe) || pe.Problems[0].Provider != "no-such-kind" || pe.Problems[0].Key != "type" {
		t.Errorf("unknown provider: %v", err)
	}
	if n := w.CA.Requests(testworld.PathNewAccount); n != before {
		t.Errorf("the unknown provider reached the CA: %d new-account requests", n-before)
	}
}

// TestPersistSaysEveryBadSettingAtOnce pins that the settings persist
// takes as text are all checked, each under its key, before the CA is
// asked anything.
func TestPersistSaysEveryBadSettingAtOnce(t *testing.T) {
	opts := PersistOptions{Reach: Reach{Server: "https://127.0.0.1:1/dir"}, Path: t.TempDir(), Names: []string{"example.com"},
		PersistUntil: "next week", IssuerSource: "dns", Apply: true}
	var pe *ProblemsError
	if err := Persist(context.Background(), opts, &persist.Report{}); !errors.As(err, &pe) {
		t.Fatalf("got %v, want problems", err)
	}
	var keys []string
	for _, p := range pe.Problems {
		keys = append(keys, p.Key)
	}
	if want := []string{"persist_until", "issuer_source", "apply", "timeout"}; !slices.Equal(keys, want) {
		t.Errorf("problems under %q, want %q", keys, want)
	}
}
