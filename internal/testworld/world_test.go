package testworld

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestStartAndClose(t *testing.T) {
	before := runtime.NumGoroutine()
	w, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := w.HTTPClient()
	resp, err := c.Get(w.DirectoryURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("directory: HTTP %d", resp.StatusCode)
	}
	dohQuery(t, c, w.DoHURL, http.MethodPost, question("example.com.", dns.TypeSOA))
	exchange(t, w.ResolverAddr, question("example.net.", dns.TypeNS))
	if _, err := w.AddDoHEndpoint(DoHHang); err != nil {
		t.Fatal(err)
	}
	c.CloseIdleConnections()
	done := make(chan error, 1)
	go func() { done <- w.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close hangs")
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := w.AddDoHEndpoint(DoHOK); err == nil {
		t.Fatal("AddDoHEndpoint after Close succeeded")
	}
	if _, err := os.Stat(w.TLSRootFile); !os.IsNotExist(err) {
		t.Errorf("TLSRootFile left behind: %v", err)
	}
	// Everything but Pebble's idle validation dispatcher stops.
	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > before+1 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before+1 {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines left running (had %d):\n%s", n-before, before, buf[:runtime.Stack(buf, true)])
	}
}

// dohQuery sends q to url by GET or POST and returns the answer.
func dohQuery(t *testing.T, c *http.Client, url, method string, q *dns.Msg) *dns.Msg {
	t.Helper()
	wire, err := q.Pack()
	if err != nil {
		t.Fatal(err)
	}
	var req *http.Request
	if method == http.MethodGet {
		req, err = http.NewRequest(method, url+"?dns="+base64.RawURLEncoding.EncodeToString(wire), nil)
	} else {
		req, err = http.NewRequest(method, url, bytes.NewReader(wire))
		req.Header.Set("Content-Type", "application/dns-message")
	}
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/dns-message")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.ProtoMajor != 2 {
		t.Errorf("%s %s: %s, want HTTP/2", method, url, resp.Proto)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/dns-message" {
		t.Fatalf("%s %s: HTTP %d %s: %s", method, url, resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	m := new(dns.Msg)
	if err := m.Unpack(body); err != nil {
		t.Fatal(err)
	}
	return m
}

func question(name string, qtype uint16) *dns.Msg {
	q := new(dns.Msg)
	q.SetQuestion(name, qtype)
	q.Id = 0 // RFC 8484 §4.1
	return q
}

func TestDoHGetAndPost(t *testing.T) {
	w := Start(t)
	if err := w.DNS.Set("www.example.com.", dns.TypeA, 60, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	c := w.HTTPClient()
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		m := dohQuery(t, c, w.DoHURL, method, question("www.example.com.", dns.TypeA))
		if m.Rcode != dns.RcodeSuccess || len(m.Answer) != 1 {
			t.Fatalf("%s: %v", method, m)
		}
		if a := m.Answer[0].(*dns.A); a.A.String() != "192.0.2.1" {
			t.Fatalf("%s: got %v", method, a)
		}
		if !m.RecursionAvailable {
			t.Errorf("%s: RA not set", method)
		}
	}
	if got := w.Recursive.QueriesFor("www.example.com.", dns.TypeA); got != 2 {
		t.Errorf("recursive saw %d queries, want 2", got)
	}
	if got := w.DNS.QueriesFor("www.example.com.", dns.TypeA); got != 1 {
		t.Errorf("authoritative saw %d queries, want 1 (second from cache)", got)
	}
}

func exchange(t *testing.T, addr string, q *dns.Msg) *dns.Msg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	m, _, err := new(dns.Client).ExchangeContext(ctx, q, addr)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func httpRequest(ctx context.Context, url string) (*http.Request, error) {
	return http.NewRequestWithContext(ctx, http.MethodGet, url+"?dns=AAABAAABAAAAAAAAB2V4YW1wbGUDY29tAAAGAAE", nil)
}

// The sandbox refuses names the world would not serve before starting it.
func TestInDefaultZones(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"example.com", true},
		{"www.Example.COM.", true},
		{"xn--bcher-kva.example", true},
		{"a.b.example.net", true},
		{"notexample.com", false},
		{"example.org", false},
		{"com", false},
	}
	for _, tt := range tests {
		if got := InDefaultZones(tt.name); got != tt.want {
			t.Errorf("InDefaultZones(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}
