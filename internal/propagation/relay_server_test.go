package propagation

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strictacme/strictacme/internal/challengeserver"
	"github.com/strictacme/strictacme/internal/challengeserver/challengeservertest"
)

// lookupCounter counts the /lookup calls a client sends.
type lookupCounter struct {
	mu sync.Mutex
	n  int
}

func (c *lookupCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.URL.Path, "/lookup") {
		c.mu.Lock()
		c.n++
		c.mu.Unlock()
	}
	return http.DefaultTransport.RoundTrip(req)
}

func (c *lookupCounter) count() int { c.mu.Lock(); defer c.mu.Unlock(); return c.n }

// freePort returns a loopback port free for UDP and TCP right now.
func freePort(t *testing.T) string {
	t.Helper()
	for range 20 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := pc.LocalAddr().String()
		l, err := net.Listen("tcp", addr)
		pc.Close()
		if err == nil {
			l.Close()
			_, port, _ := net.SplitHostPort(addr)
			return port
		}
	}
	t.Fatal("no free port")
	return ""
}

// relayServer starts the in-process challenge server with /lookup asking
// its own authoritative DNS (the challenge zone's only name server is
// 127.0.0.1), registers an account and writes values for its name.
func startRelayServer(t *testing.T, extra string, values ...string) (*Relay, *lookupCounter, string) {
	t.Helper()
	port := freePort(t)
	text := challengeservertest.Config(t, extra+"\nlookup_resolvers = [\"127.0.0.1:"+port+"\"]")
	text = strings.Replace(text, `listen = ["127.0.0.1:0"]`, `listen = ["127.0.0.1:`+port+`"]`, 1)
	cfg, err := challengeserver.ParseConfig("serve.toml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	srv := challengeservertest.StartOptions(t, cfg, challengeserver.Options{LookupPort: port})
	res, err := http.Post(srv.APIURL+"/register", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	var acc struct{ Username, Password, Fulldomain string }
	if err := json.NewDecoder(res.Body).Decode(&acc); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	for _, v := range values {
		body, _ := json.Marshal(map[string]string{"subdomain": strings.SplitN(acc.Fulldomain, ".", 2)[0], "txt": v})
		req, _ := http.NewRequest(http.MethodPost, srv.APIURL+"/update", bytes.NewReader(body))
		req.Header.Set("X-Api-User", acc.Username)
		req.Header.Set("X-Api-Key", acc.Password)
		res, err := http.DefaultClient.Do(req)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("update: %v %v", res, err)
		}
		res.Body.Close()
	}
	lc := &lookupCounter{}
	r := &Relay{URL: srv.APIURL, Username: acc.Username, Password: acc.Password,
		HTTPClient: &http.Client{Transport: lc, Timeout: 10 * time.Second}, Clock: newFakeClock()}
	return r, lc, acc.Fulldomain + "."
}

const (
	apexValue     = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	wildcardValue = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

// An apex and its wildcard share one TXT name: the relay asks the challenge
// server once for the name, not once per record.
func TestRelayAsksOncePerName(t *testing.T) {
	r, lc, name := startRelayServer(t, "", apexValue, wildcardValue)
	recs := []Record{{FQDN: name, Value: apexValue}, {FQDN: name, Value: wildcardValue}}
	if err := r.Wait(t.Context(), recs, r.Clock.Now(), nil); err != nil {
		t.Fatal(err)
	}
	if n := lc.count(); n != 1 {
		t.Errorf("%d /lookup calls, want 1", n)
	}
}

// The server's /lookup limit (here 2 a minute) answers 429 with
// Retry-After: the relay waits at least that long before asking again
// (never hammering the limit), and the 429 survives into the final error.
func TestRelayHonoursRetryAfterAndKeepsLastReason(t *testing.T) {
	r, lc, name := startRelayServer(t, "lookups_per_minute = 2") // one value never appears
	r.Timeout = 5 * time.Minute
	var events []string
	err := r.Wait(t.Context(), []Record{{FQDN: name, Value: apexValue}}, r.Clock.Now(), func(e string) { events = append(events, e) })
	if err == nil || !strings.Contains(err.Error(), "429") || !strings.Contains(err.Error(), "Retry-After 30s") {
		t.Fatalf("err = %v, want the 429 with its Retry-After", err)
	}
	sleeps := r.Clock.(*fakeClock).sleeps()
	t.Logf("pauses %v, %d calls, err %v", sleeps, lc.count(), err)
	var after429 int
	for _, d := range sleeps {
		if d >= 30*time.Second {
			after429++
		}
	}
	if after429 == 0 || len(sleeps) > 2+after429 {
		t.Errorf("pauses %v: every pause after a 429 must honour its Retry-After", sleeps)
	}
	if n := lc.count(); n > 12 {
		t.Errorf("%d /lookup calls in 5 minutes against a limit of 2 a minute", n)
	}
	if !strings.Contains(strings.Join(events, "\n"), "next round in 30s") {
		t.Errorf("events %q", events)
	}
}

// A context that ends mid-check keeps the last reason a name was not
// confirmed in the error.
func TestRelayContextEndKeepsLastReason(t *testing.T) {
	r, _, name := startRelayServer(t, "")
	ctx, cancel := context.WithCancel(t.Context())
	rounds := 0
	err := r.Wait(ctx, []Record{{FQDN: name, Value: apexValue}}, r.Clock.Now(), func(string) {
		if rounds++; rounds == 2 {
			cancel()
		}
	})
	if err == nil || !strings.Contains(err.Error(), "not yet at") || !strings.Contains(err.Error(), "canceled") {
		t.Fatalf("err = %v", err)
	}
}
