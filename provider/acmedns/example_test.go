package acmedns_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/libdns/libdns"

	"github.com/strictacme/strictacme/provider/acmedns"
)

// A Provider is ready from its zero value with credentials (or a
// credentials file). Here it talks to a fake acme-dns on 127.0.0.1 that
// answers POST /update as acme-dns does: 200 with the value for the
// account's own subdomain, 401 "forbidden" otherwise.
func Example() {
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Subdomain, Txt string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		if r.URL.Path != "/update" || r.Header.Get("X-Api-User") != "u1" || r.Header.Get("X-Api-Key") != "p1" || body.Subdomain != "d420c923" {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":"forbidden"}`)
			return
		}
		fmt.Printf("acme-dns: %s TXT %s\n", body.Subdomain, body.Txt)
		fmt.Fprintf(w, `{"txt":%q}`, body.Txt)
	}))
	defer fake.Close()

	p := &acmedns.Provider{
		ServerURL: fake.URL,
		Credentials: acmedns.Credentials{"example.com": {
			Username: "u1", Password: "p1", SubDomain: "d420c923", FullDomain: "d420c923.auth.example.org",
		}},
	}
	rec := libdns.TXT{Name: "_acme-challenge", Text: "kPYxnB3V4uQ4Ah7v0pE9ysDsVCeQXVPkMVNcb3Y4bFM"}
	if _, err := p.AppendRecords(context.Background(), "example.com.", []libdns.Record{rec}); err != nil {
		fmt.Println(err)
	}
	// A name without an account is refused before anything is sent.
	other := libdns.TXT{Name: "_acme-challenge", Text: "x"}
	_, err := p.AppendRecords(context.Background(), "example.net.", []libdns.Record{other})
	fmt.Println(err)
	// Output:
	// acme-dns: d420c923 TXT kPYxnB3V4uQ4Ah7v0pE9ysDsVCeQXVPkMVNcb3Y4bFM
	// acmedns: no account for this name: _acme-challenge.example.net. (add an account for example.net to Credentials; Register creates one)
}
