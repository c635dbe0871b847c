package hetznertest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func call(t *testing.T, s *Server, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, strings.TrimSuffix(s.URL(), "/api/v1/")+path, bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Auth-API-Token", s.Token())
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(res.Body)
	return res.StatusCode, b.String()
}

// The fake behaves as the API does: pages with meta.pagination, 404 for
// an unknown zone name, a bulk create that answers 200 with the refused
// records listed, and nothing for a zone moved to the Hetzner Console.
func TestFakeFollowsTheDocumentedSemantics(t *testing.T) {
	s := NewServer(Options{MaxPerPage: 1})
	defer s.Close()
	zid := s.AddZone("example.com", Record{Type: "A", Name: "@", Value: "192.0.2.1"})
	s.AddZone("example.net")
	st, body := call(t, s, "GET", "/api/v1/zones?page=1&per_page=100", "")
	var v struct {
		Zones []map[string]any
		Meta  struct {
			Pagination struct {
				LastPage int `json:"last_page"`
			}
		} `json:"meta"`
	}
	_ = json.Unmarshal([]byte(body), &v)
	if st != 200 || len(v.Zones) != 1 || v.Meta.Pagination.LastPage != 2 {
		t.Errorf("zones page 1: %d %s", st, body)
	}
	if st, body := call(t, s, "GET", "/api/v1/zones?name=example.org", ""); st != 404 || !strings.Contains(body, "zone not found") {
		t.Errorf("unknown zone: %d %s", st, body)
	}
	s.RefuseValue("bad")
	st, body = call(t, s, "POST", "/api/v1/records/bulk", `{"records":[{"zone_id":"`+zid+`","type":"TXT","name":"a","value":"good"},{"zone_id":"`+zid+`","type":"TXT","name":"b","value":"bad"}]}`)
	if st != 200 || !strings.Contains(body, `"invalid_records":[{`) || len(s.Records("example.com")) != 2 {
		t.Errorf("partial bulk: %d %s", st, body)
	}
	s.MoveToConsole("example.com")
	if st, _ := call(t, s, "GET", "/api/v1/records?zone_id="+zid, ""); st != 404 {
		t.Errorf("moved zone: %d", st)
	}
}
