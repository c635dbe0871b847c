package desectest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func call(t *testing.T, s *Server, method, path, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, strings.TrimSuffix(s.URL(), "/api/v1/")+path, bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Token "+s.Token())
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(res.Body)
	return res, b.String()
}

// The fake behaves as deSEC documents: a collection larger than a page
// without ?cursor= is refused; a PATCH that leaves out the TTL keeps the
// RRset's; a bulk with one bad RRset writes nothing and answers one error
// object per RRset; records come back in canonical form.
func TestFakeFollowsTheDocumentedSemantics(t *testing.T) {
	s := NewServer(Options{PageSize: 1})
	defer s.Close()
	s.AddDomain("example.com", RRset{Subname: "a", Type: "TXT", TTL: 7200, Records: []string{"unquoted"}})
	s.AddDomain("example.net")
	if res, body := call(t, s, "GET", "/api/v1/domains/", ""); res.StatusCode != 400 || !strings.Contains(body, "Pagination required") {
		t.Errorf("list without cursor: %d %s", res.StatusCode, body)
	}
	res, body := call(t, s, "GET", "/api/v1/domains/?cursor=", "")
	if res.StatusCode != 200 || !strings.Contains(res.Header.Get("Link"), `rel="next"`) || !strings.Contains(body, "example.com") {
		t.Errorf("first page: %d %s %s", res.StatusCode, res.Header.Get("Link"), body)
	}
	if r, _ := s.RRset("example.com", "a", "TXT"); r.Records[0] != `"unquoted"` {
		t.Errorf("stored %q", r.Records)
	}
	res, body = call(t, s, "PATCH", "/api/v1/domains/example.com/rrsets/", `[{"subname":"a","type":"TXT","records":["\"x\""]}]`)
	if r, _ := s.RRset("example.com", "a", "TXT"); res.StatusCode != 200 || r.TTL != 7200 {
		t.Errorf("PATCH without ttl: %d %s; TTL %d", res.StatusCode, body, r.TTL)
	}
	res, body = call(t, s, "PATCH", "/api/v1/domains/example.com/rrsets/", `[{"subname":"b","type":"TXT","ttl":3600,"records":["\"b\""]},{"subname":"c","type":"TXT","ttl":60,"records":["\"c\""]}]`)
	var errs []map[string][]string
	if res.StatusCode != 400 || json.Unmarshal([]byte(body), &errs) != nil || len(errs) != 2 || len(errs[0]) != 0 || len(errs[1]["ttl"]) != 1 {
		t.Errorf("bad bulk: %d %s", res.StatusCode, body)
	}
	if _, ok := s.RRset("example.com", "b", "TXT"); ok {
		t.Error("half of a refused bulk was written")
	}
	res, _ = call(t, s, "PATCH", "/api/v1/domains/example.com/rrsets/", `[{"subname":"a","type":"TXT","records":[]}]`)
	if _, ok := s.RRset("example.com", "a", "TXT"); res.StatusCode != 200 || ok {
		t.Errorf("empty records did not delete: %d", res.StatusCode)
	}
	s.Throttle(1, 1500*1e6)
	if res, _ := call(t, s, "GET", "/api/v1/domains/example.com/", ""); res.StatusCode != 429 || res.Header.Get("Retry-After") != "2" {
		t.Errorf("throttled: %d Retry-After %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
}
