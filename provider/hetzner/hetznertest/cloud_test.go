package hetznertest

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
)

func cloudCall(t *testing.T, s *Server, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, strings.TrimSuffix(s.CloudURL(), "/")+path, bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.Token())
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(res.Body)
	return res.StatusCode, b.String()
}

// The fake's Cloud API refuses what the real one refuses: unquoted TXT
// values, a TTL other than the RRset's, a missing RRset to remove from;
// its actions run for ActionPolls looks before they succeed.
func TestCloudFakeBehavesLikeTheAPI(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	s.AddZone("example.com", Record{Type: "TXT", Name: "_acme-challenge", Value: `"x"`, TTL: 120})
	const add = "/zones/example.com/rrsets/_acme-challenge/TXT/actions/add_records"
	for _, tc := range []struct{ path, body, want string }{
		{add, `{"records":[{"value":"unquoted"}]}`, "invalid_input"},
		{add, `{"ttl":60,"records":[{"value":"\"y\""}]}`, "ttl must match"},
		{"/zones/example.com/rrsets/nothing/TXT/actions/remove_records", `{"records":[{"value":"\"y\""}]}`, "not_found"},
		{"/zones/example.org/rrsets/_acme-challenge/TXT/actions/add_records", `{"records":[{"value":"\"y\""}]}`, "zone not found"},
	} {
		if code, body := cloudCall(t, s, http.MethodPost, tc.path, tc.body); code < 400 || !strings.Contains(body, tc.want) {
			t.Errorf("%s %s: %d %s; want %q", tc.path, tc.body, code, body, tc.want)
		}
	}
	code, body := cloudCall(t, s, http.MethodPost, add, `{"ttl":120,"records":[{"value":"\"y\""}]}`)
	if code != http.StatusCreated || !strings.Contains(body, `"status":"running"`) || len(s.Records("example.com")) != 2 {
		t.Fatalf("add: %d %s", code, body)
	}
	id := body[strings.Index(body, `"id":`)+5:]
	id = id[:strings.IndexAny(id, ",}")]
	for i, want := range []string{"running", "success", "success"} {
		if _, body := cloudCall(t, s, http.MethodGet, "/actions/"+id, ""); !strings.Contains(body, `"status":"`+want+`"`) {
			t.Errorf("look %d: %s; want %s", i+1, body, want)
		}
	}
	if code, body := cloudCall(t, s, http.MethodGet, "/zones?name=example.com", ""); code != 200 || !strings.Contains(body, `"name":"example.com"`) {
		t.Errorf("zones: %d %s", code, body)
	}
	req, _ := http.NewRequest(http.MethodGet, s.CloudURL()+"zones", nil)
	req.Header.Set("Auth-API-Token", s.Token()) // the DNS Console header
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("DNS Console header on the Cloud API: %d; want 401", res.StatusCode)
	}
}
