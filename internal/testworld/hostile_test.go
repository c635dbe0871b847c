package testworld

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// The hostile DoH endpoints misbehave exactly as documented: refused and
// reset connections fail the request, REFUSED answers everything, NOTIMP
// answers only SOA questions and the rest is resolved.
func TestHostileDoHEndpoints(t *testing.T) {
	w := Start(t)
	c := w.HTTPClient()
	c.Timeout = 2 * time.Second

	for _, k := range []DoHKind{DoHConnRefused, DoHReset} {
		u, err := w.AddDoHEndpoint(k)
		must(t, err)
		resp, err := c.Post(u, "application/dns-message", strings.NewReader("x"))
		if err == nil {
			resp.Body.Close()
			t.Errorf("%s endpoint answered HTTP %d", k, resp.StatusCode)
			continue
		}
		want := map[DoHKind]string{DoHConnRefused: "connection refused", DoHReset: "reset"}[k]
		if !strings.Contains(err.Error(), want) && !strings.Contains(err.Error(), "EOF") {
			t.Errorf("%s endpoint: %v, want %q", k, err, want)
		}
	}

	refused, err := w.AddDoHEndpoint(DoHRefused)
	must(t, err)
	if m := dohQuery(t, c, refused, http.MethodPost, question("example.com.", dns.TypeTXT)); m.Rcode != dns.RcodeRefused {
		t.Errorf("refused endpoint: %s", dns.RcodeToString[m.Rcode])
	}

	notimp, err := w.AddDoHEndpoint(DoHNotImpSOA)
	must(t, err)
	if m := dohQuery(t, c, notimp, http.MethodPost, question("example.com.", dns.TypeSOA)); m.Rcode != dns.RcodeNotImplemented {
		t.Errorf("notimp endpoint, SOA: %s", dns.RcodeToString[m.Rcode])
	}
	must(t, w.DNS.Set("example.com.", dns.TypeTXT, 60, "hello"))
	if m := dohQuery(t, c, notimp, http.MethodPost, question("example.com.", dns.TypeTXT)); m.Rcode != dns.RcodeSuccess || len(m.Answer) != 1 {
		t.Errorf("notimp endpoint, TXT: %v", m)
	}
}
