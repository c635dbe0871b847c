package preflight

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/store"
)

const directoryJSON = `{"newNonce":"https://ca/nonce","newAccount":"https://ca/acct","newOrder":"https://ca/order",
"meta":{"termsOfService":"https://ca/tos","caaIdentities":["ca.example"],"profiles":{"tlsserver":"x","classic":"y"}}}`

func directoryServer(t *testing.T, status int, body string) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the untrusted case logs a handshake error
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func TestDirectory(t *testing.T) {
	srv := directoryServer(t, 200, directoryJSON)
	row, dir := Directory(context.Background(), srv.Client(), srv.URL+"/dir", "test")
	if row.Status != OK || dir == nil || !strings.Contains(row.Detail, "caaIdentities ca.example") || !strings.Contains(row.Detail, "profiles classic, tlsserver") {
		t.Fatalf("%+v", row)
	}
}

// A certificate the client does not trust is a TLS interception or a
// private CA: the row names --ca-cert.
func TestDirectoryUntrusted(t *testing.T) {
	srv := directoryServer(t, 200, directoryJSON)
	client := &http.Client{Transport: &http.Transport{}} // system roots only
	row, dir := Directory(context.Background(), client, srv.URL+"/dir", "test")
	if row.Status != Fail || row.Code != exitcode.Unreachable || dir != nil || !strings.Contains(row.Detail, "--ca-cert") {
		t.Fatalf("%+v", row)
	}
}

func TestDirectoryNotACME(t *testing.T) {
	for _, c := range []struct {
		status int
		body   string
		want   string
	}{
		{404, "not found", "HTTP 404"},
		{200, "<html>proxy login</html>", "not an ACME directory"},
		{200, `{"foo":"bar"}`, "not an ACME directory"},
	} {
		srv := directoryServer(t, c.status, c.body)
		row, _ := Directory(context.Background(), srv.Client(), srv.URL+"/dir", "test")
		if row.Status != Fail || row.Code != exitcode.CA || !strings.Contains(row.Detail, c.want) {
			t.Errorf("%d %q: %+v", c.status, c.body, row)
		}
	}
}

func TestAccount(t *testing.T) {
	dirURL := "https://ca.test/dir"
	state := t.TempDir()
	dir := &Dir{}
	dir.Meta.TermsOfService = "https://ca/tos"

	row, _ := Account(state, dirURL, dir, false, false)
	if row.Status != Warn || !strings.Contains(row.Detail, "--accept-tos") || !strings.Contains(row.Detail, "first issue") {
		t.Errorf("no account, no --accept-tos: %+v", row)
	}
	if row, _ := Account(state, dirURL, dir, true, false); row.Status != OK {
		t.Errorf("no account, --accept-tos: %+v", row)
	}
	eab := &Dir{}
	eab.Meta.ExternalAccountRequired = true
	if row, _ := Account(state, dirURL, eab, true, false); row.Status != Fail || row.Code != exitcode.Usage || !strings.Contains(row.Detail, "--eab-kid") {
		t.Errorf("EAB required: %+v", row)
	}

	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	st, err := store.Open(state)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SaveAccount("", &store.Account{URL: "https://ca.test/acct/7", Directory: dirURL, Created: time.Now(), Key: key}); err != nil {
		t.Fatal(err)
	}
	row, url := Account(state, dirURL, dir, false, false)
	if row.Status != OK || url != "https://ca.test/acct/7" {
		t.Errorf("stored: %+v %q", row, url)
	}
	// Another CA's account does not count.
	if row, _ := Account(state, "https://other.test/dir", dir, false, false); row.Status != Warn {
		t.Errorf("other CA: %+v", row)
	}
}
