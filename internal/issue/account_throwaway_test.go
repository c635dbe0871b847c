package issue

import (
	"context"
	"testing"

	"github.com/strictacme/strictacme/internal/testworld"
)

// A throwaway account (a dry run's) is registered at the CA and works for
// an order, but nothing of it reaches the store, and a stored account of
// the same CA is not used: each throwaway account is a new one.
func TestThrowawayAccountIsRegisteredButNeverStored(t *testing.T) {
	w := testworld.Start(t)
	f := newFixture(t, w) // stores the default account
	stored, err := f.st.LoadAccount(w.DirectoryURL, "")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	acct, created, err := f.is.Account(ctx, AccountOptions{AcceptTOS: true, Throwaway: true})
	if err != nil || !created {
		t.Fatalf("Account(Throwaway) = created %v, %v; want a new account", created, err)
	}
	if acct.Location == "" || acct.Location == stored.URL {
		t.Fatalf("throwaway account %q, stored account %q: want a new registration", acct.Location, stored.URL)
	}
	if after, err := f.st.LoadAccount(w.DirectoryURL, ""); err != nil || after.URL != stored.URL {
		t.Fatalf("stored account after a throwaway one: %v, %v; want %s unchanged", after, err, stored.URL)
	}
	res, err := f.obtain(t, ctx, "throwaway.example.com")
	if err != nil {
		t.Fatalf("Obtain with a throwaway account: %v", err)
	}
	if res.Certificate == nil || res.Certificate.Meta.Account != acct.Location {
		t.Fatalf("certificate ordered by account %v, want the throwaway %s", res.Certificate, acct.Location)
	}
}
