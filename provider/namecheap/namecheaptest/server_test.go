package namecheaptest

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func post(t *testing.T, s *Server, query string, form url.Values) (int, string) {
	t.Helper()
	u := s.URL()
	if query != "" {
		u += "?" + query
	}
	resp, err := http.Post(u, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func auth(s *Server, cmd string) url.Values {
	return url.Values{"ApiUser": {s.APIUser()}, "ApiKey": {s.APIKey()}, "UserName": {s.APIUser()}, "ClientIp": {"198.51.100.7"}, "Command": {cmd}}
}

func TestSetHostsReplacesAllAndRegeneratesIDs(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	s.AddZone("example.org", ZoneOptions{EmailType: "MX", Hosts: []Host{{Name: "@", Type: "A", Address: "192.0.2.1"}, {Name: "www", Type: "CNAME", Address: "x.example."}}})
	oldID := s.Hosts("example.org")[0].HostId
	// Mixed-case names, auth in the query string, hosts in the body.
	q := url.Values{"apiuser": {s.APIUser()}, "APIKEY": {s.APIKey()}, "clientip": {"198.51.100.7"}, "command": {"NAMECHEAP.DOMAINS.DNS.SETHOSTS"}}
	form := url.Values{"SLD": {"example"}, "TLD": {"org"}, "hostname1": {"@"}, "RecordType1": {"TXT"}, "Address1": {`"quoted" a+b&c`}, "ttl1": {"300"}}
	code, body := post(t, s, q.Encode(), form)
	if code != 200 || !strings.Contains(body, `IsSuccess="true"`) || !strings.Contains(body, "<RequestedCommand>namecheap.domains.dns.sethosts</RequestedCommand>") || !strings.Contains(body, `Type="namecheap.domains.dns.setHosts"`) {
		t.Fatalf("%d %s", code, body)
	}
	h := s.Hosts("example.org")
	if len(h) != 1 || h[0].Address != `"quoted" a+b&c` || h[0].MXPref != "10" || h[0].HostId == oldID || s.EmailType("example.org") != "MX" {
		t.Fatalf("zone = %+v", h)
	}
	_, body = post(t, s, "", mergeForm(auth(s, GetHosts), url.Values{"SLD": {"example"}, "TLD": {"org"}}))
	if !strings.Contains(body, `<host HostId=`) || !strings.Contains(body, `EmailType="MX"`) || !strings.Contains(body, "&quot;") {
		t.Fatalf("getHosts = %s", body)
	}
}

func mergeForm(a, b url.Values) url.Values {
	for k, v := range b {
		a[k] = v
	}
	return a
}

func TestErrorsAndThrottle(t *testing.T) {
	now := time.Unix(0, 0)
	s := NewServer(Options{RateLimit: 2, Now: func() time.Time { return now }})
	defer s.Close()
	bad := auth(s, GetHosts)
	bad.Set("ApiKey", "wrong")
	if _, body := post(t, s, "", bad); !strings.Contains(body, `Number="1011102"`) || !strings.Contains(body, "<RequestedCommand />") {
		t.Fatal(body)
	}
	if _, body := post(t, s, "", mergeForm(auth(s, GetHosts), url.Values{"SLD": {"nope"}, "TLD": {"com"}})); !strings.Contains(body, `Number="2019166"`) {
		t.Fatal(body)
	}
	if code, _ := post(t, s, "", auth(s, GetHosts)); code != http.StatusMethodNotAllowed {
		t.Fatalf("third call in a minute: %d", code)
	}
	now = now.Add(61 * time.Second)
	if code, _ := post(t, s, "", auth(s, GetHosts)); code != 200 {
		t.Fatalf("after the window: %d", code)
	}
	if s.Calls("gethosts") != 4 {
		t.Fatalf("calls = %d", s.Calls("gethosts"))
	}
}

func TestGetListPages(t *testing.T) {
	s := NewServer(Options{RateLimit: -1})
	defer s.Close()
	for _, d := range []string{"a.com", "b.com", "c.com"} {
		s.AddZone(d, ZoneOptions{})
	}
	s.AddZone("shared.com", ZoneOptions{Shared: true})
	_, body := post(t, s, "", mergeForm(auth(s, GetList), url.Values{"Page": {"1"}, "PageSize": {"10"}}))
	if strings.Count(body, "<Domain ") != 3 || !strings.Contains(body, "<TotalItems>3</TotalItems>") {
		t.Fatal(body)
	}
}

// TestSetHostsDropsMXUnlessEmailTypeMX: like the real API, MX rows sent to
// a zone whose EmailType is not MX are not saved, and surrounding quotes
// of TXT values are stripped.
func TestSetHostsDropsMXUnlessEmailTypeMX(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	for _, et := range []string{"GMAIL", "MX"} {
		s.AddZone("example.org", ZoneOptions{EmailType: et})
		form := auth(s, "namecheap.domains.dns.setHosts")
		for k, v := range map[string]string{"SLD": "example", "TLD": "org",
			"HostName1": "@", "RecordType1": "MX", "Address1": "mx.example.net.", "MXPref1": "10", "TTL1": "1800",
			"HostName2": "@", "RecordType2": "TXT", "Address2": `"quoted"`, "TTL2": "1800"} {
			form.Set(k, v)
		}
		if code, body := post(t, s, "", form); code != 200 || !strings.Contains(body, `IsSuccess="true"`) {
			t.Fatalf("%s: %d %s", et, code, body)
		}
		hosts := s.Hosts("example.org")
		if want := map[string]int{"GMAIL": 1, "MX": 2}[et]; len(hosts) != want {
			t.Errorf("EmailType %s: %d rows stored, want %d: %+v", et, len(hosts), want, hosts)
		}
		if hosts[len(hosts)-1].Address != "quoted" {
			t.Errorf("TXT stored as %q", hosts[len(hosts)-1].Address)
		}
	}
	s.AddZone("example.net", ZoneOptions{Hosts: []Host{{Name: "@", Type: "MX", Address: "mx.example.net."}}})
	if et := s.EmailType("example.net"); et != "MX" {
		t.Errorf("a zone added with MX rows has EmailType %q, want MX", et)
	}
}
