package cloudflaretest

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

type answer struct {
	Success bool `json:"success"`
	Errors  []struct {
		Code int `json:"code"`
	} `json:"errors"`
	Result     json.RawMessage `json:"result"`
	ResultInfo struct {
		Page       int `json:"page"`
		TotalPages int `json:"total_pages"`
		Count      int `json:"count"`
		TotalCount int `json:"total_count"`
	} `json:"result_info"`
}

func do(t *testing.T, s *Server, method, path, body string) (int, answer, http.Header) {
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
	var a answer
	if err := json.NewDecoder(res.Body).Decode(&a); err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, a, res.Header
}

// A batch is one transaction: a post that the API refuses (here a TTL
// below 60) leaves the zone as it was, deletes of the same batch included.
func TestBatchIsAllOrNothing(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	id := s.AddZone("example.com", Record{Name: "_acme-challenge.example.com", Type: "TXT", Content: `"old"`, TTL: 120})
	old := s.Records("example.com")[0].ID
	code, a, _ := do(t, s, "POST", "/zones/"+id+"/dns_records/batch",
		`{"deletes":[{"id":"`+old+`"}],"posts":[{"name":"a.example.com","type":"TXT","content":"\"x\"","ttl":120},{"name":"b.example.com","type":"TXT","content":"\"y\"","ttl":10}]}`)
	if code != 400 || a.Success || len(a.Errors) != 1 || a.Errors[0].Code != 1004 {
		t.Fatalf("HTTP %d %+v", code, a)
	}
	if rs := s.Records("example.com"); len(rs) != 1 || rs[0].ID != old {
		t.Fatalf("zone after a refused batch: %+v", rs)
	}
}

// Lists are paged with result_info; past the rate limit every call is
// refused with 429 for 5 minutes, then accepted again.
func TestPagesAndTheFiveMinuteBlock(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := NewServer(Options{RateLimit: 3, TLS: true, Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }})
	defer s.Close()
	for _, z := range []string{"a.example", "b.example", "c.example", "d.example", "e.example", "f.example", "g.example"} {
		s.AddZone(z)
	}
	_, a, _ := do(t, s, "GET", "/zones?per_page=5&page=2", "")
	if !a.Success || a.ResultInfo.Page != 2 || a.ResultInfo.TotalPages != 2 || a.ResultInfo.Count != 2 || a.ResultInfo.TotalCount != 7 {
		t.Fatalf("page 2: %+v", a.ResultInfo)
	}
	do(t, s, "GET", "/zones", "")
	do(t, s, "GET", "/zones", "")
	code, a, h := do(t, s, "GET", "/zones", "")
	if code != 429 || a.Errors[0].Code != 971 || h.Get("Retry-After") != "300" {
		t.Fatalf("4th call: HTTP %d %+v retry-after %q", code, a, h.Get("Retry-After"))
	}
	mu.Lock()
	now = now.Add(4 * time.Minute)
	mu.Unlock()
	if code, _, h := do(t, s, "GET", "/zones", ""); code != 429 || h.Get("Retry-After") != "60" {
		t.Fatalf("4 minutes later: HTTP %d, retry-after %q", code, h.Get("Retry-After"))
	}
	mu.Lock()
	now = now.Add(61 * time.Second)
	mu.Unlock()
	if code, _, _ := do(t, s, "GET", "/zones", ""); code != 200 {
		t.Fatalf("after the block: HTTP %d", code)
	}
}
