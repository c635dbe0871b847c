package acmedns

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/libdns/libdns"
	"golang.org/x/crypto/bcrypt"

	"github.com/strictacme/strictacme/internal/challengeserver/api"
	"github.com/strictacme/strictacme/internal/challengeserver/store"
	"github.com/strictacme/strictacme/internal/challengeserver/view"
	"github.com/strictacme/strictacme/internal/version"
)

const digest = "LHDhK3oGRvkiefQnx7OOczTY5Tic_xZ6HcMOc_gmtoM"

// server runs the challenge server's API on loopback.
func server(t *testing.T, cfg api.Config) (*httptest.Server, *view.View) {
	st, err := store.OpenSQLite(context.Background(), ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	v := view.New(nil)
	cfg.Domain = "auth.example.org"
	cfg.BcryptCost = bcrypt.MinCost
	if cfg.Registration == "" {
		cfg.Registration = api.RegistrationOpen
	}
	srv := httptest.NewServer(api.New(cfg, st, v).Handler())
	t.Cleanup(srv.Close)
	return srv, v
}

func TestRegisterAppendDelete(t *testing.T) {
	srv, v := server(t, api.Config{})
	ctx := context.Background()
	acc, err := Register(ctx, srv.URL, RegisterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if acc.ServerURL != srv.URL || !strings.HasSuffix(acc.FullDomain, ".auth.example.org") {
		t.Fatalf("%+v", acc)
	}
	if got := acc.CNAME("*.Example.com."); got != "_acme-challenge.example.com. CNAME "+acc.FullDomain+"." {
		t.Fatal(got)
	}
	path := filepath.Join(t.TempDir(), "acmedns.json")
	c := Credentials{"example.com": acc}
	if err := c.Save(path); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode())
	}
	p := &Provider{CredentialsFile: path}
	if !p.Authoritative() {
		t.Fatal("not authoritative")
	}
	other := strings.Repeat("x", 43)
	// apex and wildcard: same challenge name, two values.
	recs := []libdns.Record{
		libdns.TXT{Name: "_acme-challenge", Text: digest},
		libdns.TXT{Name: "_acme-challenge", Text: other},
	}
	if _, err := p.AppendRecords(ctx, "example.com.", recs); err != nil {
		t.Fatal(err)
	}
	// Also addressed at the delegation target.
	if _, err := p.AppendRecords(ctx, "auth.example.org.", []libdns.Record{libdns.TXT{Name: acc.SubDomain, Text: strings.Repeat("y", 43)}}); err != nil {
		t.Fatal(err)
	}
	if txt, _ := v.Lookup(acc.SubDomain); len(txt) != 3 {
		t.Fatalf("served %v", txt)
	}
	if _, err := p.DeleteRecords(ctx, "example.com.", recs[:1]); err != nil {
		t.Fatal(err)
	}
	if txt, _ := v.Lookup(acc.SubDomain); len(txt) != 2 {
		t.Fatalf("after delete %v", txt)
	}
	_, err = p.AppendRecords(ctx, "example.net.", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: digest}})
	if !errors.Is(err, ErrNoAccount) {
		t.Fatal(err)
	}
}

// Files written by goacmedns/lego (no server_url) and pasted register replies
// (extra allowfrom, unknown keys) keep working and round-trip.
func TestLegacyCredentialsFile(t *testing.T) {
	srv, v := server(t, api.Config{})
	acc, _ := Register(context.Background(), srv.URL, RegisterOptions{})
	path := filepath.Join(t.TempDir(), "c.json")
	legacy := `{"example.org":{"fulldomain":"` + acc.FullDomain + `","subdomain":"` + acc.SubDomain + `","username":"` + acc.Username + `","password":"` + acc.Password + `","allowfrom":[],"x-note":{"keep":1}}}`
	os.WriteFile(path, []byte(legacy), 0o600)
	p := &Provider{CredentialsFile: path, ServerURL: srv.URL}
	if _, err := p.AppendRecords(context.Background(), "example.org", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: digest}}); err != nil {
		t.Fatal(err)
	}
	if txt, _ := v.Lookup(acc.SubDomain); len(txt) != 1 {
		t.Fatal(txt)
	}
	c, _ := LoadCredentials(path)
	c.Save(path)
	b, _ := os.ReadFile(path)
	if !strings.Contains(string(b), `"x-note": {`) || strings.Contains(string(b), "server_url") {
		t.Fatalf("round trip: %s", b)
	}
	os.Chmod(path, 0o644)
	if _, err := LoadCredentials(path); err == nil {
		t.Fatal("world-readable credentials accepted")
	}
	if c, err := LoadCredentials(filepath.Join(t.TempDir(), "missing.json")); err != nil || len(c) != 0 {
		t.Fatal(c, err)
	}
}

func TestDeleteOnPlainAcmeDNS(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler()) // acme-dns: no /delete
	defer srv.Close()
	p := &Provider{Credentials: Credentials{"example.com": {FullDomain: "s.auth.example.org", SubDomain: "s", Username: "u", Password: "p", ServerURL: srv.URL}}}
	if _, err := p.DeleteRecords(context.Background(), "example.com.", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: digest}}); err != nil {
		t.Fatal(err)
	}
}

func TestRegisterAdminTokenAndClosed(t *testing.T) {
	srv, _ := server(t, api.Config{Registration: api.RegistrationToken, AdminToken: "0123456789abcdef-token"})
	if _, err := Register(context.Background(), srv.URL, RegisterOptions{}); err == nil || !strings.Contains(err.Error(), "401 forbidden") {
		t.Fatal(err)
	}
	if _, err := Register(context.Background(), srv.URL, RegisterOptions{AdminToken: "0123456789abcdef-token"}); err != nil {
		t.Fatal(err)
	}
	closed, _ := server(t, api.Config{Registration: api.RegistrationClosed})
	_, err := Register(context.Background(), closed.URL+"/", RegisterOptions{})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != "registration_closed" {
		t.Fatal(err)
	}
}

// AD03: the server's error text reaches the user verbatim.
func TestCase_AD03(t *testing.T) {
	srv, _ := server(t, api.Config{})
	acc, _ := Register(context.Background(), srv.URL, RegisterOptions{})
	p := &Provider{Credentials: Credentials{"example.com": acc}}
	_, err := p.AppendRecords(context.Background(), "example.com.", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "test"}})
	if err == nil || !strings.Contains(err.Error(), "400 bad_txt: txt must be exactly 43 characters") {
		t.Fatal(err)
	}
}

// AD04: without an allow-list the client omits allowfrom (never [""]), and
// blank entries are dropped.
func TestCase_AD04(t *testing.T) {
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies = append(bodies, string(b))
		w.WriteHeader(201)
		io.WriteString(w, `{"username":"u","password":"p","fulldomain":"s.auth.example.org","subdomain":"s","allowfrom":[]}`)
	}))
	defer srv.Close()
	Register(context.Background(), srv.URL, RegisterOptions{})
	Register(context.Background(), srv.URL, RegisterOptions{AllowFrom: []string{""}})
	Register(context.Background(), srv.URL, RegisterOptions{AllowFrom: []string{" ", "192.0.2.0/24"}})
	if bodies[0] != "" || bodies[1] != "" || bodies[2] != `{"allowfrom":["192.0.2.0/24"]}` {
		t.Fatalf("%q", bodies)
	}
}

// Every call to the server (register, update, delete) names strictacme and
// its version as User-Agent, so the server's operator can tell clients apart.
func TestRequestsCarryUserAgent(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]string{}
	srv, _ := server(t, api.Config{})
	rec := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.URL.Path] = r.Header.Get("User-Agent")
		mu.Unlock()
		srv.Config.Handler.ServeHTTP(w, r)
	}))
	t.Cleanup(rec.Close)
	ctx := context.Background()
	acc, err := Register(ctx, rec.URL, RegisterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := &Provider{Credentials: Credentials{"example.com": acc}}
	recs := []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: digest}}
	if _, err := p.AppendRecords(ctx, "example.com.", recs); err != nil {
		t.Fatal(err)
	}
	if _, err := p.DeleteRecords(ctx, "example.com.", recs); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/register", "/update", "/delete"} {
		if got := seen[path]; got != version.UserAgent() || !strings.HasPrefix(got, "strictacme/") {
			t.Errorf("%s: User-Agent %q, want %q", path, got, version.UserAgent())
		}
	}
}

// Ensure registers only the domains without an account (a wildcard shares
// its base name's), saves the file after each registration, and keeps the
// accounts it finds.
func TestEnsureRegistersOnlyWhatIsMissingAndSavesAtOnce(t *testing.T) {
	srv, _ := server(t, api.Config{})
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "acmedns.json")
	existing, err := Register(ctx, srv.URL, RegisterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	creds := Credentials{"example.com": existing}
	got, err := creds.Ensure(ctx, path, srv.URL, []string{"*.example.com", "example.com", "www.example.org"}, RegisterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Domain != "example.com" || got[0].Registered || got[0].Account.Username != existing.Username ||
		got[1].Domain != "www.example.org" || !got[1].Registered {
		t.Fatalf("ensured %+v", got)
	}
	saved, err := LoadCredentials(path)
	if err != nil {
		t.Fatal(err)
	}
	if acc, ok := saved.Lookup("www.example.org"); !ok || acc.Username != got[1].Account.Username {
		t.Fatalf("saved %+v", saved)
	}

	// A file that cannot be written is a SaveError naming the account.
	_, err = creds.Ensure(ctx, filepath.Join(t.TempDir(), "missing", "dir", "acmedns.json"), srv.URL, []string{"new.example.net"}, RegisterOptions{})
	var se *SaveError
	if !errors.As(err, &se) || se.Account.Username == "" {
		t.Fatalf("unsaved registration: %v", err)
	}
}
