package apiclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// refusal is a provider's error as Refuse makes it.
type refusal struct {
	status  int
	retryAt time.Time
}

func (r *refusal) Error() string { return fmt.Sprintf("refused %d", r.status) }

// script answers each request with the next status (and headers), then 200.
func script(t *testing.T, answers ...func(http.ResponseWriter)) (*httptest.Server, *int) {
	t.Helper()
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Token") != "s3cret" || r.Header.Get("Accept") != "application/json" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if n < len(answers) {
			answers[n](w)
		} else {
			_, _ = w.Write([]byte(`{"ok":true}`))
		}
		n++
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func status(code int, hdr ...string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		for i := 0; i < len(hdr); i += 2 {
			w.Header().Set(hdr[i], hdr[i+1])
		}
		w.WriteHeader(code)
	}
}

func newClient(srv *httptest.Server, slept *[]time.Duration, now time.Time) *Client {
	return &Client{
		Name:   "test",
		Secret: "s3cret",
		HTTP:   srv.Client(),
		Sign:   func(r *http.Request) { r.Header.Set("X-Token", "s3cret") },
		Refuse: func(op string, st int, body []byte, retryAt time.Time) (error, bool) {
			return &refusal{st, retryAt}, st == http.StatusConflict
		},
		ResetHeader: "RateLimit-Reset",
		MaxWait:     time.Minute,
		Attempts:    3,
		MaxBody:     1 << 20,
		Sleep:       func(_ context.Context, d time.Duration) error { *slept = append(*slept, d); return nil },
		Now:         func() time.Time { return now },
	}
}

func TestDoWaitsAsAskedAndRetriesWhatMayPass(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	for _, tc := range []struct {
		name    string
		answers []func(http.ResponseWriter)
		slept   []time.Duration
		wantErr int // status of the refusal returned; 0: success
	}{
		{"429 with Retry-After is waited out", []func(http.ResponseWriter){status(429, "Retry-After", "7")}, []time.Duration{7 * time.Second}, 0},
		{"429 without Retry-After waits for RateLimit-Reset", []func(http.ResponseWriter){status(429, "RateLimit-Reset", fmt.Sprint(now.Unix()+20))}, []time.Duration{20 * time.Second}, 0},
		{"429 with a reset in the past waits a second", []func(http.ResponseWriter){status(429, "RateLimit-Reset", fmt.Sprint(now.Unix()-5))}, []time.Duration{time.Second}, 0},
		{"429 asking longer than MaxWait ends the call", []func(http.ResponseWriter){status(429, "Retry-After", "3600")}, nil, 429},
		{"5xx is retried after 2 s then 4 s", []func(http.ResponseWriter){status(502), status(503)}, []time.Duration{2 * time.Second, 4 * time.Second}, 0},
		{"a refusal the provider calls transient is retried", []func(http.ResponseWriter){status(409)}, []time.Duration{2 * time.Second}, 0},
		{"after Attempts tries the last refusal is the answer", []func(http.ResponseWriter){status(500), status(500), status(503)}, []time.Duration{2 * time.Second, 4 * time.Second}, 503},
		{"any other refusal ends the call at once", []func(http.ResponseWriter){status(404)}, nil, 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := script(t, tc.answers...)
			var slept []time.Duration
			c := newClient(srv, &slept, now)
			b, _, err := c.Do(context.Background(), Request{Op: "op", Method: http.MethodGet, URL: srv.URL})
			if fmt.Sprint(slept) != fmt.Sprint(tc.slept) {
				t.Errorf("slept %v, want %v", slept, tc.slept)
			}
			var r *refusal
			switch {
			case tc.wantErr == 0 && (err != nil || string(b) != `{"ok":true}`):
				t.Errorf("got %q, %v; want the 200 answer", b, err)
			case tc.wantErr != 0 && (!errors.As(err, &r) || r.status != tc.wantErr):
				t.Errorf("got %v; want the %d refusal", err, tc.wantErr)
			case r != nil && r.status == 429 && !r.retryAt.Equal(now.Add(time.Hour)):
				t.Errorf("refusal's retryAt %v, want Retry-After's %v", r.retryAt, now.Add(time.Hour))
			}
		})
	}
}

func TestDoKeepsTheSecretOutOfTransportErrors(t *testing.T) {
	var slept []time.Duration
	srv, _ := script(t)
	c := newClient(srv, &slept, time.Now())
	srv.Close()
	_, _, err := c.Do(context.Background(), Request{Op: "listing", Method: http.MethodGet, URL: srv.URL + "/s3cret/zones"})
	if err == nil || strings.Contains(err.Error(), "s3cret") || !strings.HasPrefix(err.Error(), "test: listing: ") {
		t.Errorf("got %v; want a transport error naming the call, without the secret", err)
	}
}

// An API URL is https anywhere, plain http only to a loopback test
// server, and never carries credentials, a query (a token there would be
// echoed and the API path appended after it), a fragment, a port out of
// range or space around it; the error says what to give and does not
// quote the URL (its caller does, redacted).
func TestBaseURLForms(t *testing.T) {
	for _, tt := range []struct {
		in, want string // want: "" accepted, else a piece of the error
	}{
		{"https://api.example/v1/", ""},
		{" https://api.example ", "space before or after the URL"},
		{"https://api.example\n", "space before or after the URL"},
		{"https://api.example:443/v1", ""},
		{"https://api.example:65535/", ""},
		{"https://api.example:0/", "want a port from 1 to 65535"},
		{"https://api.example:99999/", "want a port from 1 to 65535"},
		{"https://api.example:/", "empty port"},
		{"https://api.example/x?token=qsecret123", "no query or fragment; give credentials as the provider's secret settings"},
		{"https://api.example/x?", "no query or fragment"},
		{"https://api.example/x#frag", "no query or fragment"},
		{"https://user:s3cretpw@127.0.0.1:1/x?token=qsecret123#frag", "credentials in the URL"},
		{"http://127.0.0.1:8080/v1/", ""},
		{"http://[::1]:8080/", ""},
		{"http://localhost:1/x", ""},
		{"http://api.example/v1/", "plain http; use https"},
		{"http://10.0.0.1/", "plain http; use https"},
		{"https://user:s3cretpw@api.example/", "credentials in the URL"},
		{"https://token@api.example/", "credentials in the URL"},
		{"api.example", "want the API's URL, e.g. https://default.example"},
		{"ftp://api.example/", "want the API's URL"},
		{"", "want the API's URL"},
	} {
		_, err := ParseBaseURL(tt.in, "https://default.example")
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%q: %v", tt.in, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%q: %v; want %q", tt.in, err, tt.want)
		case err != nil && (strings.Contains(err.Error(), "s3cretpw") || strings.Contains(err.Error(), "qsecret123") || strings.Contains(err.Error(), "api.example")):
			t.Errorf("%q: the error quotes the URL: %v", tt.in, err)
		}
	}
}
