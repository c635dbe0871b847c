// Package powerdnstest is a fake PowerDNS Authoritative Server HTTP API
// (https://doc.powerdns.com/authoritative/http-api/) on loopback TLS, for
// tests: zone list, zone read with its RRsets, and PATCH of RRsets with
// the server's own rules and answers: REPLACE replaces a whole RRset
// (records given, comments kept unless given), DELETE removes it, a PATCH
// is applied as a whole or not at all, and it is refused with 422 and
// {"error": "..."} for a name without its trailing dot, a name outside
// the zone, unquoted TXT content, the same record twice in an RRset or an
// unknown changetype. A wrong X-API-Key gets 401, an unknown zone 404.
// Faults (a throttling proxy's 429 with Retry-After, a 500) can be queued.
package powerdnstest

import (
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// Record is one record of an RRset, as the API shows it.
type Record struct {
	Content  string `json:"content"`
	Disabled bool   `json:"disabled"`
}

// Comment is an RRset's comment, as the API shows it.
type Comment struct {
	Content    string `json:"content"`
	Account    string `json:"account"`
	ModifiedAt int64  `json:"modified_at"`
}

// RRset is one RRset of a zone.
type RRset struct {
	Name     string    `json:"name"`
	Type     string    `json:"type"`
	TTL      int       `json:"ttl"`
	Records  []Record  `json:"records"`
	Comments []Comment `json:"comments"`
}

// Request is one request the server received (the API key left out).
type Request struct {
	Method, Path, UserAgent string
	// Body is a PATCH's body.
	Body string
}

// Fault is an answer given instead of the next request's.
type Fault struct {
	Status     int
	RetryAfter string
	Body       string
}

type zone struct {
	name, kind string
	rrsets     []RRset
}

// Server is the fake API. Its methods are safe for concurrent use.
type Server struct {
	srv    *httptest.Server
	key    string
	server string

	mu       sync.Mutex
	zones    map[string]*zone
	requests []Request
	faults   []Fault
	onPatch  func(zone string)
	onRead   func(zone string)
}

// Options configure a Server.
type Options struct {
	// APIKey is the key the server takes; "" means a fixed test key.
	APIKey string
	// ServerID is the server id in the paths; "" means "localhost".
	ServerID string
}

// New starts a server on loopback TLS; Close stops it.
func New(opts Options) *Server {
	s := &Server{key: opts.APIKey, server: opts.ServerID, zones: map[string]*zone{}}
	if s.key == "" {
		s.key = "test-api-key-0123456789"
	}
	if s.server == "" {
		s.server = "localhost"
	}
	s.srv = httptest.NewTLSServer(http.HandlerFunc(s.handle))
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// URL is the API's base URL (PDNS_API_URL).
func (s *Server) URL() string { return s.srv.URL }

// APIKey is the key the server takes.
func (s *Server) APIKey() string { return s.key }

// Client is an HTTP client that trusts the server's certificate.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// RootCAs holds the server's certificate.
func (s *Server) RootCAs() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(s.srv.Certificate())
	return p
}

// AddZone adds a zone of kind "Native" (or "Master", "Slave") with the
// given RRsets; names are made canonical.
func (s *Server) AddZone(name, kind string, rrsets ...RRset) {
	s.mu.Lock()
	defer s.mu.Unlock()
	name = dns.CanonicalName(name)
	if kind == "" {
		kind = "Native"
	}
	z := &zone{name: name, kind: kind}
	for _, r := range rrsets {
		r.Name = dns.CanonicalName(r.Name)
		z.rrsets = append(z.rrsets, r)
	}
	s.zones[name] = z
}

// RRsets returns a copy of the zone's RRsets, sorted by name and type.
func (s *Server) RRsets(name string) []RRset {
	s.mu.Lock()
	defer s.mu.Unlock()
	z := s.zones[dns.CanonicalName(name)]
	if z == nil {
		return nil
	}
	out := make([]RRset, 0, len(z.rrsets))
	for _, r := range z.rrsets {
		r.Records = slices.Clone(r.Records)
		r.Comments = slices.Clone(r.Comments)
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Type < out[j].Type
	})
	return out
}

// TXT returns the unquoted values of the enabled TXT records at fqdn in
// any zone, sorted.
func (s *Server) TXT(fqdn string) []string {
	fqdn = dns.CanonicalName(fqdn)
	var out []string
	for _, name := range s.zoneNames() {
		for _, r := range s.RRsets(name) {
			if r.Name != fqdn || r.Type != "TXT" {
				continue
			}
			for _, rec := range r.Records {
				if v, err := unquote(rec.Content); err == nil && !rec.Disabled {
					out = append(out, v)
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

func (s *Server) zoneNames() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for n := range s.zones {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Count returns how many requests with method were received.
func (s *Server) Count(method string) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Method == method {
			n++
		}
	}
	return n
}

// ResetRequests forgets the requests received.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}

// Fail queues faults, given in turn instead of the next answers.
func (s *Server) Fail(fs ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, fs...)
}

// OnPatch sets a function called with the zone's name after each applied
// PATCH, outside the server's lock (to publish the zone to a DNS server).
func (s *Server) OnPatch(f func(zone string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onPatch = f
}

// OnRead sets a function called with the zone's name after a zone GET has
// read the zone and before it answers, outside the server's lock: a test
// holding a reader there widens the window between a client's read and
// its write, as a slow network would.
func (s *Server) OnRead(f func(zone string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onRead = f
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func apiError(w http.ResponseWriter, status int, format string, args ...any) {
	writeJSON(w, status, map[string]string{"error": fmt.Sprintf(format, args...)})
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	s.mu.Lock()
	req := Request{Method: r.Method, Path: r.URL.EscapedPath(), UserAgent: r.UserAgent()}
	if r.Method == http.MethodPatch {
		req.Body = string(body)
	}
	s.requests = append(s.requests, req)
	if len(s.faults) > 0 {
		f := s.faults[0]
		s.faults = s.faults[1:]
		s.mu.Unlock()
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		w.WriteHeader(f.Status)
		fmt.Fprint(w, f.Body)
		return
	}
	s.mu.Unlock()

	if r.Header.Get("X-API-Key") != s.key {
		// The webserver's own answer, not the API's JSON.
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, "<!html><title>Unauthorized</title><h1>Unauthorized</h1>")
		return
	}
	prefix := "/api/v1/servers/" + s.server + "/zones"
	path := r.URL.Path
	switch {
	case path == prefix && r.Method == http.MethodGet:
		s.listZones(w)
	case strings.HasPrefix(path, prefix+"/"):
		id := strings.ReplaceAll(strings.TrimPrefix(path, prefix+"/"), "=2F", "/")
		switch r.Method {
		case http.MethodGet:
			s.getZone(w, id)
		case http.MethodPatch:
			s.patchZone(w, id, body)
		default:
			apiError(w, http.StatusMethodNotAllowed, "Method Not Allowed")
		}
	default:
		apiError(w, http.StatusNotFound, "Not Found")
	}
}

func (s *Server) listZones(w http.ResponseWriter) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []map[string]any{}
	var names []string
	for n := range s.zones {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		z := s.zones[n]
		out = append(out, map[string]any{"id": n, "name": n, "kind": z.kind, "url": "/api/v1/servers/" + s.server + "/zones/" + n, "serial": 2026010101, "dnssec": false})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getZone(w http.ResponseWriter, id string) {
	s.mu.Lock()
	z := s.zones[id]
	s.mu.Unlock()
	if z == nil {
		apiError(w, http.StatusNotFound, "Could not find domain '%s'", id)
		return
	}
	rrsets := s.RRsets(id)
	s.mu.Lock()
	f := s.onRead
	s.mu.Unlock()
	if f != nil {
		f(z.name)
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "name": z.name, "kind": z.kind, "rrsets": rrsets})
}

type patchSet struct {
	Name       string     `json:"name"`
	Type       string     `json:"type"`
	TTL        *int       `json:"ttl"`
	ChangeType string     `json:"changetype"`
	Records    []Record   `json:"records"`
	Comments   *[]Comment `json:"comments"`
}

func (s *Server) patchZone(w http.ResponseWriter, id string, body []byte) {
	var doc struct {
		RRsets []patchSet `json:"rrsets"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		apiError(w, http.StatusBadRequest, "Could not parse JSON body")
		return
	}
	s.mu.Lock()
	z := s.zones[id]
	if z == nil {
		s.mu.Unlock()
		apiError(w, http.StatusNotFound, "Could not find domain '%s'", id)
		return
	}
	if z.kind == "Slave" || z.kind == "Secondary" {
		s.mu.Unlock()
		apiError(w, http.StatusUnprocessableEntity, "Domain '%s' is a secondary domain, changes are not permitted", z.name)
		return
	}
	next := slices.Clone(z.rrsets)
	for _, p := range doc.RRsets {
		if err := apply(&next, z.name, p); err != "" {
			s.mu.Unlock()
			apiError(w, http.StatusUnprocessableEntity, "%s", err)
			return
		}
	}
	z.rrsets = next
	hook := s.onPatch
	s.mu.Unlock()
	if hook != nil {
		hook(z.name)
	}
	w.WriteHeader(http.StatusNoContent)
}

// apply changes sets by p; it returns the API's error text, "" when the
// change is fine.
func apply(sets *[]RRset, zoneName string, p patchSet) string {
	if !strings.HasSuffix(p.Name, ".") {
		return fmt.Sprintf("DNS Name '%s' is not canonical", p.Name)
	}
	name := strings.ToLower(p.Name)
	if !dns.IsSubDomain(zoneName, name) {
		return fmt.Sprintf("RRset %s IN %s: Name is out of zone", p.Name, p.Type)
	}
	i := slices.IndexFunc(*sets, func(r RRset) bool { return r.Name == name && r.Type == p.Type })
	switch p.ChangeType {
	case "DELETE":
		if i >= 0 {
			*sets = slices.Delete(*sets, i, i+1)
		}
		return ""
	case "REPLACE":
	default:
		return "Changetype not understood"
	}
	seen := map[string]bool{}
	for _, r := range p.Records {
		if p.Type == "TXT" && !strings.HasPrefix(r.Content, "\"") {
			return fmt.Sprintf("Record %s/%s '%s': Parsing record content (try 'pdnsutil check-zone'): Data field in DNS should start with quote (\") at position 0 of '%s'", p.Name, p.Type, r.Content, r.Content)
		}
		if p.Type == "TXT" {
			if _, err := unquote(r.Content); err != nil {
				return fmt.Sprintf("Record %s/%s '%s': Not in expected format (parsed as '')", p.Name, p.Type, r.Content)
			}
		}
		if seen[r.Content] {
			return fmt.Sprintf("Duplicate record in RRset %s IN %s with content \"%s\"", p.Name, p.Type, r.Content)
		}
		seen[r.Content] = true
	}
	if len(p.Records) > 0 && p.TTL == nil {
		return "Key 'ttl' not present or not an Integer"
	}
	if len(p.Records) == 0 && p.Comments == nil {
		// No records left: the RRset and its comments go.
		if i >= 0 {
			*sets = slices.Delete(*sets, i, i+1)
		}
		return ""
	}
	next := RRset{Name: name, Type: p.Type, Records: slices.Clone(p.Records)}
	if p.TTL != nil {
		next.TTL = *p.TTL
	}
	if i >= 0 {
		next.Comments = (*sets)[i].Comments
	}
	if p.Comments != nil {
		next.Comments = *p.Comments
	}
	if i >= 0 {
		(*sets)[i] = next
	} else {
		*sets = append(*sets, next)
	}
	return ""
}

// unquote parses TXT content in presentation format and returns its
// strings as they go on the wire, joined.
func unquote(content string) (string, error) {
	rr, err := dns.NewRR(". 0 IN TXT " + content)
	if err != nil {
		return "", err
	}
	if _, ok := rr.(*dns.TXT); !ok {
		return "", fmt.Errorf("not TXT")
	}
	buf := make([]byte, dns.Len(rr)+16)
	n, err := dns.PackRR(rr, buf, 0, nil, false)
	if err != nil {
		return "", err
	}
	// Root owner name (1), type, class, TTL, RDLENGTH (10), then
	// length-prefixed strings.
	wire, out := buf[11:n], []byte{}
	for len(wire) > 0 {
		l := int(wire[0])
		out = append(out, wire[1:1+l]...)
		wire = wire[1+l:]
	}
	return string(out), nil
}
