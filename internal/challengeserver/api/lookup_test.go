package api

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// Successful /lookup calls are limited per account: each makes the server
// send DNS queries, so one account may not turn it into a query cannon. The
// limit is per account (another account is unaffected) and refills with the
// clock.
func TestLookupRateLimitPerAccount(t *testing.T) {
	var calls atomic.Int32
	w := newWorld(t, func(c *Config) {
		c.LookupRate, c.LookupBurst = rate.Every(10*time.Second), 3
		c.Lookup = func(ctx context.Context, name string, qtype uint16) (any, error) {
			calls.Add(1)
			return map[string]string{"name": name}, nil
		}
	})
	a, b := w.register(""), w.register("")
	look := func(acc account) resp {
		return w.do("POST", "/lookup", `{"name":"_acme-challenge.example.com","type":"TXT"}`, acc.hdr())
	}
	for i := range 3 {
		if r := look(a); r.code != 200 {
			t.Fatalf("lookup %d: %d %s", i, r.code, r.body)
		}
	}
	r := look(a)
	if r.code != 429 || r.hdr.Get("Retry-After") != "10" {
		t.Fatalf("4th lookup: %d Retry-After %q %s; want 429 with Retry-After 10", r.code, r.hdr.Get("Retry-After"), r.body)
	}
	if n := calls.Load(); n != 3 {
		t.Fatalf("the refused call reached the resolver: %d calls", n)
	}
	if r := look(b); r.code != 200 {
		t.Fatalf("another account is limited too: %d %s", r.code, r.body)
	}
	w.clock.Add(10 * time.Second)
	if r := look(a); r.code != 200 {
		t.Fatalf("after 10 s: %d %s", r.code, r.body)
	}
	if r := look(a); r.code != 429 {
		t.Fatalf("one token refilled, second call: %d", r.code)
	}
	// A failed authentication does not spend the account's tokens.
	bad := a
	flip := "x"
	if a.Password[0] == 'x' { // keep the key wrong whatever it starts with
		flip = "y"
	}
	bad.Password = flip + a.Password[1:]
	if r := w.do("POST", "/lookup", `{"name":"example.com","type":"TXT"}`, bad.hdr()); r.code != 401 {
		t.Fatalf("bad key: %d", r.code)
	}
}
