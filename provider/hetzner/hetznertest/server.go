// Package hetznertest is a fake of Hetzner's two DNS APIs for tests: an
// httptest server on 127.0.0.1 serving the DNS Console API
// (https://dns.hetzner.com/api-docs) under URL and the DNS part of the
// Hetzner Cloud API (https://docs.hetzner.cloud/#zones) under CloudURL,
// over one store of zones and records, behaving as the documentation
// shows, bad sides included.
//
// The Cloud API (see cloud.go): Bearer token, errors as
// {"error": {"code", "message"}}, zones and RRsets listed by page with
// meta.pagination, add_records / remove_records actions that stay
// "running" for a few polls before "success" (or "error" on demand), TXT
// values that must be quoted, a TTL that must match the RRset's, and
// 429 rate_limit_exceeded with RateLimit-* headers.
//
// The DNS Console API:
//
//   - Auth-API-Token authentication, 401 with {"message": …} otherwise;
//   - zones and records listed by page (page, per_page up to 100) with
//     meta.pagination; GET /zones?name= answers 404 "zone not found" for
//     an unknown name;
//   - records as individual objects with IDs; POST /records/bulk creates
//     the valid records and answers 200 with the refused ones in
//     invalid_records (no all-or-nothing); DELETE /records/{id} one at a
//     time;
//   - throttling (429 with Retry-After) and server errors on demand;
//   - zones that moved to the Hetzner Console: gone from this API (404).
//
// Everything is in memory; a Server is safe for concurrent use.
package hetznertest

import (
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Record is one record as the fake stores it. TTL 0 means none set (the
// zone's default applies).
type Record struct {
	ID     string
	ZoneID string
	Type   string
	Name   string
	Value  string
	TTL    int
}

// DefaultToken is the token a Server accepts when Options.Token is "".
const DefaultToken = "hetzner-test-token-Vb7Q2mXk9LpR4sTy"

// Options configures a Server; the zero value is usable.
type Options struct {
	// Token is the accepted API token; "" is DefaultToken.
	Token string
	// MaxPerPage caps per_page; 0 is 100.
	MaxPerPage int
	// ActionPolls is how many looks (GET /actions/{id}) a Cloud API
	// action answers "running" before it ends; 0 is 2.
	ActionPolls int
}

// Request is one request the fake received.
type Request struct {
	Method, Path, Query, UserAgent string
	Authorized                     bool
	Status                         int
}

// Server is a running fake Hetzner DNS API.
type Server struct {
	srv  *httptest.Server
	opts Options

	mu       sync.Mutex
	zones    map[string]string // ID → name
	records  map[string]*Record
	nextID   int
	requests []Request
	throttle []time.Duration
	failures []int
	invalid  map[string]bool // values the bulk endpoint refuses
	onWrite  func()

	actions    map[int64]*fakeAction
	nextAction int64
	failAction []actionFailure
}

// NewServer starts a fake on plain HTTP on 127.0.0.1.
func NewServer(opts Options) *Server { return start(opts, false) }

// NewTLSServer starts a fake on HTTPS; CertificatePEM is its certificate.
func NewTLSServer(opts Options) *Server { return start(opts, true) }

func start(opts Options, tls bool) *Server {
	if opts.Token == "" {
		opts.Token = DefaultToken
	}
	if opts.MaxPerPage == 0 {
		opts.MaxPerPage = 100
	}
	if opts.ActionPolls == 0 {
		opts.ActionPolls = 2
	}
	s := &Server{opts: opts, zones: map[string]string{}, records: map[string]*Record{}, invalid: map[string]bool{}, actions: map[int64]*fakeAction{}}
	if tls {
		s.srv = httptest.NewTLSServer(http.HandlerFunc(s.serve))
	} else {
		s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	}
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// CloudURL is the Cloud API base URL, ending in /v1/.
func (s *Server) CloudURL() string { return s.srv.URL + "/v1/" }

// URL is the DNS Console API base URL, ending in /api/v1/.
func (s *Server) URL() string { return s.srv.URL + "/api/v1/" }

// Token is the accepted token.
func (s *Server) Token() string { return s.opts.Token }

// CertificatePEM is the TLS certificate (NewTLSServer only).
func (s *Server) CertificatePEM() []byte {
	if c := s.srv.Certificate(); c != nil {
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return nil
}

func (s *Server) id() string {
	s.nextID++
	return fmt.Sprintf("%x", 0x5a3c0000+s.nextID*7919)
}

// AddZone creates zone name with records (their IDs and zone IDs are
// set here) and returns its ID.
func (s *Server) AddZone(name string, recs ...Record) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	zid := s.id()
	s.zones[zid] = strings.ToLower(name)
	for _, r := range recs {
		r.ID, r.ZoneID = s.id(), zid
		s.records[r.ID] = &r
	}
	return zid
}

// AddRecord adds a record to zone name, as another writer would.
func (s *Server) AddRecord(zone string, r Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, n := range s.zones {
		if n == zone {
			r.ID, r.ZoneID = s.id(), id
			s.records[r.ID] = &r
		}
	}
}

// MoveToConsole removes zone name from this API, as Hetzner's migration
// to the Hetzner Console does.
func (s *Server) MoveToConsole(zone string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, n := range s.zones {
		if n == zone {
			delete(s.zones, id)
		}
	}
}

// Records returns zone's records sorted by name, type, value (IDs kept).
func (s *Server) Records(zone string) []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Record
	for _, r := range s.records {
		if s.zones[r.ZoneID] == zone {
			out = append(out, *r)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		return a.Value < b.Value
	})
	return out
}

// Throttle makes the next n requests answer 429 with Retry-After.
func (s *Server) Throttle(n int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.throttle = append(s.throttle, retryAfter)
	}
}

// Fail makes the next n requests answer status.
func (s *Server) Fail(n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failures = append(s.failures, status)
	}
}

// RefuseValue makes the bulk endpoint list records with value v as
// invalid_records instead of creating them.
func (s *Server) RefuseValue(v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.invalid[v] = true
}

// OnWrite calls f after every successful create or delete, outside the
// server's lock.
func (s *Server) OnWrite(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onWrite = f
}

// Requests returns the requests so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// ResetRequests forgets the requests.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}

// Count is the number of requests with method whose path ends in suffix.
func (s *Server) Count(method, suffix string) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Method == method && strings.HasSuffix(r.Path, suffix) {
			n++
		}
	}
	return n
}

type answer struct {
	status int
	body   any
	header http.Header
}

func message(status int, msg string) answer {
	return answer{status: status, body: map[string]string{"message": msg}}
}

func notFound(what string) answer {
	return answer{status: http.StatusNotFound, body: map[string]any{"error": map[string]any{"message": what + " not found", "code": 404}}}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	a, wrote := s.handle(r)
	for k, v := range a.header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.status)
	if a.body != nil {
		_ = json.NewEncoder(w).Encode(a.body)
	}
	if wrote {
		s.mu.Lock()
		f := s.onWrite
		s.mu.Unlock()
		if f != nil {
			f()
		}
	}
}

func (s *Server) handle(r *http.Request) (a answer, wrote bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	req := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, UserAgent: r.Header.Get("User-Agent"),
		Authorized: r.Header.Get("Auth-API-Token") == s.opts.Token}
	defer func() { req.Status = a.status; s.requests = append(s.requests, req) }()
	if strings.HasPrefix(r.URL.Path, "/v1/") {
		req.Authorized = r.Header.Get("Authorization") == "Bearer "+s.opts.Token
		return s.handleCloud(r, req.Authorized)
	}
	if len(s.throttle) > 0 {
		ra := s.throttle[0]
		s.throttle = s.throttle[1:]
		secs := int((ra + time.Second - 1) / time.Second)
		a = message(http.StatusTooManyRequests, "rate limit exceeded")
		a.header = http.Header{"Retry-After": {strconv.Itoa(secs)}}
		return a, false
	}
	if len(s.failures) > 0 {
		st := s.failures[0]
		s.failures = s.failures[1:]
		return message(st, http.StatusText(st)), false
	}
	if !req.Authorized {
		return message(http.StatusUnauthorized, "Invalid authentication credentials"), false
	}
	path := strings.TrimPrefix(r.URL.Path, "/api/v1/")
	q := r.URL.Query()
	switch {
	case path == "zones" && r.Method == http.MethodGet:
		var zs []any
		ids := make([]string, 0, len(s.zones))
		for id := range s.zones {
			ids = append(ids, id)
		}
		sort.Slice(ids, func(i, j int) bool { return s.zones[ids[i]] < s.zones[ids[j]] })
		for _, id := range ids {
			if n := q.Get("name"); n != "" && n != s.zones[id] {
				continue
			}
			zs = append(zs, map[string]any{"id": id, "name": s.zones[id], "ttl": 86400, "status": "verified"})
		}
		if q.Get("name") != "" && len(zs) == 0 {
			return notFound("zone"), false
		}
		return s.page(q, "zones", zs), false
	case path == "records" && r.Method == http.MethodGet:
		zid := q.Get("zone_id")
		if _, ok := s.zones[zid]; !ok {
			return notFound("zone"), false
		}
		var rs []any
		for _, rec := range s.sortedRecords(zid) {
			rs = append(rs, recordJSON(rec))
		}
		return s.page(q, "records", rs), false
	case path == "records/bulk" && r.Method == http.MethodPost:
		return s.bulkCreate(r)
	case strings.HasPrefix(path, "records/") && r.Method == http.MethodDelete:
		id := strings.TrimPrefix(path, "records/")
		rec, ok := s.records[id]
		if !ok || s.zones[rec.ZoneID] == "" {
			return notFound("record"), false
		}
		delete(s.records, id)
		return answer{status: http.StatusOK}, true
	}
	return message(http.StatusNotFound, "not found"), false
}

func (s *Server) sortedRecords(zid string) []Record {
	var out []Record
	for _, r := range s.records {
		if r.ZoneID == zid {
			out = append(out, *r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func recordJSON(r Record) map[string]any {
	m := map[string]any{"id": r.ID, "zone_id": r.ZoneID, "type": r.Type, "name": r.Name, "value": r.Value,
		"created": "2026-01-01 00:00:00.000 +0000 UTC", "modified": "2026-01-01 00:00:00.000 +0000 UTC"}
	if r.TTL != 0 {
		m["ttl"] = r.TTL
	}
	return m
}

// page answers page "page" of items with "per_page" items (capped), and
// meta.pagination as the API gives it.
func (s *Server) page(q map[string][]string, key string, items []any) answer {
	get := func(k string, def int) int {
		if v, ok := q[k]; ok {
			if n, err := strconv.Atoi(v[0]); err == nil && n > 0 {
				return n
			}
		}
		return def
	}
	per := min(get("per_page", 100), s.opts.MaxPerPage)
	page := get("page", 1)
	last := max((len(items)+per-1)/per, 1)
	start := min((page-1)*per, len(items))
	end := min(start+per, len(items))
	next := 0
	if page < last {
		next = page + 1
	}
	prev := 0
	if page > 1 {
		prev = page - 1
	}
	out := items[start:end]
	if out == nil {
		out = []any{}
	}
	return answer{status: http.StatusOK, body: map[string]any{key: out, "meta": map[string]any{"pagination": map[string]any{
		"page": page, "per_page": per, "previous_page": prev, "next_page": next, "last_page": last, "total_entries": len(items)}}}}
}

func (s *Server) bulkCreate(r *http.Request) (answer, bool) {
	var body struct {
		Records []struct {
			Type   string `json:"type"`
			Name   string `json:"name"`
			Value  string `json:"value"`
			TTL    *int   `json:"ttl"`
			ZoneID string `json:"zone_id"`
		} `json:"records"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		return message(http.StatusUnprocessableEntity, "invalid JSON"), false
	}
	created, valid, invalid := []any{}, []any{}, []any{}
	for _, in := range body.Records {
		rec := Record{Type: in.Type, Name: in.Name, Value: in.Value, ZoneID: in.ZoneID}
		if in.TTL != nil {
			rec.TTL = *in.TTL
		}
		_, zoneOK := s.zones[in.ZoneID]
		if !zoneOK || in.Type == "" || in.Name == "" || in.Value == "" || s.invalid[in.Value] {
			invalid = append(invalid, recordJSON(rec))
			continue
		}
		rec.ID = s.id()
		s.records[rec.ID] = &rec
		created = append(created, recordJSON(rec))
		valid = append(valid, recordJSON(rec))
	}
	return answer{status: http.StatusOK, body: map[string]any{"records": created, "valid_records": valid, "invalid_records": invalid}}, len(created) > 0
}
