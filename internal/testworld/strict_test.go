package testworld

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/libdns/libdns"
	"github.com/mholt/acmez/v3/acme"
)

// An account look-up that carries the contact along with onlyReturnExisting
// is refused as malformed; the bare look-up finds the account.
func TestAccountLookupWithExtraFieldsRefused(t *testing.T) {
	w := Start(t)
	client, acct := newACMEClient(t, w)
	ctx := context.Background()
	_, err := client.GetAccount(ctx, acme.Account{PrivateKey: acct.PrivateKey, Contact: acct.Contact})
	var p acme.Problem
	if !errors.As(err, &p) || p.Status != http.StatusBadRequest || p.Type != acme.ProblemTypeMalformed || !strings.Contains(p.Detail, "contact") {
		t.Fatalf("look-up with contact: err = %v, want 400 malformed naming the field", err)
	}
	got, err := client.GetAccount(ctx, acme.Account{PrivateKey: acct.PrivateKey})
	if err != nil || got.Location != acct.Location {
		t.Fatalf("bare look-up = %+v, %v", got, err)
	}
}

// With ChallengeRetries, a dns-01 challenge with a wrong TXT value stays
// pending with the CA's error (also in the authorization) for the allowed
// number of failures; the next failure is Pebble's own: invalid.
func TestChallengeKeptPendingThenInvalid(t *testing.T) {
	w := Start(t, Options{ChallengeRetries: 2})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	client, acct := newACMEClient(t, w)
	order, err := client.NewOrder(ctx, acct, acme.Order{Identifiers: []acme.Identifier{{Type: "dns", Value: "retry.example.com"}}})
	must(t, err)
	authz, err := client.GetAuthorization(ctx, acct, order.Authorizations[0])
	must(t, err)
	var chal acme.Challenge
	for _, c := range authz.Challenges {
		if c.Type == acme.ChallengeTypeDNS01 {
			chal = c
		}
	}
	_, err = w.Provider().AppendRecords(ctx, "example.com.", []libdns.Record{libdns.TXT{Name: "_acme-challenge.retry", Text: "wrong", TTL: time.Minute}})
	must(t, err)
	for i := 0; i < 2; i++ {
		got, err := client.InitiateChallenge(ctx, acct, chal)
		must(t, err)
		if got.Status != acme.StatusPending || got.Error == nil || !strings.Contains(got.Error.Detail, `incorrect TXT record "wrong" found at _acme-challenge.retry.example.com`) {
			t.Fatalf("attempt %d: challenge = %+v, want pending with the error", i+1, got)
		}
		az, err := client.GetAuthorization(ctx, acct, authz.Location)
		must(t, err)
		shown := false
		for _, c := range az.Challenges {
			shown = shown || (c.URL == chal.URL && c.Error != nil && c.Status == acme.StatusPending)
		}
		if az.Status != acme.StatusPending || !shown {
			t.Fatalf("attempt %d: authorization = %+v, want pending with the error on the challenge", i+1, az)
		}
	}
	if _, err := client.InitiateChallenge(ctx, acct, chal); err != nil {
		t.Fatal(err)
	}
	az, err := client.PollAuthorization(ctx, acct, authz)
	if err == nil || az.Status != acme.StatusInvalid {
		t.Fatalf("third failure: authorization %s, err %v; want invalid", az.Status, err)
	}
}
