package propagation

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/strictacme/strictacme/internal/challengeserver/api"
	"github.com/strictacme/strictacme/internal/challengeserver/authlookup"
	"github.com/strictacme/strictacme/internal/challengeserver/store"
	"github.com/strictacme/strictacme/internal/challengeserver/view"
)

// relayWorld runs the challenge server's API with a scripted /lookup: the
// nth call for a name sees the value at the first `visibleAfter` servers.
func relayWorld(t *testing.T, visibleAt func(n int) int) (*Relay, *int) {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var mu sync.Mutex
	calls := 0
	lookup := func(ctx context.Context, name string, qtype uint16) (any, error) {
		mu.Lock()
		calls++
		n := visibleAt(calls)
		mu.Unlock()
		res := authlookup.Result{Name: name, Type: "TXT", Zone: "example.org."}
		for i, ns := range []string{"ns1.example.org.", "ns2.example.org."} {
			s := authlookup.Server{NS: ns, Address: "192.0.2.1:53", Rcode: "NOERROR", Answer: []string{}}
			if i < n {
				s.TXT = []string{"v1"}
			}
			res.Servers = append(res.Servers, s)
		}
		return &res, nil
	}
	a := api.New(api.Config{Registration: api.RegistrationOpen, BcryptCost: bcrypt.MinCost, Lookup: lookup}, st, view.New(nil))
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	res, err := http.Post(srv.URL+"/register", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var acc struct{ Username, Password string }
	json.Unmarshal(b, &acc)
	return &Relay{URL: srv.URL, Username: acc.Username, Password: acc.Password, Clock: newFakeClock()}, &calls
}

func TestRelayWaitsForEveryServer(t *testing.T) {
	r, calls := relayWorld(t, func(n int) int { return n - 1 }) // 0, 1, 2 servers
	var events []string
	var mu sync.Mutex
	obs := func(e string) { mu.Lock(); events = append(events, e); mu.Unlock() }
	err := r.Wait(context.Background(), []Record{{FQDN: "_acme-challenge.example.org.", Value: "v1"}}, r.Clock.Now(), obs)
	if err != nil {
		t.Fatal(err)
	}
	if *calls != 3 || !strings.Contains(events[1], "ns2.example.org.") {
		t.Fatalf("calls %d events %q", *calls, events)
	}
	if got := r.Clock.(*fakeClock).sleeps(); len(got) != 2 || got[0] != DefaultRelayInterval {
		t.Fatalf("sleeps %v", got)
	}
}

func TestRelayTimeoutAndBadCredentials(t *testing.T) {
	r, _ := relayWorld(t, func(int) int { return 1 })
	r.Timeout = 5 * DefaultRelayInterval
	err := r.Wait(context.Background(), []Record{{FQDN: "x.example.org.", Value: "v1"}}, r.Clock.Now(), nil)
	if err == nil || !strings.Contains(err.Error(), "ns2.example.org.") {
		t.Fatal(err)
	}
	r.Password = strings.Repeat("x", 40)
	err = r.Wait(context.Background(), []Record{{FQDN: "x.example.org.", Value: "v1"}}, r.Clock.Now(), nil)
	if err == nil || !strings.Contains(err.Error(), "401") || strings.Contains(err.Error(), r.Password) {
		t.Fatal(err)
	}
}

var _ Strategy = (*Relay)(nil)
