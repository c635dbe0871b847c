// Package digitaloceantest is a fake DigitalOcean API v2 (domains and
// domain records) for tests: an httptest server on 127.0.0.1 that answers
// the way the public reference
// (https://docs.digitalocean.com/reference/api/digitalocean/#tag/Domain-Records)
// shows, bad sides included:
//
//   - errors as {"id","message","request_id"} with the documented ids
//     (unauthorized, forbidden, not_found, unprocessable_entity,
//     too_many_requests);
//   - tokens with custom scopes (domain:read, domain:create,
//     domain:delete) or the old full-access kind; a missing scope is 403;
//   - GET /v2/domains and GET /v2/domains/{name}/records paginated with
//     page and per_page (default 20, at most 200), links.pages.next and
//     meta.total; records filtered by type and by FQDN (name);
//   - no batch: one POST per record (201) and one DELETE per record
//     (204); record names relative to the domain ("@" for the apex);
//     duplicate records are accepted, a TTL under 30 is refused (422);
//   - rate limits: ratelimit-limit, ratelimit-remaining and
//     ratelimit-reset on every answer; past 250 requests in a minute a 429
//     with Retry-After, past 5000 in an hour a 429 without it, to be waited
//     out until ratelimit-reset (https://docs.digitalocean.com/reference/api/digitalocean/#section/Introduction/Rate-Limit).
//
// Everything is in memory; a Server is safe for concurrent use.
package digitaloceantest

import (
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultToken is the token the zero Options accept, with full access.
const DefaultToken = "dop_v1_3f9a0c7e1b5d2a8f4c6e0b9d7a1f3c5e8b2d4f6a0c9e7b1d3f5a8c2e4b6d0f9a"

// Options configures a Server. The zero value is usable.
type Options struct {
	// Tokens maps tokens to their scopes ("domain:read", "domain:create",
	// "domain:delete"; "write" is the old full access); nil means
	// DefaultToken with full access.
	Tokens map[string][]string
	// PerMinute and PerHour are the rate limits; 0 means 250 and 5000,
	// negative means none.
	PerMinute, PerHour int
	// TLS serves HTTPS instead of plain HTTP.
	TLS bool
	// Now is the clock of the rate limits; nil means time.Now.
	Now func() time.Time
}

// Record is one domain record as the API shows it; Name is relative to
// the domain, "@" for the apex.
type Record struct {
	ID       int     `json:"id"`
	Type     string  `json:"type"`
	Name     string  `json:"name"`
	Data     string  `json:"data"`
	Priority *int    `json:"priority"`
	Port     *int    `json:"port"`
	TTL      int     `json:"ttl"`
	Weight   *int    `json:"weight"`
	Flags    *int    `json:"flags"`
	Tag      *string `json:"tag"`
}

// Request is what the server saw of one call.
type Request struct {
	Method, Path, Query, UserAgent string
}

// Fault is an injected failure for the next matching call.
type Fault struct {
	Status     int
	ID         string // error id; "" sends Body
	Message    string
	RetryAfter string
	Body       string
}

type domain struct {
	name    string
	records []Record
}

// Server is the fake API. Create it with NewServer and Close it.
type Server struct {
	srv  *httptest.Server
	opts Options

	mu       sync.Mutex
	domains  []*domain
	nextID   int
	calls    []time.Time
	faults   map[string][]Fault
	requests []Request
	onChange func(domain string)
}

// NewServer starts a fake on 127.0.0.1; the API base is URL().
func NewServer(opts Options) *Server {
	if opts.Tokens == nil {
		opts.Tokens = map[string][]string{DefaultToken: {"write"}}
	}
	if opts.PerMinute == 0 {
		opts.PerMinute = 250
	}
	if opts.PerHour == 0 {
		opts.PerHour = 5000
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{opts: opts, nextID: 3352890, faults: map[string][]Fault{}}
	if opts.TLS {
		s.srv = httptest.NewTLSServer(http.HandlerFunc(s.handle))
	} else {
		s.srv = httptest.NewServer(http.HandlerFunc(s.handle))
	}
	return s
}

// URL is the API base as DO_API_URL takes it (http://127.0.0.1:port).
func (s *Server) URL() string { return s.srv.URL }

// Client returns an HTTP client that trusts the server.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// CertPEM is the server's certificate in PEM; nil without TLS.
func (s *Server) CertPEM() []byte {
	if s.srv.Certificate() == nil {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.srv.Certificate().Raw})
}

// Close shuts the server down.
func (s *Server) Close() { s.srv.Close() }

// AddDomain adds a domain with the given records (IDs assigned; TTL 0
// becomes 1800, the API's default).
func (s *Server) AddDomain(name string, records ...Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := &domain{name: strings.ToLower(strings.TrimSuffix(name, "."))}
	for _, r := range records {
		d.records = append(d.records, s.stamp(r))
	}
	s.domains = append(s.domains, d)
}

func (s *Server) stamp(r Record) Record {
	s.nextID++
	r.ID = s.nextID
	r.Type = strings.ToUpper(r.Type)
	if r.TTL == 0 {
		r.TTL = 1800
	}
	return r
}

// Records returns a copy of a domain's records, in creation order.
func (s *Server) Records(name string) []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d := s.domain(name); d != nil {
		return append([]Record(nil), d.records...)
	}
	return nil
}

// TXT returns the TXT data at fqdn (in any domain), sorted.
func (s *Server) TXT(fqdn string) []string {
	fqdn = strings.ToLower(strings.TrimSuffix(fqdn, "."))
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, d := range s.domains {
		for _, r := range d.records {
			if r.Type == "TXT" && d.fqdn(r.Name) == fqdn {
				out = append(out, r.Data)
			}
		}
	}
	sort.Strings(out)
	return out
}

// FQDN returns the absolute name (no trailing dot) of a record name of
// domain.
func FQDN(name, domain string) string {
	if name == "@" {
		return domain
	}
	return strings.ToLower(name) + "." + domain
}

func (d *domain) fqdn(name string) string { return FQDN(name, d.name) }

// OnChange registers f, called (outside the lock) with the domain's name
// after every record created or deleted.
func (s *Server) OnChange(f func(domain string)) { s.mu.Lock(); s.onChange = f; s.mu.Unlock() }

// InjectFault makes the next call matching key fail with f. Keys: "GET
// domains", "GET records", "POST records", "DELETE record".
func (s *Server) InjectFault(key string, f Fault) {
	s.mu.Lock()
	s.faults[key] = append(s.faults[key], f)
	s.mu.Unlock()
}

// Requests returns what the server saw, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Count returns how many requests matched key (see InjectFault).
func (s *Server) Count(key string) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Method+" "+kind(r.Path) == key {
			n++
		}
	}
	return n
}

// ResetRequests forgets the requests seen.
func (s *Server) ResetRequests() { s.mu.Lock(); s.requests = nil; s.mu.Unlock() }

func (s *Server) domain(name string) *domain {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	for _, d := range s.domains {
		if d.name == name {
			return d
		}
	}
	return nil
}

func kind(path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case len(parts) == 2 && parts[1] == "domains":
		return "domains"
	case len(parts) == 4 && parts[3] == "records":
		return "records"
	case len(parts) == 5 && parts[3] == "records":
		return "record"
	}
	return strings.Join(parts, "/")
}

func fail(w http.ResponseWriter, status int, id, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"id": id, "message": msg, "request_id": "4d9d8375-3c56-4925-a3e7-eb137fed17e9"})
}

func send(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// limit counts the call, sets the rate-limit headers and answers 429 past
// a limit; a refused call is not counted.
func (s *Server) limit(w http.ResponseWriter) bool {
	now := s.opts.Now()
	i := 0
	for i < len(s.calls) && !s.calls[i].After(now.Add(-time.Hour)) {
		i++
	}
	s.calls = s.calls[i:]
	lastMinute := 0
	for _, c := range s.calls {
		if c.After(now.Add(-time.Minute)) {
			lastMinute++
		}
	}
	h := w.Header()
	if s.opts.PerHour > 0 {
		h.Set("Ratelimit-Limit", strconv.Itoa(s.opts.PerHour))
	}
	switch {
	case s.opts.PerHour > 0 && len(s.calls) >= s.opts.PerHour:
		h.Set("Ratelimit-Remaining", "0")
		h.Set("Ratelimit-Reset", strconv.FormatInt(s.calls[0].Add(time.Hour).Unix(), 10))
		fail(w, http.StatusTooManyRequests, "too_many_requests", "API Rate limit exceeded.")
		return true
	case s.opts.PerMinute > 0 && lastMinute >= s.opts.PerMinute:
		h.Set("Retry-After", "60")
		fail(w, http.StatusTooManyRequests, "too_many_requests", "API Rate limit exceeded.")
		return true
	}
	s.calls = append(s.calls, now)
	if s.opts.PerHour > 0 {
		h.Set("Ratelimit-Remaining", strconv.Itoa(s.opts.PerHour-len(s.calls)))
		h.Set("Ratelimit-Reset", strconv.FormatInt(s.calls[0].Add(time.Hour).Unix(), 10))
	}
	return false
}

func (s *Server) scoped(w http.ResponseWriter, r *http.Request, scope string) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	scopes, known := s.opts.Tokens[tok]
	if !ok || !known {
		fail(w, http.StatusUnauthorized, "unauthorized", "Unable to authenticate you")
		return false
	}
	for _, sc := range scopes {
		if sc == scope || sc == "write" || sc == "read" && strings.HasSuffix(scope, ":read") {
			return true
		}
	}
	fail(w, http.StatusForbidden, "Forbidden", "You are not authorized to perform this operation")
	return false
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	var changed string
	defer func() {
		s.mu.Lock()
		f := s.onChange
		s.mu.Unlock()
		if changed != "" && f != nil {
			f(changed)
		}
	}()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, UserAgent: r.UserAgent()})
	if s.limit(w) {
		return
	}
	k := r.Method + " " + kind(r.URL.Path)
	if fs := s.faults[k]; len(fs) > 0 {
		f := fs[0]
		s.faults[k] = fs[1:]
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		if f.ID == "" {
			w.WriteHeader(f.Status)
			_, _ = w.Write([]byte(f.Body))
			return
		}
		fail(w, f.Status, f.ID, f.Message)
		return
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch k {
	case "GET domains":
		if s.scoped(w, r, "domain:read") {
			var all []map[string]any
			for _, d := range s.domains {
				all = append(all, map[string]any{"name": d.name, "ttl": 1800, "zone_file": ""})
			}
			page(w, r, "domains", all)
		}
	case "GET records", "POST records", "DELETE record":
		scope := map[string]string{"GET": "domain:read", "POST": "domain:create", "DELETE": "domain:delete"}[r.Method]
		if !s.scoped(w, r, scope) {
			return
		}
		d := s.domain(parts[2])
		if d == nil {
			fail(w, http.StatusNotFound, "not_found", "The resource you were accessing could not be found.")
			return
		}
		switch r.Method {
		case "GET":
			s.list(w, r, d)
		case "POST":
			if s.create(w, r, d) {
				changed = d.name
			}
		default:
			if s.remove(w, d, parts[4]) {
				changed = d.name
			}
		}
	default:
		fail(w, http.StatusNotFound, "not_found", "The resource you were accessing could not be found.")
	}
}

// page answers one page of all under key, with links and meta.
func page[T any](w http.ResponseWriter, r *http.Request, key string, all []T) {
	pg, _ := strconv.Atoi(r.URL.Query().Get("page"))
	per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
	if pg < 1 {
		pg = 1
	}
	if per < 1 {
		per = 20
	}
	per = min(per, 200)
	last := max((len(all)+per-1)/per, 1)
	lo := min((pg-1)*per, len(all))
	out := all[lo:min(lo+per, len(all))]
	if out == nil {
		out = []T{}
	}
	link := func(p int) string {
		q := url.Values{}
		for k, v := range r.URL.Query() {
			q[k] = v
		}
		q.Set("page", strconv.Itoa(p))
		q.Set("per_page", strconv.Itoa(per))
		return "https://api.digitalocean.com" + r.URL.Path + "?" + q.Encode()
	}
	pages := map[string]string{}
	if pg < last {
		pages["next"], pages["last"] = link(pg+1), link(last)
	}
	if pg > 1 {
		pages["first"], pages["prev"] = link(1), link(pg-1)
	}
	send(w, http.StatusOK, map[string]any{key: out, "links": map[string]any{"pages": pages}, "meta": map[string]int{"total": len(all)}})
}

func (s *Server) list(w http.ResponseWriter, r *http.Request, d *domain) {
	typ := strings.ToUpper(r.URL.Query().Get("type"))
	name := strings.ToLower(strings.TrimSuffix(r.URL.Query().Get("name"), "."))
	var all []Record
	for _, rec := range d.records {
		if typ != "" && rec.Type != typ || name != "" && d.fqdn(rec.Name) != name {
			continue
		}
		all = append(all, rec)
	}
	page(w, r, "domain_records", all)
}

func (s *Server) create(w http.ResponseWriter, r *http.Request, d *domain) bool {
	var in Record
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&in); err != nil {
		fail(w, http.StatusBadRequest, "bad_request", "unable to parse request body")
		return false
	}
	in.Type = strings.ToUpper(in.Type)
	switch {
	case in.Type != "TXT":
		fail(w, http.StatusUnprocessableEntity, "unprocessable_entity", "this fake takes TXT records only")
		return false
	case in.Name == "" || strings.HasSuffix(in.Name, "."):
		fail(w, http.StatusUnprocessableEntity, "unprocessable_entity", "Name Only valid hostname characters are allowed. (a-z, A-Z, 0-9, ., _ and -) Or a single record of '@'.")
		return false
	case in.Data == "":
		fail(w, http.StatusUnprocessableEntity, "unprocessable_entity", "Data needs to be a non-empty string")
		return false
	case in.TTL != 0 && in.TTL < 30:
		fail(w, http.StatusUnprocessableEntity, "unprocessable_entity", "Ttl must be greater than or equal to 30.")
		return false
	}
	for _, o := range d.records {
		if o.Type == "CNAME" && strings.EqualFold(o.Name, in.Name) {
			fail(w, http.StatusUnprocessableEntity, "unprocessable_entity", "Records of type CNAME cannot coexist with other records of the same name.")
			return false
		}
	}
	rec := s.stamp(Record{Type: in.Type, Name: strings.ToLower(in.Name), Data: in.Data, TTL: in.TTL})
	d.records = append(d.records, rec)
	send(w, http.StatusCreated, map[string]any{"domain_record": rec})
	return true
}

func (s *Server) remove(w http.ResponseWriter, d *domain, id string) bool {
	n, err := strconv.Atoi(id)
	for i, rec := range d.records {
		if err == nil && rec.ID == n {
			d.records = append(d.records[:i], d.records[i+1:]...)
			w.WriteHeader(http.StatusNoContent)
			return true
		}
	}
	fail(w, http.StatusNotFound, "not_found", "The resource you were accessing could not be found.")
	return false
}
