package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/strictacme/strictacme/internal/challengeserver/store"
	"github.com/strictacme/strictacme/internal/challengeserver/view"
)

const digest = "LHDhK3oGRvkiefQnx7OOczTY5Tic_xZ6HcMOc_gmtoM" // 43 base64url chars

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type world struct {
	t     *testing.T
	api   *API
	store store.Store
	view  *view.View
	clock *clock
	srv   *httptest.Server
}

// newWorld builds an API on an in-memory SQLite store with open
// registration, a fake clock and a loopback test server; mod adjusts cfg.
func newWorld(t *testing.T, mod func(*Config)) *world {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return newWorldOn(t, st, mod)
}

func newWorldOn(t *testing.T, st store.Store, mod func(*Config)) *world {
	c := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	v := view.New(c.Now)
	cfg := Config{Domain: "auth.example.org", Registration: RegistrationOpen, BcryptCost: bcrypt.MinCost, Now: c.Now}
	if mod != nil {
		mod(&cfg)
	}
	a := New(cfg, st, v)
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	return &world{t: t, api: a, store: st, view: v, clock: c, srv: srv}
}

type resp struct {
	code int
	body string
	hdr  http.Header
}

func (w *world) do(method, path, body string, hdr map[string]string) resp {
	w.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, w.srv.URL+path, rd)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, string(b), res.Header}
}

type account struct {
	Username, Password, Fulldomain, Subdomain string
	Allowfrom                                 []string
}

func (w *world) register(body string) account {
	w.t.Helper()
	r := w.do("POST", "/register", body, nil)
	if r.code != 201 {
		w.t.Fatalf("register: %d %s", r.code, r.body)
	}
	var a account
	if err := json.Unmarshal([]byte(r.body), &a); err != nil {
		w.t.Fatal(err)
	}
	return a
}

func (a account) hdr() map[string]string {
	return map[string]string{"X-Api-User": a.Username, "X-Api-Key": a.Password}
}

func (w *world) update(a account, txt string) resp {
	return w.do("POST", "/update", `{"subdomain":"`+a.Subdomain+`","txt":"`+txt+`"}`, a.hdr())
}

var uuidRE = `[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}`

// As acme-dns's /register (pkg/api/register.go): 201, one line, keys in
// order, allowfrom always an array.
func TestRegisterReplyShape(t *testing.T) {
	w := newWorld(t, nil)
	r := w.do("POST", "/register", "", nil)
	if r.code != 201 || r.hdr.Get("Content-Type") != "application/json" {
		t.Fatalf("got %d %q", r.code, r.hdr.Get("Content-Type"))
	}
	re := regexp.MustCompile(`^\{"username":"` + uuidRE + `","password":"[A-Za-z0-9_-]{40}","fulldomain":"(` + uuidRE + `)\.auth\.example\.org","subdomain":"(` + uuidRE + `)","allowfrom":\[\]\}$`)
	m := re.FindStringSubmatch(r.body)
	if m == nil || m[1] != m[2] {
		t.Fatalf("register body %q does not match acme-dns's shape", r.body)
	}
	if _, ok := w.view.Lookup(m[2]); !ok {
		t.Error("registered subdomain not in the DNS view")
	}
}

func TestRegisterAllowFrom(t *testing.T) {
	w := newWorld(t, nil)
	for _, tc := range []struct{ body, want string }{
		{`{"allowfrom":["[::1]/128","10.1.2.3/8"]}`, `["::1/128","10.0.0.0/8"]`},
		{`{"AllowFrom":["192.0.2.0/24"]}`, `["192.0.2.0/24"]`}, // old goacmedns
		{`{"allowfrom":[]}`, `[]`},
		{`{}`, `[]`},
		{` `, `[]`},
	} {
		r := w.do("POST", "/register", tc.body, nil)
		if r.code != 201 || !strings.HasSuffix(r.body, `"allowfrom":`+tc.want+`}`) {
			t.Errorf("%s: %d %s, want allowfrom %s", tc.body, r.code, r.body, tc.want)
		}
	}
}

func TestRegisterErrors(t *testing.T) {
	w := newWorld(t, nil)
	for _, tc := range []struct{ body, code string }{
		{`{"allowfrom":["1.2.3.4"]}`, `{"error": "invalid_allowfrom_cidr"`},
		{`{"allowfrom":"10.0.0.0/8"}`, `{"error": "malformed_json_payload"`},
		{`{not json`, `{"error": "malformed_json_payload"`},
		{`[]`, `{"error": "malformed_json_payload"`},
	} {
		r := w.do("POST", "/register", tc.body, nil)
		if r.code != 400 || !strings.HasPrefix(r.body, tc.code) {
			t.Errorf("%s: %d %s, want 400 %s", tc.body, r.code, r.body, tc.code)
		}
	}
}

// As acme-dns's /update (pkg/api/update.go): update, case-insensitive keys,
// reply with the space.
func TestUpdate(t *testing.T) {
	w := newWorld(t, nil)
	a := w.register("")
	r := w.update(a, digest)
	if r.code != 200 || r.body != `{"txt": "`+digest+`"}` {
		t.Fatalf("update: %d %q", r.code, r.body)
	}
	r = w.do("POST", "/update", `{"SubDomain":"`+a.Subdomain+`","Txt":"`+strings.Repeat("b", 43)+`","extra":1}`, a.hdr())
	if r.code != 200 {
		t.Fatalf("capitalised keys: %d %s", r.code, r.body)
	}
	// Upper-case user is accepted (google/uuid).
	h := a.hdr()
	h["X-Api-User"] = strings.ToUpper(a.Username)
	if r := w.do("POST", "/update", `{"subdomain":"`+a.Subdomain+`","txt":"`+strings.Repeat("c", 43)+`"}`, h); r.code != 200 {
		t.Fatalf("upper-case user: %d %s", r.code, r.body)
	}
	txt, _ := w.view.Lookup(a.Subdomain)
	if len(txt) != 3 {
		t.Fatalf("view has %v, want three live values", txt)
	}
}

func TestUpdateForbidden(t *testing.T) {
	w := newWorld(t, nil)
	a := w.register("")
	b := w.register("")
	good := `{"subdomain":"` + a.Subdomain + `","txt":"` + digest + `"}`
	for name, tc := range map[string]struct {
		body string
		hdr  map[string]string
	}{
		"no headers":         {good, nil},
		"bad user":           {good, map[string]string{"X-Api-User": "nope", "X-Api-Key": a.Password}},
		"short key":          {good, map[string]string{"X-Api-User": a.Username, "X-Api-Key": a.Password[:39]}},
		"wrong key":          {good, map[string]string{"X-Api-User": a.Username, "X-Api-Key": b.Password}},
		"unknown user":       {good, map[string]string{"X-Api-User": "4d6a6a8e-9c0a-4b3e-8f1a-2b3c4d5e6f70", "X-Api-Key": a.Password}},
		"malformed json":     {`{"subdomain":`, a.hdr()},
		"empty body":         {``, a.hdr()},
		"other subdomain":    {`{"subdomain":"` + b.Subdomain + `","txt":"` + digest + `"}`, a.hdr()},
		"subdomain upper":    {`{"subdomain":"` + strings.ToUpper(a.Subdomain) + `","txt":"` + digest + `"}`, a.hdr()},
		"subdomain a number": {`{"subdomain":1,"txt":"` + digest + `"}`, a.hdr()},
	} {
		r := w.do("POST", "/update", tc.body, tc.hdr)
		if r.code != 401 || r.body != `{"error": "forbidden"}` {
			t.Errorf("%s: %d %s, want 401 forbidden", name, r.code, r.body)
		}
	}
}

func TestUpdateBadTXT(t *testing.T) {
	w := newWorld(t, nil)
	a := w.register("")
	for _, txt := range []string{`"` + digest[:42] + `"`, `"` + digest[:42] + `."`, `12345`, `""`} {
		r := w.do("POST", "/update", `{"subdomain":"`+a.Subdomain+`","txt":`+txt+`}`, a.hdr())
		if r.code != 400 || !strings.HasPrefix(r.body, `{"error": "bad_txt"`) {
			t.Errorf("txt %s: %d %s, want 400 bad_txt", txt, r.code, r.body)
		}
	}
}

func TestMethodNotAllowedAndNotFound(t *testing.T) {
	w := newWorld(t, nil)
	for _, tc := range []struct{ method, path string }{{"GET", "/register"}, {"GET", "/update"}, {"HEAD", "/health"}, {"POST", "/health"}} {
		r := w.do(tc.method, tc.path, "", nil)
		if r.code != 405 || !strings.HasPrefix(r.hdr.Get("Content-Type"), "text/plain") {
			t.Errorf("%s %s: %d %q", tc.method, tc.path, r.code, r.hdr.Get("Content-Type"))
		}
	}
	if r := w.do("GET", "/nope", "", nil); r.code != 404 {
		t.Errorf("unknown path: %d", r.code)
	}
}

func TestHealth(t *testing.T) {
	w := newWorld(t, nil)
	r := w.do("GET", "/health", "", nil)
	if r.code != 200 || r.body != "" {
		t.Fatalf("health: %d %q", r.code, r.body)
	}
}

// Many live values per subdomain, each expiring; a same-value update
// refreshes; the limit keeps the newest.
func TestManyValuesExpire(t *testing.T) {
	w := newWorld(t, func(c *Config) { c.TXTLimit = 5; c.TXTLifetime = time.Minute })
	a := w.register("")
	for i := range 7 {
		w.clock.Add(time.Second)
		if r := w.update(a, strings.Repeat(string(rune('a'+i)), 43)); r.code != 200 {
			t.Fatal(r.body)
		}
	}
	txt, _ := w.view.Lookup(a.Subdomain)
	if len(txt) != 5 || txt[0] != strings.Repeat("g", 43) || txt[4] != strings.Repeat("c", 43) {
		t.Fatalf("after 7 updates with limit 5: %v, want g to c (newest first)", txt)
	}
	subs, err := w.store.Subdomains(context.Background(), []string{a.Subdomain}, w.clock.Now())
	if err != nil || len(subs[a.Subdomain]) != 5 {
		t.Fatalf("store: %v %v", subs, err)
	}
	w.clock.Add(55 * time.Second)
	w.update(a, strings.Repeat("c", 43)) // refresh c
	w.clock.Add(10 * time.Second)
	if txt, _ := w.view.Lookup(a.Subdomain); len(txt) != 1 || txt[0] != strings.Repeat("c", 43) {
		t.Fatalf("after expiry: %v, want only the refreshed value", txt)
	}
}

func TestDeleteDeregisterRotateAllowFrom(t *testing.T) {
	w := newWorld(t, nil)
	a := w.register("")
	w.update(a, digest)
	w.update(a, strings.Repeat("z", 43))
	r := w.do("POST", "/delete", `{"subdomain":"`+a.Subdomain+`","txt":"`+digest+`"}`, a.hdr())
	if r.code != 200 || r.body != `{"deleted":1}` {
		t.Fatalf("delete: %d %s", r.code, r.body)
	}
	if txt, _ := w.view.Lookup(a.Subdomain); len(txt) != 1 {
		t.Fatalf("after delete: %v", txt)
	}
	r = w.do("POST", "/delete", `{"subdomain":"`+a.Subdomain+`"}`, a.hdr())
	if r.code != 200 || r.body != `{"deleted":1}` {
		t.Fatalf("delete all: %d %s", r.code, r.body)
	}

	r = w.do("POST", "/rotate", "", a.hdr())
	if r.code != 200 {
		t.Fatalf("rotate: %d %s", r.code, r.body)
	}
	var b account
	json.Unmarshal([]byte(r.body), &b)
	if b.Username != a.Username || b.Subdomain != a.Subdomain || b.Password == a.Password || len(b.Password) != 40 {
		t.Fatalf("rotate reply %s", r.body)
	}
	if r := w.update(a, digest); r.code != 401 {
		t.Fatalf("old key still works: %d", r.code)
	}
	if r := w.update(b, digest); r.code != 200 {
		t.Fatalf("new key: %d %s", r.code, r.body)
	}

	r = w.do("POST", "/allowfrom", `{"allowfrom":["192.0.2.0/24"]}`, b.hdr())
	if r.code != 200 || r.body != `{"allowfrom":["192.0.2.0/24"]}` {
		t.Fatalf("allowfrom: %d %s", r.code, r.body)
	}
	if r := w.update(b, digest); r.code != 401 {
		t.Fatalf("update from outside allowfrom: %d", r.code)
	}
	w2 := newWorldOn(t, w.store, nil) // fresh limiter; same store
	if r := w2.do("POST", "/allowfrom", `{"allowfrom":[]}`, b.hdr()); r.code != 401 {
		t.Fatalf("allowfrom change from outside allowfrom: %d", r.code)
	}
	w.store.SetAllowFrom(context.Background(), b.Username, nil)
	if r := w2.do("POST", "/deregister", "", b.hdr()); r.code != 200 {
		t.Fatalf("deregister: %d %s", r.code, r.body)
	}
	if _, err := w.store.Account(context.Background(), b.Username); err != store.ErrNotFound {
		t.Fatalf("account still stored: %v", err)
	}
	if _, ok := w2.view.Lookup(b.Subdomain); ok {
		t.Fatal("subdomain still in view")
	}
}

func TestRegistrationModes(t *testing.T) {
	closed := newWorld(t, func(c *Config) { c.Registration = "" })
	if r := closed.do("POST", "/register", "", nil); r.code != 403 || !strings.Contains(r.body, "registration_closed") {
		t.Fatalf("closed: %d %s", r.code, r.body)
	}
	tok := newWorld(t, func(c *Config) { c.Registration = RegistrationToken; c.AdminToken = "s3cret-admin-token" })
	if r := tok.do("POST", "/register", "", nil); r.code != 401 || strings.Contains(r.body, "s3cret") {
		t.Fatalf("no token: %d %s", r.code, r.body)
	}
	for _, h := range []map[string]string{
		{"Authorization": "Bearer s3cret-admin-token"},
		{"X-Admin-Token": "s3cret-admin-token"},
		{"Authorization": "Basic dXNlcjpzM2NyZXQtYWRtaW4tdG9rZW4="}, // user:s3cret-admin-token
	} {
		if r := tok.do("POST", "/register", "", h); r.code != 201 {
			t.Fatalf("token %v: %d %s", h, r.code, r.body)
		}
	}
}

func TestRegisterRateLimit(t *testing.T) {
	w := newWorld(t, func(c *Config) { c.RegisterRate = 0.001; c.RegisterBurst = 2 })
	w.register("")
	w.register("")
	if r := w.do("POST", "/register", "", nil); r.code != 429 || r.hdr.Get("Retry-After") == "" {
		t.Fatalf("third register: %d", r.code)
	}
}

func TestFailedAuthRateLimit(t *testing.T) {
	w := newWorld(t, func(c *Config) { c.AuthFailRate = 0.001; c.AuthFailBurst = 3 })
	a := w.register("")
	bad := map[string]string{"X-Api-User": a.Username, "X-Api-Key": strings.Repeat("x", 40)}
	for range 3 {
		if r := w.do("POST", "/update", `{}`, bad); r.code != 401 {
			t.Fatalf("want 401, got %d", r.code)
		}
	}
	if r := w.update(a, digest); r.code != 429 {
		t.Fatalf("after 3 failures even a good key gets %d, want 429", r.code)
	}
	w.clock.Add(time.Hour)
	if r := w.update(a, digest); r.code != 200 {
		t.Fatalf("after the limit refills: %d", r.code)
	}
}

func TestBodyLimit(t *testing.T) {
	w := newWorld(t, nil)
	r := w.do("POST", "/register", `{"allowfrom":["`+strings.Repeat("1", 20000)+`"]}`, nil)
	if r.code != 413 {
		t.Fatalf("big body: %d %s", r.code, r.body)
	}
}

// The rightmost untrusted X-Forwarded-For hop is the client (acme-dns lets
// any entry match: AllowedFromList in its pkg/acmedns/acmetxt.go).
func TestClientIPTrustedProxies(t *testing.T) {
	a := New(Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8")}}, nil, view.New(nil))
	for _, tc := range []struct{ remote, xff, want string }{
		{"127.0.0.1:1000", "10.9.9.9, 203.0.113.7", "203.0.113.7"}, // spoofed allowed entry on the left is ignored
		{"127.0.0.1:1000", "203.0.113.7, 10.1.1.1", "203.0.113.7"}, // trusted inner proxy skipped
		{"127.0.0.1:1000", "", "127.0.0.1"},
		{"127.0.0.1:1000", "10.1.1.1", "10.1.1.1"}, // all trusted: leftmost
		{"127.0.0.1:1000", "garbage, 203.0.113.7", "203.0.113.7"},
		{"127.0.0.1:1000", "203.0.113.7, garbage", "invalid IP"},
		{"[2001:db8::1]:1000", "10.9.9.9", "2001:db8::1"}, // untrusted peer: header ignored
		{"127.0.0.1:1000", "[2001:db8::2]:443", "2001:db8::2"},
	} {
		r := httptest.NewRequest("POST", "/update", nil)
		r.RemoteAddr = tc.remote
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		if got := a.clientIP(r).String(); got != tc.want {
			t.Errorf("%s with %q: %s, want %s", tc.remote, tc.xff, got, tc.want)
		}
	}
}

// The store is down: the API answers 503, DNS data stays in the view.
func TestStoreUnavailable(t *testing.T) {
	st, err := store.OpenSQLite(context.Background(), t.TempDir()+"/db.sqlite")
	if err != nil {
		t.Fatal(err)
	}
	w := newWorldOn(t, st, nil)
	a := w.register("")
	w.update(a, digest)
	st.Close()
	if r := w.do("GET", "/health", "", nil); r.code != 503 {
		t.Fatalf("health: %d", r.code)
	}
	if r := w.update(a, strings.Repeat("q", 43)); r.code != 503 || !strings.HasPrefix(r.body, `{"error": "db_error", "detail": `) {
		t.Fatalf("update: %d %s", r.code, r.body)
	}
	if r := w.do("POST", "/register", "", nil); r.code != 503 {
		t.Fatalf("register: %d %s", r.code, r.body)
	}
	if txt, _ := w.view.Lookup(a.Subdomain); len(txt) != 1 {
		t.Fatalf("view lost its data: %v", txt)
	}
}

// AD03: a test value gets bad_txt with the rule that failed.
func TestCase_AD03(t *testing.T) {
	w := newWorld(t, nil)
	a := w.register("")
	r := w.update(a, "test-value")
	if r.code != 400 || !strings.HasPrefix(r.body, `{"error": "bad_txt", "detail": "txt must be exactly 43 characters`) || !strings.Contains(r.body, "got 10") {
		t.Fatalf("%d %s", r.code, r.body)
	}
	r = w.update(a, digest[:42]+"=")
	if r.code != 400 || !strings.Contains(r.body, `character 43 is '='`) {
		t.Fatalf("%d %s", r.code, r.body)
	}
}

// AD04: [""] is rejected with the bad entry named; [] and no field work.
func TestCase_AD04(t *testing.T) {
	w := newWorld(t, nil)
	r := w.do("POST", "/register", `{"allowfrom":[""]}`, nil)
	if r.code != 400 || !strings.HasPrefix(r.body, `{"error": "invalid_allowfrom_cidr", "detail": "allowfrom[0] \"\" is not a CIDR`) {
		t.Fatalf("%d %s", r.code, r.body)
	}
	r = w.do("POST", "/register", `{"allowfrom":["192.0.2.0/24","bogus"]}`, nil)
	if r.code != 400 || !strings.Contains(r.body, `allowfrom[1] \"bogus\"`) {
		t.Fatalf("%d %s", r.code, r.body)
	}
	w.register(`{"allowfrom":[]}`)
	w.register(``)
}

// TestDummyHashIsTheDummyKeyAtTheDefaultCost pins the written-out hash an
// unknown user's key is compared with: it must be dummyKey's and cost
// what a known user's default hash costs, or refusing unknown users would
// take measurably less time than refusing known ones.
func TestDummyHashIsTheDummyKeyAtTheDefaultCost(t *testing.T) {
	if cost, err := bcrypt.Cost([]byte(dummyHash)); err != nil || cost != DefaultBcryptCost {
		t.Fatalf("dummyHash cost = %d, %v; want %d", cost, err, DefaultBcryptCost)
	}
	if err := bcrypt.CompareHashAndPassword([]byte(dummyHash), []byte(dummyKey)); err != nil {
		t.Fatalf("dummyHash is not dummyKey's hash: %v", err)
	}
}
