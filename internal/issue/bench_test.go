package issue

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/mholt/acmez/v3/acme"
	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/internal/challenge"
	"github.com/strictacme/strictacme/internal/testworld"
)

// BenchmarkObtain measures time to certificate on the test world with the
// default DoH strategy and the issuer's default polling policy, for one order
// of 1, 10 and 100 names, and the DNS queries the client sends per name.
// "one-order-per-name" is the peer: the same names obtained name by name, the
// way clients that present, wait and clean up per name behave (case PR13).
// "floor" is a minimal client on the same world that writes the records
// straight into the authoritative server, posts every challenge and polls
// without any wait: what the CA and the network cost by themselves.
//
// "retry-after=pebble" runs against a CA that sends Pebble's default
// Retry-After (3 s on a processing authorization, 5 s on a processing
// order): the total should stay within the waits the CA asked for plus a
// little (docs/polling.md).
func BenchmarkObtain(b *testing.B) {
	w := testworld.Start(b)
	for _, n := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("names=%d", n), func(b *testing.B) {
			benchOrders(b, w, n, false)
		})
		b.Run(fmt.Sprintf("names=%d/floor", n), func(b *testing.B) {
			benchFloor(b, w, n)
		})
	}
	b.Run("names=10/one-order-per-name", func(b *testing.B) {
		benchOrders(b, w, 10, true)
	})
	slow := testworld.Start(b, testworld.Options{RetryAfterAuthz: 3 * time.Second, RetryAfterOrder: 5 * time.Second})
	for _, n := range []int{1, 100} {
		b.Run(fmt.Sprintf("retry-after=pebble/names=%d", n), func(b *testing.B) {
			benchOrders(b, slow, n, false)
		})
	}
}

// benchSeq keeps names unique across runs: a name reused within the TTL
// would be answered from the resolver's cache with the previous value.
var benchSeq int

func benchNames(n int) []string {
	benchSeq++
	var names []string
	for j := 0; j < n; j++ {
		names = append(names, fmt.Sprintf("h%d-%d.example.com", benchSeq, j))
	}
	return names
}

func benchOrders(b *testing.B, w *testworld.World, n int, perName bool) {
	f := newFixture(b, w, func(_ *fixture, c *Config) {
		c.Propagation = dohStrategy(b, w)
		c.PollInterval = 0 // the default policy, not the tests' short one
	})
	w.Recursive.ResetCounts()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		names := benchNames(n)
		orders := [][]string{names}
		if perName {
			orders = nil
			for _, name := range names {
				orders = append(orders, []string{name})
			}
		}
		for _, o := range orders {
			if _, err := f.is.Obtain(context.Background(), Request{Identifiers: ids(b, o...), KeyType: EC256}); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(w.Recursive.Queries())/float64(b.N*n), "queries/name")
}

// benchFloor obtains certificates with the least a client can do: no
// provider API, no propagation check, every request as soon as the last
// answer is in, polls without delay. Its challenges are validated at most
// defaultInFlight at a time, as the issuer's are: the world's validating
// resolver times out under a hundred validations at once.
func benchFloor(b *testing.B, w *testworld.World, n int) {
	ctx := context.Background()
	client := &acme.Client{Directory: w.DirectoryURL, HTTPClient: w.HTTPClient(), PollInterval: time.Millisecond, PollTimeout: time.Minute}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	acct, err := client.NewAccount(ctx, acme.Account{PrivateKey: key, TermsOfServiceAgreed: true})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		names := benchNames(n)
		order := acme.Order{}
		for _, name := range names {
			order.Identifiers = append(order.Identifiers, acme.Identifier{Type: "dns", Value: name})
		}
		if order, err = client.NewOrder(ctx, acct, order); err != nil {
			b.Fatal(err)
		}
		authzs := make([]acme.Authorization, len(order.Authorizations))
		errs := each(len(authzs), func(j int) error {
			var e error
			authzs[j], e = client.GetAuthorization(ctx, acct, order.Authorizations[j])
			return e
		})
		var chals []acme.Challenge
		for j, a := range authzs {
			if errs[j] != nil {
				b.Fatal(errs[j])
			}
			for _, c := range a.Challenges {
				if c.Type == acme.ChallengeTypeDNS01 {
					if err := w.DNS.Add(challenge.DNS01Name(a.Identifier.Value), dns.TypeTXT, 60, challenge.TXTValue(c.KeyAuthorization)); err != nil {
						b.Fatal(err)
					}
					chals = append(chals, c)
				}
			}
		}
		var mu sync.Mutex
		var firstErr error
		inFlight := make(limiter, defaultInFlight)
		each(len(chals), func(j int) error {
			if err := inFlight.acquire(ctx); err != nil {
				return err
			}
			defer inFlight.release()
			_, err := client.InitiateChallenge(ctx, acct, chals[j])
			if err == nil {
				_, err = client.PollAuthorization(ctx, acct, authzs[j])
			}
			mu.Lock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			mu.Unlock()
			return err
		})
		if firstErr != nil {
			b.Fatal(firstErr)
		}
		ck, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{DNSNames: names}, ck)
		if err != nil {
			b.Fatal(err)
		}
		if order, err = client.FinalizeOrder(ctx, acct, order, der); err != nil {
			b.Fatal(err)
		}
		if _, err := client.GetCertificateChain(ctx, acct, order.Certificate); err != nil {
			b.Fatal(err)
		}
	}
}
