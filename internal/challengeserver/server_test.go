package challengeserver

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"

	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/crypto/bcrypt"

	"github.com/strictacme/strictacme/internal/challengeserver/store"
)

// faultyStore makes every call fail while down is set (the database is
// gone); otherwise it passes through.
type faultyStore struct {
	store.Store
	down atomic.Bool
}

func (f *faultyStore) err() error {
	if f.down.Load() {
		return fmt.Errorf("%w: injected outage", store.ErrUnavailable)
	}
	return nil
}
func (f *faultyStore) CreateAccount(ctx context.Context, a store.Account) error {
	if err := f.err(); err != nil {
		return err
	}
	return f.Store.CreateAccount(ctx, a)
}
func (f *faultyStore) Account(ctx context.Context, u string) (store.Account, error) {
	if err := f.err(); err != nil {
		return store.Account{}, err
	}
	return f.Store.Account(ctx, u)
}
func (f *faultyStore) PutTXT(ctx context.Context, s string, v store.Value, l int) error {
	if err := f.err(); err != nil {
		return err
	}
	return f.Store.PutTXT(ctx, s, v, l)
}
func (f *faultyStore) Changes(ctx context.Context, a int64, also []int64) ([]store.Change, error) {
	if err := f.err(); err != nil {
		return nil, err
	}
	return f.Store.Changes(ctx, a, also)
}
func (f *faultyStore) Ping(ctx context.Context) error {
	if err := f.err(); err != nil {
		return err
	}
	return f.Store.Ping(ctx)
}

const testConfig = `
[general]
listen = ["127.0.0.1:0"]
domain = "auth.example.org"
nsname = "ns1.auth.example.org"
nsadmin = "hostmaster@example.org"
records = ["@ NS ns1", "ns1 A 127.0.0.1"]

[database]
engine = "%s"
connection = "%s"
poll_interval = "50ms"

[api]
listen = ["127.0.0.1:0"]
registration = "open"
lookup_resolvers = ["127.0.0.1:1"] # never the machine's resolvers
`

type instance struct {
	t   testing.TB
	srv *Server
	url string
	dns string
}

func start(t *testing.T, cfgText string, st store.Store) *instance { return startTB(t, cfgText, st) }

func startB(b *testing.B, cfgText string) *instance { return startTB(b, cfgText, nil) }

func startTB(t testing.TB, cfgText string, st store.Store) *instance {
	t.Helper()
	cfg, err := ParseConfig("test.toml", []byte(cfgText))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(t.Context(), cfg, Options{Store: st, BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return &instance{t: t, srv: srv, url: "http://" + srv.APIAddrs()[0].String(), dns: srv.DNS.UDPAddr(0)}
}

func (in *instance) post(path, body string, hdr map[string]string) (int, string) {
	in.t.Helper()
	req, _ := http.NewRequest("POST", in.url+path, strings.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		in.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

type acct struct{ Username, Password, Fulldomain, Subdomain string }

func (in *instance) register() acct {
	in.t.Helper()
	code, body := in.post("/register", "", nil)
	if code != 201 {
		in.t.Fatalf("register: %d %s", code, body)
	}
	var a acct
	json.Unmarshal([]byte(body), &a)
	return a
}

func (in *instance) update(a acct, txt string) (int, string) {
	return in.post("/update", `{"subdomain":"`+a.Subdomain+`","txt":"`+txt+`"}`, map[string]string{"X-Api-User": a.Username, "X-Api-Key": a.Password})
}

func (in *instance) txt(name string) (int, []string) {
	in.t.Helper()
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(name), dns.TypeTXT)
	q.SetEdns0(1232, false)
	m, err := dns.Exchange(q, in.dns)
	if err != nil {
		in.t.Fatal(err)
	}
	var out []string
	for _, rr := range m.Answer {
		out = append(out, rr.(*dns.TXT).Txt[0])
	}
	return m.Rcode, out
}

func value(i int) string { return fmt.Sprintf("%043d", i) }

// txtPlain asks name TXT over UDP without EDNS (512-byte replies, RFC 1035
// §4.2.1), as an old resolver or a minimal client does.
func (in *instance) txtPlain(name string) (*dns.Msg, []string) {
	in.t.Helper()
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(name), dns.TypeTXT)
	m, err := dns.Exchange(q, in.dns)
	if err != nil {
		in.t.Fatal(err)
	}
	var out []string
	for _, rr := range m.Answer {
		out = append(out, rr.(*dns.TXT).Txt[0])
	}
	return m, out
}

// Ten values at one account: answers are newest first and carry at most
// txt.limit values. With the default limit the four newest fit a plain
// 512-byte UDP reply; with room for ten (ten names delegated to one
// subdomain) the plain UDP reply is truncated and still carries the newest
// ones, and a reply with EDNS carries all ten.
func TestTenValuesNewestFirst(t *testing.T) {
	newestFirst := func(n int) []string {
		var out []string
		for i := 9; i > 9-n; i-- {
			out = append(out, value(i))
		}
		return out
	}
	for _, tc := range []struct {
		name      string
		txtTable  string
		plain     int // values in the plain UDP reply
		truncated bool
		edns      int
	}{
		{"default limit", "", 4, false, 4},
		{"limit 10", "\n[txt]\nlimit = 10\n", 7, true, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := start(t, fmt.Sprintf(testConfig, "sqlite", t.TempDir()+"/db")+tc.txtTable, nil)
			a := in.register()
			if rc, vals := in.txt(a.Fulldomain); rc != dns.RcodeSuccess || len(vals) != 0 {
				t.Fatalf("before update: %s %v", dns.RcodeToString[rc], vals)
			}
			for i := range 10 {
				if code, body := in.update(a, value(i)); code != 200 {
					t.Fatalf("update %d: %d %s", i, code, body)
				}
			}
			m, vals := in.txtPlain(a.Fulldomain)
			if m.Truncated != tc.truncated || !slices.Equal(vals, newestFirst(tc.plain)) {
				t.Errorf("UDP without EDNS: TC=%v, %v; want TC=%v and the %d newest, newest first", m.Truncated, vals, tc.truncated, tc.plain)
			}
			if _, vals := in.txt(a.Fulldomain); !slices.Equal(vals, newestFirst(tc.edns)) {
				t.Errorf("with EDNS: %v; want the %d newest, newest first", vals, tc.edns)
			}
		})
	}
}

// The store goes away: DNS keeps answering from memory, /health is 503, the
// API is 503; after a restart on the same file nothing is lost.
func TestStoreOutageAndRestart(t *testing.T) {
	path := t.TempDir() + "/db.sqlite"
	cfg := fmt.Sprintf(testConfig, "sqlite", path)
	st, err := store.OpenSQLite(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	fs := &faultyStore{Store: st}
	in := start(t, cfg, fs)
	a := in.register()
	in.update(a, value(1))
	in.update(a, value(2))

	fs.down.Store(true)
	if code, _ := in.update(a, value(3)); code != 503 {
		t.Fatalf("update during outage: %d", code)
	}
	if code, body := in.post("/register", "", nil); code != 503 || !strings.HasPrefix(body, `{"error": "db_error"`) {
		t.Fatalf("register during outage: %d %s", code, body)
	}
	res, err := http.Get(in.url + "/health")
	if err != nil || res.StatusCode != 503 {
		t.Fatalf("health during outage: %v %v", res.StatusCode, err)
	}
	res.Body.Close()
	for range 20 { // polls fail meanwhile; answers stay
		if _, vals := in.txt(a.Fulldomain); len(vals) != 2 {
			t.Fatalf("DNS during outage: %v", vals)
		}
	}
	fs.down.Store(false)
	st.Close()

	in2 := start(t, cfg, nil) // a restart: new process state, same file
	if _, vals := in2.txt(a.Fulldomain); len(vals) != 2 {
		t.Fatalf("after restart: %v", vals)
	}
	if code, body := in2.update(a, value(4)); code != 200 {
		t.Fatalf("credentials after restart: %d %s", code, body)
	}
}

// Two instances on one database: an update through one is in the other's DNS
// within a second. SQLite here; PostgreSQL in postgres_test.go.
func TestTwoInstancesSQLite(t *testing.T) {
	path := t.TempDir() + "/shared.sqlite"
	testTwoInstances(t, fmt.Sprintf(testConfig, "sqlite", path))
}

func testTwoInstances(t *testing.T, cfg string) {
	a1 := start(t, cfg, nil)
	a2 := start(t, cfg, nil)
	acc := a1.register()
	for i := range 3 {
		if code, body := a1.update(acc, value(i)); code != 200 {
			t.Fatal(code, body)
		}
		want := i + 1
		start := time.Now()
		for {
			_, vals := a2.txt(acc.Fulldomain)
			if len(vals) == want {
				t.Logf("update %d visible in the other instance after %v", i, time.Since(start))
				break
			}
			if time.Since(start) > time.Second {
				t.Fatalf("update %d not visible in the other instance within 1 s: %v", i, vals)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	_, v1 := a1.txt(acc.Fulldomain)
	_, v2 := a2.txt(acc.Fulldomain)
	if strings.Join(v1, ",") != strings.Join(v2, ",") {
		t.Fatalf("instances disagree: %v vs %v", v1, v2)
	}
	// Deregistration through the second instance reaches the first.
	if code, _ := a2.post("/deregister", "", map[string]string{"X-Api-User": acc.Username, "X-Api-Key": acc.Password}); code != 200 {
		t.Fatal("deregister", code)
	}
	deadline := time.Now().Add(time.Second)
	for {
		if rc, _ := a1.txt(acc.Fulldomain); rc == dns.RcodeNameError {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("deregistration not visible within 1 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestConfigErrorsNameKeyAndLine(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"[general]\ndomain = \"a.example\"\n[database]\nconnection = \"x\"\n[api]\nregistration = \"maybe\"\n", "t.toml:6: api.registration:"},
		{"[general]\ndomain = \"a.example\"\nbogus = 1\n[database]\nconnection = \"x\"\n", "t.toml:3: general.bogus: unknown key"},
		{"[general]\ndomain = \"a.example\"\n[database]\nconnection = \"x\"\n[txt]\nlifetime = \"soon\"\n", "t.toml:6"},
		{"[general]\ndomain = \"a.example\"\n[database]\nconnection = \"x\"\n\n[api]\nuse_header = true\n", "t.toml:7: api.use_header: use_header = true needs trusted_proxies"},
		{"[general]\ndomain = \"a.example\"\n[database]\n", "database.connection: missing"},
		{"[general]\ndomain = \n", "t.toml:2"},
		{"[general]\ndomain = \"a.example\"\nnegative_ttl = \"x\"\n[database]\nconnection = \"x\"\n", "t.toml:3"},
	} {
		_, err := ParseConfig("t.toml", []byte(tc.src))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.src, err, tc.want)
		}
	}
}

// An acme-dns config.cfg loads with the same meaning (acme-dns README
// "Configuration", https://github.com/acme-dns/acme-dns).
func TestAcmeDNSConfigAccepted(t *testing.T) {
	src := `[general]
listen = "127.0.0.1:53"
protocol = "both4"
domain = "auth.example.org"
nsname = "auth.example.org"
nsadmin = "admin.example.org"
records = ["auth.example.org. A 198.51.100.1", "auth.example.org. NS auth.example.org."]
debug = false
[database]
engine = "sqlite3"
connection = "/var/lib/acme-dns/acme-dns.db"
[api]
ip = "0.0.0.0"
disable_registration = false
port = "443"
tls = "none"
corsorigins = ["*"]
use_header = false
header_name = "X-Forwarded-For"
[logconfig]
loglevel = "debug"
logtype = "stdout"
logformat = "json"
`
	c, err := ParseConfig("config.cfg", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if c.Database.Engine != "sqlite" || c.API.Listen[0] != "0.0.0.0:443" || c.API.Registration != "open" || c.General.Protocol != "both" {
		t.Fatalf("%+v", c)
	}
}

func TestAdminTokenFileMode(t *testing.T) {
	p := t.TempDir() + "/tok"
	os.WriteFile(p, []byte("0123456789abcdef0123"), 0o644)
	if _, err := readSecret(p); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatal(err)
	}
	os.Chmod(p, 0o600)
	if tok, err := readSecret(p); err != nil || tok != "0123456789abcdef0123" {
		t.Fatal(tok, err)
	}
}
