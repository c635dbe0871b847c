// Package cloudflaretest is a fake Cloudflare API v4 for tests: an httptest
// server on 127.0.0.1 that answers the DNS calls the way the public API
// reference (https://developers.cloudflare.com/api/resources/dns/) and
// captured answers show them, bad sides included:
//
//   - the v4 envelope {"success","errors","messages","result","result_info"},
//     with error codes in errors[] and, for header problems, an
//     error_chain (6003 → 6111 for a malformed Authorization header, 6103
//     for a malformed X-Auth-Key);
//   - API tokens scoped to zones with Zone:Read and DNS:Edit permissions,
//     and the legacy X-Auth-Email + X-Auth-Key global key; a token that may
//     not act on a zone gets 403 with code 10000 ("Authentication error"),
//     a token without Zone:Read sees an empty zone list;
//   - GET /zones (name filter, page, per_page 5-50, default 20) and GET
//     /zones/{id}/dns_records (type and exact name filters, page, per_page,
//     default 100), both paginated with result_info;
//   - POST /zones/{id}/dns_records/batch, applied as one transaction in the
//     documented order (deletes, patches, puts, posts): one invalid
//     operation refuses the whole batch, a batch larger than the plan's
//     limit (200 on the Free plan) is refused;
//   - TXT content stored as sent, quoted or not (the API asks for quoted
//     character strings since 2025 but keeps old unquoted records), and an
//     identical record refused with 81058;
//   - the global rate limit (1200 requests per 5 minutes per user): past
//     it every call is blocked for 5 minutes with HTTP 429, a retry-after
//     header and code 971 (https://developers.cloudflare.com/fundamentals/api/reference/limits/).
//
// Everything is in memory; a Server is safe for concurrent use.
package cloudflaretest

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
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

// Token is an API token and what it may do.
type Token struct {
	// Zones the token's permissions cover (names); nil means every zone
	// of the account.
	Zones []string
	// ZoneRead is the Zone:Read permission: listing and finding zones.
	ZoneRead bool
	// DNSEdit is the DNS:Edit permission: reading and writing records.
	DNSEdit bool
}

// Options configures a Server. The zero value is usable: one token
// (DefaultToken) with Zone:Read and DNS:Edit on every zone.
type Options struct {
	// Tokens maps API tokens to their permissions; nil means DefaultToken
	// with both permissions on every zone.
	Tokens map[string]Token
	// Email and GlobalKey, when set, are accepted as X-Auth-Email and
	// X-Auth-Key with every permission.
	Email, GlobalKey string
	// RateLimit is the number of requests accepted in any 5-minute window
	// before every call is blocked for 5 minutes; 0 means 1200, negative
	// means unlimited.
	RateLimit int
	// BatchLimit is the number of operations one batch may hold; 0 means
	// 200 (the Free plan's).
	BatchLimit int
	// MaxPerPage caps per_page of dns_records lists; 0 means 5000000 (the
	// API's). Small values make pagination visible in tests.
	MaxPerPage int
	// TLS serves HTTPS (httptest's certificate for 127.0.0.1) instead of
	// plain HTTP.
	TLS bool
	// Now is the clock of the rate limit; nil means time.Now.
	Now func() time.Time
}

// DefaultToken is the token the zero Options accept.
const DefaultToken = "Sn3lZJTBX6kkg7OdcBUAxOO963GEIyGQqnFTOFYY"

// Record is one DNS record as the API shows it. Name is the FQDN without
// the trailing dot, as the API writes it.
type Record struct {
	ID      string `json:"id"`
	ZoneID  string `json:"zone_id"`
	Zone    string `json:"zone_name"`
	Name    string `json:"name"`
	Type    string `json:"type"`
	Content string `json:"content"`
	TTL     int    `json:"ttl"`
	Proxied bool   `json:"proxied"`
	Comment string `json:"comment,omitempty"`
}

// Fault is an injected failure for the next matching call.
type Fault struct {
	Status  int    // HTTP status
	Code    int    // error code in errors[]; 0 for none
	Message string // error message
	// RetryAfter is the retry-after header, seconds ("" none).
	RetryAfter string
	// Body, when set, is sent as is instead of an envelope (an HTML error
	// page of a proxy in between).
	Body string
}

// Request is what the server saw of one call.
type Request struct {
	Method, Path, Query string
	UserAgent           string
	// Ops is, for a batch, the number of deletes and posts.
	Deletes, Posts int
}

type zone struct {
	id, name, status string
	records          []Record
}

// Server is the fake API. Create it with NewServer and Close it.
type Server struct {
	srv  *httptest.Server
	opts Options

	mu           sync.Mutex
	zones        []*zone
	window       []time.Time
	blockedUntil time.Time
	faults       map[string][]Fault
	requests     []Request
	onChange     func(zone string)
}

// NewServer starts a fake on 127.0.0.1. The API base is URL().
func NewServer(opts Options) *Server {
	if opts.Tokens == nil {
		opts.Tokens = map[string]Token{DefaultToken: {ZoneRead: true, DNSEdit: true}}
	}
	if opts.RateLimit == 0 {
		opts.RateLimit = 1200
	}
	if opts.BatchLimit == 0 {
		opts.BatchLimit = 200
	}
	if opts.MaxPerPage == 0 {
		opts.MaxPerPage = 5000000
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{opts: opts, faults: map[string][]Fault{}}
	h := http.HandlerFunc(s.handle)
	if opts.TLS {
		s.srv = httptest.NewTLSServer(h)
	} else {
		s.srv = httptest.NewServer(h)
	}
	return s
}

// URL is the API base, as CLOUDFLARE_BASE_URL takes it
// (http://127.0.0.1:port/client/v4).
func (s *Server) URL() string { return s.srv.URL + "/client/v4" }

// Client returns an HTTP client that trusts the server (for TLS).
func (s *Server) Client() *http.Client { return s.srv.Client() }

// CertPEM is the server's certificate in PEM, for a trust file; nil
// without TLS.
func (s *Server) CertPEM() []byte {
	if s.srv.Certificate() == nil {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.srv.Certificate().Raw})
}

// Certificate is the server's certificate; nil without TLS.
func (s *Server) Certificate() *x509.Certificate { return s.srv.Certificate() }

// Close shuts the server down.
func (s *Server) Close() { s.srv.Close() }

// AddZone adds an active zone and returns its ID.
func (s *Server) AddZone(name string, records ...Record) string {
	return s.AddZoneStatus(name, "active", records...)
}

// AddZoneStatus adds a zone in the given status ("active", "pending",
// "moved", ...) and returns its ID. Records get IDs; TTL 0 becomes 1
// (automatic).
func (s *Server) AddZoneStatus(name, status string, records ...Record) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	z := &zone{id: newID(), name: strings.ToLower(strings.TrimSuffix(name, ".")), status: status}
	for _, r := range records {
		z.records = append(z.records, z.stamp(r))
	}
	s.zones = append(s.zones, z)
	return z.id
}

func (z *zone) stamp(r Record) Record {
	r.ID, r.ZoneID, r.Zone = newID(), z.id, z.name
	r.Name = strings.ToLower(strings.TrimSuffix(r.Name, "."))
	r.Type = strings.ToUpper(r.Type)
	if r.TTL == 0 {
		r.TTL = 1
	}
	return r
}

// Records returns a copy of zone's records in the API's order (by name,
// type, content).
func (s *Server) Records(zoneName string) []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	z := s.byName(zoneName)
	if z == nil {
		return nil
	}
	out := append([]Record(nil), z.records...)
	sortRecords(out)
	return out
}

// TXT returns the TXT contents at fqdn, unquoted, sorted.
func (s *Server) TXT(fqdn string) []string {
	fqdn = strings.ToLower(strings.TrimSuffix(fqdn, "."))
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, z := range s.zones {
		for _, r := range z.records {
			if r.Type == "TXT" && r.Name == fqdn {
				out = append(out, Unquote(r.Content))
			}
		}
	}
	sort.Strings(out)
	return out
}

// OnChange registers f, called (outside the lock) with the zone's name
// after every batch that changed it: where a test publishes the zone to
// the authoritative server the CA asks, as Cloudflare's edge would.
func (s *Server) OnChange(f func(zone string)) { s.mu.Lock(); s.onChange = f; s.mu.Unlock() }

// InjectFault makes the next call whose "METHOD /path-kind" matches key
// fail with f. Keys: "GET zones", "GET records", "POST batch".
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

// Count returns how many requests matched "METHOD kind" (see InjectFault).
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

// Unquote returns TXT content as its text: the quoted character strings
// joined, or the content itself when it is not quoted.
func Unquote(c string) string {
	c = strings.TrimSpace(c)
	if !strings.HasPrefix(c, `"`) || !strings.HasSuffix(c, `"`) || len(c) < 2 {
		return c
	}
	var b strings.Builder
	in := false
	for i := 0; i < len(c); i++ {
		ch := c[i]
		switch {
		case ch == '\\' && in && i+1 < len(c):
			i++
			b.WriteByte(c[i])
		case ch == '"':
			in = !in
		case in:
			b.WriteByte(ch)
		}
	}
	return b.String()
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func sortRecords(rs []Record) {
	sort.SliceStable(rs, func(i, j int) bool {
		if rs[i].Name != rs[j].Name {
			return rs[i].Name < rs[j].Name
		}
		if rs[i].Type != rs[j].Type {
			return rs[i].Type < rs[j].Type
		}
		return rs[i].Content < rs[j].Content
	})
}

func (s *Server) byName(name string) *zone {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	for _, z := range s.zones {
		if z.name == name {
			return z
		}
	}
	return nil
}

func (s *Server) byID(id string) *zone {
	for _, z := range s.zones {
		if z.id == id {
			return z
		}
	}
	return nil
}

// kind names the endpoint of path for faults and counts.
func kind(path string) string {
	p := strings.Trim(strings.TrimPrefix(path, "/client/v4"), "/")
	parts := strings.Split(p, "/")
	switch {
	case len(parts) == 1 && parts[0] == "zones":
		return "zones"
	case len(parts) == 3 && parts[0] == "zones" && parts[2] == "dns_records":
		return "records"
	case len(parts) == 4 && parts[0] == "zones" && parts[2] == "dns_records" && parts[3] == "batch":
		return "batch"
	}
	return p
}

// apiError is one item of errors[].
type apiError struct {
	Code       int        `json:"code"`
	Message    string     `json:"message"`
	ErrorChain []apiError `json:"error_chain,omitempty"`
}

type resultInfo struct {
	Page       int `json:"page"`
	PerPage    int `json:"per_page"`
	Count      int `json:"count"`
	TotalCount int `json:"total_count"`
	TotalPages int `json:"total_pages"`
}

func send(w http.ResponseWriter, status int, result any, info *resultInfo, errs ...apiError) {
	body := map[string]any{"success": len(errs) == 0, "errors": errs, "messages": []any{}, "result": result}
	if errs == nil {
		body["errors"] = []any{}
	}
	if info != nil {
		body["result_info"] = info
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func fail(w http.ResponseWriter, status, code int, msg string, chain ...apiError) {
	send(w, status, nil, nil, apiError{Code: code, Message: msg, ErrorChain: chain})
}

// auth returns the permissions of the request's credentials, or writes
// the API's answer to bad ones.
func (s *Server) auth(w http.ResponseWriter, r *http.Request) (Token, bool) {
	if email, key := r.Header.Get("X-Auth-Email"), r.Header.Get("X-Auth-Key"); email != "" || key != "" {
		switch {
		case key == "" || strings.ContainsAny(key, " \t") || len(key) != 37 && len(key) != 32:
			fail(w, http.StatusBadRequest, 6003, "Invalid request headers", apiError{Code: 6103, Message: "Invalid format for X-Auth-Key header"})
		case !strings.Contains(email, "@"):
			fail(w, http.StatusBadRequest, 6003, "Invalid request headers", apiError{Code: 6102, Message: "Invalid format for X-Auth-Email header"})
		case s.opts.GlobalKey == "" || email != s.opts.Email || key != s.opts.GlobalKey:
			fail(w, http.StatusForbidden, 9103, "Unknown X-Auth-Key or X-Auth-Email")
		default:
			return Token{ZoneRead: true, DNSEdit: true}, true
		}
		return Token{}, false
	}
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" || strings.ContainsAny(tok, " \t") {
		fail(w, http.StatusBadRequest, 6003, "Invalid request headers", apiError{Code: 6111, Message: "Invalid format for Authorization header"})
		return Token{}, false
	}
	t, known := s.opts.Tokens[tok]
	if !known {
		fail(w, http.StatusBadRequest, 1000, "Invalid API Token")
		return Token{}, false
	}
	return t, true
}

func (t Token) covers(zone string) bool {
	if t.Zones == nil {
		return true
	}
	for _, z := range t.Zones {
		if strings.EqualFold(strings.TrimSuffix(z, "."), zone) {
			return true
		}
	}
	return false
}

// limited counts the request against the rate limit and answers 429 when
// the account is blocked.
func (s *Server) limited(w http.ResponseWriter) bool {
	if s.opts.RateLimit < 0 {
		return false
	}
	now := s.opts.Now()
	if now.Before(s.blockedUntil) {
		s.tooMany(w, now)
		return true
	}
	cut := now.Add(-5 * time.Minute)
	i := 0
	for i < len(s.window) && !s.window[i].After(cut) {
		i++
	}
	s.window = append(s.window[i:], now)
	if len(s.window) > s.opts.RateLimit {
		s.blockedUntil = now.Add(5 * time.Minute)
		s.tooMany(w, now)
		return true
	}
	return false
}

func (s *Server) tooMany(w http.ResponseWriter, now time.Time) {
	secs := int((s.blockedUntil.Sub(now) + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	fail(w, http.StatusTooManyRequests, 971, "Please wait and consider throttling your request speed")
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	var changed string
	defer func() {
		if changed == "" {
			return
		}
		s.mu.Lock()
		f := s.onChange
		s.mu.Unlock()
		if f != nil {
			f(changed)
		}
	}()
	s.mu.Lock()
	defer s.mu.Unlock()
	req := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, UserAgent: r.UserAgent()}
	s.requests = append(s.requests, req)
	if s.limited(w) {
		return
	}
	k := kind(r.URL.Path)
	if fs := s.faults[r.Method+" "+k]; len(fs) > 0 {
		f := fs[0]
		s.faults[r.Method+" "+k] = fs[1:]
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		if f.Body != "" {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(f.Status)
			_, _ = w.Write([]byte(f.Body))
			return
		}
		if f.Code == 0 {
			send(w, f.Status, nil, nil, []apiError{}...)
			return
		}
		fail(w, f.Status, f.Code, f.Message)
		return
	}
	tok, ok := s.auth(w, r)
	if !ok {
		return
	}
	parts := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.Path, "/client/v4"), "/"), "/")
	switch {
	case k == "zones" && r.Method == http.MethodGet:
		s.listZones(w, r, tok)
	case k == "records" && r.Method == http.MethodGet:
		if z := s.zoneFor(w, parts[1], tok); z != nil {
			s.listRecords(w, r, z)
		}
	case k == "batch" && r.Method == http.MethodPost:
		if z := s.zoneFor(w, parts[1], tok); z != nil {
			if s.batch(w, r, z, &s.requests[len(s.requests)-1]) {
				changed = z.name
			}
		}
	case len(parts) == 2 && parts[0] == "zones" || k == "records" || k == "batch":
		fail(w, http.StatusMethodNotAllowed, 10405, "Method not allowed for this route")
	default:
		fail(w, http.StatusBadRequest, 7000, "No route for that URI")
	}
}

// zoneFor finds the zone of a path's identifier that tok may edit.
func (s *Server) zoneFor(w http.ResponseWriter, id string, tok Token) *zone {
	z := s.byID(id)
	if len(id) != 32 {
		fail(w, http.StatusBadRequest, 7003, "Could not route to /zones/"+id+"/dns_records, perhaps your object identifier is invalid?")
		return nil
	}
	if z == nil || !tok.DNSEdit || !tok.covers(z.name) {
		// The API does not tell a zone of another account from one the
		// token may not touch.
		fail(w, http.StatusForbidden, 10000, "Authentication error")
		return nil
	}
	return z
}

func page(r *http.Request, def, maxPer int) (pg, per int) {
	pg, _ = strconv.Atoi(r.URL.Query().Get("page"))
	per, _ = strconv.Atoi(r.URL.Query().Get("per_page"))
	if pg < 1 {
		pg = 1
	}
	if per == 0 {
		per = def
	}
	return pg, min(max(per, 5), maxPer)
}

func paginate[T any](all []T, pg, per int) ([]T, *resultInfo) {
	info := &resultInfo{Page: pg, PerPage: per, TotalCount: len(all), TotalPages: (len(all) + per - 1) / per}
	if info.TotalPages == 0 {
		info.TotalPages = 1
	}
	lo := min((pg-1)*per, len(all))
	hi := min(lo+per, len(all))
	out := all[lo:hi]
	if out == nil {
		out = []T{}
	}
	info.Count = len(out)
	return out, info
}

type zoneJSON struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status"`
	Type   string `json:"type"`
}

func (s *Server) listZones(w http.ResponseWriter, r *http.Request, tok Token) {
	pg, per := page(r, 20, 50)
	name := strings.ToLower(r.URL.Query().Get("name"))
	var all []zoneJSON
	for _, z := range s.zones {
		if !tok.ZoneRead || !tok.covers(z.name) || name != "" && z.name != name {
			continue
		}
		all = append(all, zoneJSON{ID: z.id, Name: z.name, Status: z.status, Type: "full"})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })
	out, info := paginate(all, pg, per)
	send(w, http.StatusOK, out, info)
}

func (s *Server) listRecords(w http.ResponseWriter, r *http.Request, z *zone) {
	pg, per := page(r, 100, s.opts.MaxPerPage)
	q := r.URL.Query()
	typ := strings.ToUpper(q.Get("type"))
	name := q.Get("name.exact")
	if name == "" {
		name = q.Get("name")
	}
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	var all []Record
	for _, rec := range z.records {
		if typ != "" && rec.Type != typ || name != "" && rec.Name != name {
			continue
		}
		all = append(all, rec)
	}
	sortRecords(all)
	out, info := paginate(all, pg, per)
	send(w, http.StatusOK, out, info)
}

type batchBody struct {
	Deletes []struct {
		ID string `json:"id"`
	} `json:"deletes"`
	Patches []json.RawMessage `json:"patches"`
	Puts    []json.RawMessage `json:"puts"`
	Posts   []Record          `json:"posts"`
}

// batch applies a batch as one transaction; it reports whether the zone
// changed.
func (s *Server) batch(w http.ResponseWriter, r *http.Request, z *zone, seen *Request) bool {
	var b batchBody
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 8<<20))
	if err := dec.Decode(&b); err != nil {
		fail(w, http.StatusBadRequest, 9207, "Request body is invalid.")
		return false
	}
	seen.Deletes, seen.Posts = len(b.Deletes), len(b.Posts)
	if n := len(b.Deletes) + len(b.Patches) + len(b.Puts) + len(b.Posts); n > s.opts.BatchLimit {
		fail(w, http.StatusBadRequest, 81000, fmt.Sprintf("Batch size %d exceeds the limit of %d operations for this zone's plan", n, s.opts.BatchLimit))
		return false
	}
	if len(b.Patches)+len(b.Puts) > 0 {
		fail(w, http.StatusBadRequest, 1004, "DNS Validation Error: this fake takes deletes and posts only")
		return false
	}
	recs := append([]Record(nil), z.records...)
	var deleted, posted []Record
	for _, d := range b.Deletes {
		i := indexID(recs, d.ID)
		if i < 0 {
			fail(w, http.StatusNotFound, 81044, "Record does not exist.")
			return false
		}
		deleted = append(deleted, recs[i])
		recs = append(recs[:i], recs[i+1:]...)
	}
	for _, p := range b.Posts {
		p.Name = strings.ToLower(strings.TrimSuffix(p.Name, "."))
		p.Type = strings.ToUpper(p.Type)
		switch {
		case p.Name != z.name && !strings.HasSuffix(p.Name, "."+z.name):
			fail(w, http.StatusBadRequest, 1004, "DNS Validation Error", apiError{Code: 9007, Message: "Record name " + p.Name + " is not in zone " + z.name})
			return false
		case p.TTL != 1 && (p.TTL < 60 || p.TTL > 86400):
			fail(w, http.StatusBadRequest, 1004, "DNS Validation Error", apiError{Code: 9021, Message: "Invalid TTL. Must be between 60 and 86400 seconds, or 1 for Automatic."})
			return false
		case p.Type != "TXT":
			fail(w, http.StatusBadRequest, 1004, "DNS Validation Error: this fake takes TXT records only")
			return false
		case p.Content == "" || len(Unquote(p.Content)) > 2048:
			fail(w, http.StatusBadRequest, 1004, "DNS Validation Error", apiError{Code: 9005, Message: "Content for TXT record is invalid."})
			return false
		}
		for _, o := range recs {
			switch {
			case o.Name == p.Name && o.Type == "CNAME":
				fail(w, http.StatusBadRequest, 81054, "A CNAME record with that host already exists.")
				return false
			case o.Name == p.Name && o.Type == "TXT" && Unquote(o.Content) == Unquote(p.Content):
				fail(w, http.StatusBadRequest, 81058, "An identical record already exists.")
				return false
			}
		}
		rec := z.stamp(p)
		recs = append(recs, rec)
		posted = append(posted, rec)
	}
	z.records = recs
	if deleted == nil {
		deleted = []Record{}
	}
	if posted == nil {
		posted = []Record{}
	}
	send(w, http.StatusOK, map[string]any{"deletes": deleted, "patches": []any{}, "puts": []any{}, "posts": posted}, nil)
	return len(deleted)+len(posted) > 0
}

func indexID(rs []Record, id string) int {
	for i, r := range rs {
		if r.ID == id {
			return i
		}
	}
	return -1
}
