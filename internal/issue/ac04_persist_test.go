package issue

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/strictacme/strictacme/internal/challenge"
	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/testworld"
)

// withoutChallenge puts a reverse proxy in front of the world's CA that
// removes challenges of type drop from every authorization it returns: a
// CA that does not offer that type. The proxy keeps the Host header, so
// Pebble builds every URL (directory, nonces, JWS "url") for the proxy.
func withoutChallenge(t *testing.T, w *testworld.World, drop challenge.Type) fixtureOpt {
	t.Helper()
	target, err := url.Parse(w.DirectoryURL)
	if err != nil {
		t.Fatal(err)
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(&url.URL{Scheme: target.Scheme, Host: target.Host})
			pr.Out.Host = pr.In.Host
		},
		Transport:      w.HTTPClient().Transport,
		ModifyResponse: func(resp *http.Response) error { return stripChallenges(resp, string(drop)) },
	}
	srv := httptest.NewTLSServer(rp)
	t.Cleanup(srv.Close)
	dir := srv.URL + target.Path
	return func(_ *fixture, c *Config) {
		c.Directory = dir
		c.HTTPClient = srv.Client()
	}
}

func stripChallenges(resp *http.Response, drop string) error {
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		return nil
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(body, &obj) == nil && obj["challenges"] != nil {
		var chals []map[string]any
		if err := json.Unmarshal(obj["challenges"], &chals); err != nil {
			return err
		}
		kept := chals[:0]
		for _, c := range chals {
			if c["type"] != drop {
				kept = append(kept, c)
			}
		}
		if obj["challenges"], err = json.Marshal(kept); err != nil {
			return err
		}
		if body, err = json.Marshal(obj); err != nil {
			return err
		}
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return nil
}

// TestCase_AC04: dns-persist-01 requested but the CA does not offer it.
// Alone, the order stops with a message that names what the CA offers and
// how to allow a fallback, exit code CA, and no record is checked or
// written. With "dns-persist-01,dns-01" the order falls back to dns-01.
func TestCase_AC04(t *testing.T) {
	w := testworld.Start(t)
	checker := &countingChecker{}
	f := newFixture(t, w, withoutChallenge(t, w, challenge.DNSPersist01), func(_ *fixture, c *Config) { c.Persist = checker })

	w.API.ResetCounts()
	_, err := f.obtainWith(t, []challenge.Type{challenge.DNSPersist01}, "ac04.example.com")
	if err == nil {
		t.Fatal("Obtain succeeded although the CA does not offer dns-persist-01")
	}
	if exitcode.Of(err) != exitcode.CA {
		t.Errorf("exit code %d, want %d (CA)", exitcode.Of(err), exitcode.CA)
	}
	msg := err.Error()
	for _, want := range []string{"does not offer dns-persist-01 for ac04.example.com", "it offers:", "dns-01", "--challenge dns-persist-01,dns-01"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "offers: dns-persist-01") || strings.Contains(msg, ", dns-persist-01") {
		t.Errorf("the proxy did not strip the challenge: %q", msg)
	}
	if checker.calls() != 0 {
		t.Errorf("persistent record checked %d time(s) although the CA does not offer dns-persist-01", checker.calls())
	}
	if w.API.Writes() != 0 {
		t.Errorf("provider writes = %d, want 0", w.API.Writes())
	}

	res, err := f.obtainWith(t, []challenge.Type{challenge.DNSPersist01, challenge.DNS01}, "ac04.example.com")
	if err != nil {
		t.Fatalf("with fallback allowed: %v", err)
	}
	if len(res.Records) != 1 || res.Records[0].Type != challenge.DNS01 {
		t.Errorf("records = %+v, want one dns-01", res.Records)
	}
	if checker.calls() != 0 {
		t.Errorf("persistent record checked %d time(s) on the fallback path", checker.calls())
	}
	if w.API.Writes() != 2 { // dns-01: one write, one clean-up
		t.Errorf("provider writes = %d, want 2", w.API.Writes())
	}
}
