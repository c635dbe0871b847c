package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/strictacme/strictacme/internal/challengeserver/store"
)

// Zone-level TXT values (the server's own challenges) travel through Load,
// Changes and Subdomains under store.ZoneKey, expire, and never mix with
// accounts; the certificate row round-trips; a lease is held by one holder
// at a time until it expires.
func TestServerState(t *testing.T) {
	engines(t, func(t *testing.T, open func() *store.SQL) {
		ctx := context.Background()
		a, b := open(), open()
		_, seq0, err := loadAll(ctx, a, t0)
		if err != nil {
			t.Fatal(err)
		}
		v := store.Value{Text: "tok", Updated: t0, Expires: t0.Add(time.Hour)}
		if err := a.PutZoneTXT(ctx, "_ACME-challenge.api", v); err != nil {
			t.Fatal(err)
		}
		subs, _, err := loadAll(ctx, b, t0)
		if err != nil {
			t.Fatal(err)
		}
		k := store.ZoneKey("_acme-challenge.api")
		if got := subs[k]; len(subs) != 1 || len(got) != 1 || got[0].Text != "tok" {
			t.Fatalf("Load: %v", subs)
		}
		ch, err := b.Changes(ctx, seq0, nil)
		if err != nil || len(ch) != 1 || ch[0].Subdomain != k {
			t.Fatalf("Changes: %v %v", ch, err)
		}
		got, err := b.Subdomains(ctx, []string{k, "nope"}, t0)
		if err != nil || len(got) != 1 || len(got[k]) != 1 {
			t.Fatalf("Subdomains: %v %v", got, err)
		}
		if n, err := b.DeleteZoneTXT(ctx, "_acme-challenge.api", "tok"); n != 1 || err != nil {
			t.Fatalf("DeleteZoneTXT: %d %v", n, err)
		}
		if got, _ := b.Subdomains(ctx, []string{k}, t0); len(got) != 0 {
			t.Fatalf("after delete: %v", got)
		}
		if err := a.PutZoneTXT(ctx, "@", v); err != nil {
			t.Fatal(err)
		}
		if n, err := a.Expire(ctx, t0.Add(2*time.Hour), time.Hour, 0); n != 1 || err != nil {
			t.Fatalf("Expire: %d %v", n, err)
		}

		if _, err := b.ServerCert(ctx, "api"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("no certificate yet: %v", err)
		}
		c := store.ServerCert{FullchainPEM: []byte("chain"), KeyPEM: []byte("key"), NotAfter: t0.Add(90 * 24 * time.Hour), Updated: t0}
		if err := a.PutServerCert(ctx, "api", c); err != nil {
			t.Fatal(err)
		}
		c.Updated = t0.Add(time.Minute)
		if err := a.PutServerCert(ctx, "api", c); err != nil {
			t.Fatal(err)
		}
		rc, err := b.ServerCert(ctx, "api")
		if err != nil || string(rc.FullchainPEM) != "chain" || string(rc.KeyPEM) != "key" || !rc.NotAfter.Equal(c.NotAfter) || !rc.Updated.Equal(c.Updated) {
			t.Fatalf("ServerCert: %+v %v", rc, err)
		}

		take := func(s *store.SQL, holder string, now time.Time) bool {
			ok, err := s.AcquireLease(ctx, "order", holder, now, 10*time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if !take(a, "A", t0) || take(b, "B", t0.Add(time.Minute)) {
			t.Fatal("the first holder must get the lease, the second not")
		}
		if !take(a, "A", t0.Add(5*time.Minute)) {
			t.Fatal("the holder extends its lease")
		}
		if take(b, "B", t0.Add(14*time.Minute)) || !take(b, "B", t0.Add(15*time.Minute)) {
			t.Fatal("an expired lease goes to the next holder, not earlier")
		}
		if err := a.ReleaseLease(ctx, "order", "A"); err != nil {
			t.Fatal(err)
		}
		if take(a, "A", t0.Add(16*time.Minute)) {
			t.Fatal("releasing someone else's lease freed it")
		}
		if err := b.ReleaseLease(ctx, "order", "B"); err != nil {
			t.Fatal(err)
		}
		if !take(a, "A", t0.Add(16*time.Minute)) {
			t.Fatal("a released lease is free")
		}
	})
}
