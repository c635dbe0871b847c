package digitaloceantest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

func do(t *testing.T, s *Server, method, path, body string) (*http.Response, map[string]json.RawMessage) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+DefaultToken)
	res, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]json.RawMessage
	_ = json.NewDecoder(res.Body).Decode(&m)
	return res, m
}

// Lists carry links.pages.next until the last page and meta.total; every
// answer carries the rate-limit headers; past the minute's budget a 429
// with Retry-After, past the hour's one without it but with
// ratelimit-remaining 0 and the reset time.
func TestPagesAndRateLimits(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := NewServer(Options{PerMinute: 3, PerHour: 4, TLS: true, Now: func() time.Time { return now }})
	defer s.Close()
	for _, d := range []string{"a.example", "b.example", "c.example"} {
		s.AddDomain(d)
	}
	res, m := do(t, s, "GET", "/v2/domains?per_page=2", "")
	if !strings.Contains(string(m["links"]), `"next"`) || string(m["meta"]) != `{"total":3}` || res.Header.Get("Ratelimit-Remaining") != "3" {
		t.Fatalf("page 1: %s %s remaining %q", m["links"], m["meta"], res.Header.Get("Ratelimit-Remaining"))
	}
	_, m = do(t, s, "GET", "/v2/domains?per_page=2&page=2", "")
	if strings.Contains(string(m["links"]), `"next"`) {
		t.Fatalf("page 2 has a next link: %s", m["links"])
	}
	do(t, s, "GET", "/v2/domains", "")
	res, m = do(t, s, "GET", "/v2/domains", "")
	if res.StatusCode != 429 || res.Header.Get("Retry-After") != "60" || string(m["id"]) != `"too_many_requests"` {
		t.Fatalf("4th call in a minute: %d %q %s", res.StatusCode, res.Header.Get("Retry-After"), m["id"])
	}
	now = now.Add(2 * time.Minute)
	do(t, s, "GET", "/v2/domains", "")
	res, _ = do(t, s, "GET", "/v2/domains", "")
	if res.StatusCode != 429 || res.Header.Get("Retry-After") != "" || res.Header.Get("Ratelimit-Remaining") != "0" || res.Header.Get("Ratelimit-Reset") != "1767229200" {
		t.Fatalf("past the hour's quota: %d %v", res.StatusCode, res.Header)
	}
}

// One record per POST, names relative to the domain; a TTL under 30 is
// refused, duplicates are not.
func TestRecordsOneAtATime(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	s.AddDomain("example.com")
	for range 2 {
		if res, m := do(t, s, "POST", "/v2/domains/example.com/records", `{"type":"TXT","name":"_acme-challenge","data":"v","ttl":30}`); res.StatusCode != 201 {
			t.Fatalf("create: %d %s", res.StatusCode, m["message"])
		}
	}
	if got := s.TXT("_acme-challenge.example.com"); len(got) != 2 {
		t.Fatalf("duplicates: %q", got)
	}
	if res, _ := do(t, s, "POST", "/v2/domains/example.com/records", `{"type":"TXT","name":"x","data":"v","ttl":10}`); res.StatusCode != 422 {
		t.Fatalf("TTL 10: %d", res.StatusCode)
	}
	id := s.Records("example.com")[0].ID
	if res, _ := do(t, s, "DELETE", "/v2/domains/example.com/records/"+itoa(id), ""); res.StatusCode != 204 {
		t.Fatalf("delete: %d", res.StatusCode)
	}
	if res, _ := do(t, s, "DELETE", "/v2/domains/example.com/records/"+itoa(id), ""); res.StatusCode != 404 {
		t.Fatalf("delete again: %d", res.StatusCode)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }
