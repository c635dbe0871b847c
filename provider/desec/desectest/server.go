// Package desectest is a fake deSEC API (https://desec.readthedocs.io/)
// for tests: an httptest server on 127.0.0.1 that behaves as deSEC's
// documentation describes it, bad sides included:
//
//   - token authentication (Authorization: Token …), 401 otherwise, 403
//     for a domain the token's policy may not write;
//   - GET /domains/ with ?owns_qname= (the one domain responsible for a
//     name, the longest match) or paginated;
//   - cursor pagination of domains and RRsets: a collection larger than a
//     page is refused with 400 unless ?cursor= is given, and pages are
//     chained by Link headers (rel="next");
//   - RRsets replaced whole: a bulk PATCH sends each RRset's full record
//     list, an empty list deletes the RRset, an omitted TTL keeps the
//     RRset's; the bulk is atomic (one invalid RRset and nothing is
//     written, 400 with one error object per RRset, {} for valid ones);
//   - the domain's minimum TTL (default 3600) enforced, records stored in
//     canonical presentation form, duplicates and repeated
//     (subname, type) pairs refused;
//   - throttling: 429 with Retry-After and deSEC's "Request was throttled"
//     detail, on demand.
//
// Everything is in memory; a Server is safe for concurrent use.
package desectest

import (
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// RRset is one RRset as the fake stores it: Subname "" is the apex,
// Records are in canonical presentation form (TXT values quoted).
type RRset struct {
	Subname string   `json:"subname"`
	Type    string   `json:"type"`
	TTL     int      `json:"ttl"`
	Records []string `json:"records"`
}

// DefaultToken is the token a Server accepts when Options.Token is "".
const DefaultToken = "desec-test-token-Xq3vP8sLm2Zk9RtB4wYh"

// Options configures a Server; the zero value is usable.
type Options struct {
	// Token is the accepted API token; "" is DefaultToken.
	Token string
	// PageSize is the number of items in one page; 0 is deSEC's 500.
	PageSize int
	// MinimumTTL is every new domain's minimum_ttl; 0 is deSEC's 3600.
	MinimumTTL int
}

// Request is one request the fake received.
type Request struct {
	Method, Path, Query string
	UserAgent           string
	// Authorized: the request carried the right token.
	Authorized bool
	// Status is the answer's HTTP status.
	Status int
}

type domainState struct {
	name       string
	minimumTTL int
	rrsets     map[string]*RRset // by subname + "\x00" + type
	denyWrites bool
}

// Server is a running fake deSEC API.
type Server struct {
	srv  *httptest.Server
	opts Options

	mu       sync.Mutex
	domains  map[string]*domainState
	requests []Request
	throttle []time.Duration // Retry-After of the next throttled answers
	failures []int           // statuses of the next failed answers
	onWrite  func(domain string)
	onRead   func(domain string)
	writes   map[string]int
}

// NewServer starts a fake on plain HTTP on 127.0.0.1.
func NewServer(opts Options) *Server { return start(opts, false) }

// NewTLSServer starts a fake on HTTPS on 127.0.0.1 with httptest's
// certificate; CertificatePEM returns it for clients to trust.
func NewTLSServer(opts Options) *Server { return start(opts, true) }

func start(opts Options, tls bool) *Server {
	if opts.Token == "" {
		opts.Token = DefaultToken
	}
	if opts.PageSize == 0 {
		opts.PageSize = 500
	}
	if opts.MinimumTTL == 0 {
		opts.MinimumTTL = 3600
	}
	s := &Server{opts: opts, domains: map[string]*domainState{}, writes: map[string]int{}}
	if tls {
		s.srv = httptest.NewTLSServer(http.HandlerFunc(s.serve))
	} else {
		s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	}
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// URL is the API base URL, ending in /api/v1/.
func (s *Server) URL() string { return s.srv.URL + "/api/v1/" }

// Token is the accepted API token.
func (s *Server) Token() string { return s.opts.Token }

// CertificatePEM is the TLS server's certificate (NewTLSServer only).
func (s *Server) CertificatePEM() []byte {
	if c := s.srv.Certificate(); c != nil {
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return nil
}

// AddDomain creates domain name holding rrsets (records canonicalised as
// a write would). It panics on a record that does not parse.
func (s *Server) AddDomain(name string, rrsets ...RRset) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := &domainState{name: strings.ToLower(name), minimumTTL: s.opts.MinimumTTL, rrsets: map[string]*RRset{}}
	for _, r := range rrsets {
		recs, bad := canonical(d.name, r.Subname, r.Type, r.Records)
		if bad != "" {
			panic(bad)
		}
		r.Records = recs
		d.rrsets[key(r.Subname, r.Type)] = &r
	}
	s.domains[d.name] = d
}

// RRsets returns domain's RRsets sorted by subname and type.
func (s *Server) RRsets(domain string) []RRset {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.domains[domain]
	if d == nil {
		return nil
	}
	return d.sorted(func(*RRset) bool { return true })
}

// RRset returns one RRset of domain.
func (s *Server) RRset(domain, subname, typ string) (RRset, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d := s.domains[domain]; d != nil {
		if r := d.rrsets[key(subname, typ)]; r != nil {
			return clone(*r), true
		}
	}
	return RRset{}, false
}

// SetRRset replaces (or, with no records, deletes) one RRset of domain
// directly, as another writer would.
func (s *Server) SetRRset(domain string, r RRset) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.domains[domain]
	if len(r.Records) == 0 {
		delete(d.rrsets, key(r.Subname, r.Type))
		return
	}
	recs, bad := canonical(d.name, r.Subname, r.Type, r.Records)
	if bad != "" {
		panic(bad)
	}
	r.Records = recs
	d.rrsets[key(r.Subname, r.Type)] = &r
}

// Throttle makes the next n requests answer 429 with Retry-After
// (whole seconds, as deSEC sends it).
func (s *Server) Throttle(n int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.throttle = append(s.throttle, retryAfter)
	}
}

// Fail makes the next n requests answer status with a "detail" body.
func (s *Server) Fail(n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failures = append(s.failures, status)
	}
}

// DenyWrites makes writes to domain answer 403, as for a token whose
// scoping policy does not allow them.
func (s *Server) DenyWrites(domain string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.domains[domain].denyWrites = true
}

// OnWrite calls f after every successful write to a domain, outside the
// server's lock (tests publish the records to DNS there).
func (s *Server) OnWrite(f func(domain string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onWrite = f
}

// OnRead calls f after a successful listing of a domain's RRsets has
// been read and before it is answered, outside the server's lock: a test
// holding a reader there widens the window between a client's read and
// its write, as a slow network would.
func (s *Server) OnRead(f func(domain string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onRead = f
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Writes is the number of successful writes to domain.
func (s *Server) Writes(domain string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writes[domain]
}

// ResetRequests forgets the requests and write counts.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests, s.writes = nil, map[string]int{}
}

func key(subname, typ string) string { return strings.ToLower(subname) + "\x00" + strings.ToUpper(typ) }

func clone(r RRset) RRset {
	r.Records = append([]string(nil), r.Records...)
	return r
}

func (d *domainState) sorted(keep func(*RRset) bool) []RRset {
	var out []RRset
	for _, r := range d.rrsets {
		if keep(r) {
			out = append(out, clone(*r))
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Subname != out[j].Subname {
			return out[i].Subname < out[j].Subname
		}
		return out[i].Type < out[j].Type
	})
	return out
}

// canonical parses records as zone-file contents of typ at the name and
// returns them in canonical presentation form, as deSEC stores them; or
// deSEC's message for the records field.
func canonical(domain, subname, typ string, records []string) ([]string, string) {
	owner := domain + "."
	if subname != "" {
		owner = subname + "." + owner
	}
	seen := map[string]bool{}
	var out []string
	for _, r := range records {
		rr, err := dns.NewRR(owner + " 3600 IN " + typ + " " + r)
		if err != nil || rr == nil {
			return nil, fmt.Sprintf("Record content for type %s malformed: %q", typ, r)
		}
		c := strings.TrimPrefix(rr.String(), rr.Header().String())
		if seen[c] {
			return nil, "Duplicate record content: this is identical to another record in the same RRset"
		}
		seen[c] = true
		out = append(out, c)
	}
	return out, ""
}

type answer struct {
	status int
	body   any
	header http.Header
}

func detail(status int, msg string) answer {
	return answer{status: status, body: map[string]string{"detail": msg}}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	a, written := s.handle(r)
	if path, ok := strings.CutPrefix(r.URL.Path, "/api/v1/domains/"); ok && r.Method == http.MethodGet && a.status == http.StatusOK {
		if domain, rest, _ := strings.Cut(path, "/"); rest == "rrsets/" {
			s.mu.Lock()
			f := s.onRead
			s.mu.Unlock()
			if f != nil {
				f(domain)
			}
		}
	}
	for k, v := range a.header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.status)
	if a.body != nil {
		_ = json.NewEncoder(w).Encode(a.body)
	}
	if written != "" {
		s.mu.Lock()
		f := s.onWrite
		s.mu.Unlock()
		if f != nil {
			f(written)
		}
	}
}

func (s *Server) handle(r *http.Request) (a answer, written string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	req := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, UserAgent: r.Header.Get("User-Agent"),
		Authorized: r.Header.Get("Authorization") == "Token "+s.opts.Token}
	defer func() { req.Status = a.status; s.requests = append(s.requests, req) }()

	if len(s.throttle) > 0 {
		ra := s.throttle[0]
		s.throttle = s.throttle[1:]
		secs := int((ra + time.Second - 1) / time.Second)
		a = detail(http.StatusTooManyRequests, fmt.Sprintf("Request was throttled. Expected available in %d seconds.", secs))
		a.header = http.Header{"Retry-After": {strconv.Itoa(secs)}}
		return a, ""
	}
	if len(s.failures) > 0 {
		st := s.failures[0]
		s.failures = s.failures[1:]
		return detail(st, http.StatusText(st)), ""
	}
	switch h := r.Header.Get("Authorization"); {
	case h == "":
		return detail(http.StatusUnauthorized, "Authentication credentials were not provided."), ""
	case !req.Authorized:
		return detail(http.StatusUnauthorized, "Invalid token."), ""
	}
	path, ok := strings.CutPrefix(r.URL.Path, "/api/v1/domains/")
	if !ok {
		return detail(http.StatusNotFound, "Not found."), ""
	}
	parts := strings.Split(strings.TrimSuffix(path, "/"), "/")
	switch {
	case path == "" && r.Method == http.MethodGet:
		return s.listDomains(r), ""
	case len(parts) == 1 && r.Method == http.MethodGet:
		d := s.domains[strings.ToLower(parts[0])]
		if d == nil {
			return detail(http.StatusNotFound, "Not found."), ""
		}
		return answer{status: http.StatusOK, body: domainJSON(d)}, ""
	case len(parts) == 2 && parts[1] == "rrsets":
		d := s.domains[strings.ToLower(parts[0])]
		if d == nil {
			return detail(http.StatusNotFound, "Not found."), ""
		}
		switch r.Method {
		case http.MethodGet:
			return s.listRRsets(r, d), ""
		case http.MethodPatch, http.MethodPut:
			if d.denyWrites {
				return detail(http.StatusForbidden, "You do not have permission to perform this action."), ""
			}
			a := s.bulk(r, d)
			if a.status == http.StatusOK {
				s.writes[d.name]++
				return a, d.name
			}
			return a, ""
		}
		return detail(http.StatusMethodNotAllowed, fmt.Sprintf("Method %q not allowed.", r.Method)), ""
	}
	return detail(http.StatusNotFound, "Not found."), ""
}

func domainJSON(d *domainState) map[string]any {
	return map[string]any{"name": d.name, "minimum_ttl": d.minimumTTL, "created": "2026-01-01T00:00:00Z", "published": "2026-01-01T00:00:00Z"}
}

func (s *Server) listDomains(r *http.Request) answer {
	names := make([]string, 0, len(s.domains))
	for n := range s.domains {
		names = append(names, n)
	}
	sort.Strings(names)
	if q := r.URL.Query().Get("owns_qname"); q != "" {
		q = strings.TrimSuffix(strings.ToLower(q), ".")
		best := ""
		for _, n := range names {
			if (q == n || strings.HasSuffix(q, "."+n)) && len(n) > len(best) {
				best = n
			}
		}
		out := []map[string]any{}
		if best != "" {
			out = append(out, domainJSON(s.domains[best]))
		}
		return answer{status: http.StatusOK, body: out}
	}
	items := make([]any, len(names))
	for i, n := range names {
		items[i] = domainJSON(s.domains[n])
	}
	return s.page(r, items)
}

func (s *Server) listRRsets(r *http.Request, d *domainState) answer {
	q := r.URL.Query()
	sets := d.sorted(func(x *RRset) bool {
		if v, ok := q["subname"]; ok && !strings.EqualFold(v[0], x.Subname) {
			return false
		}
		if v, ok := q["type"]; ok && !strings.EqualFold(v[0], x.Type) {
			return false
		}
		return true
	})
	items := make([]any, len(sets))
	for i, x := range sets {
		items[i] = rrsetJSON(d, x)
	}
	return s.page(r, items)
}

func rrsetJSON(d *domainState, x RRset) map[string]any {
	name := d.name + "."
	if x.Subname != "" {
		name = x.Subname + "." + name
	}
	return map[string]any{"domain": d.name, "subname": x.Subname, "name": name, "type": x.Type, "ttl": x.TTL,
		"records": x.Records, "created": "2026-01-01T00:00:00Z", "touched": "2026-01-01T00:00:00Z"}
}

// page answers one page of items: all of them when they fit in a page and
// no cursor was asked for; 400 when they do not fit and no cursor was
// given; else the page at the cursor (an item offset here, opaque to
// clients) with Link headers.
func (s *Server) page(r *http.Request, items []any) answer {
	q := r.URL.Query()
	cur, hasCursor := q["cursor"]
	if !hasCursor {
		if len(items) > s.opts.PageSize {
			return detail(http.StatusBadRequest, fmt.Sprintf("Pagination required. You can query up to %d items at a time ([...]?cursor=)", s.opts.PageSize))
		}
		return answer{status: http.StatusOK, body: items}
	}
	start := 0
	if cur[0] != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(cur[0], "o"))
		if err != nil || n < 0 || n > len(items) {
			return detail(http.StatusBadRequest, "Invalid cursor.")
		}
		start = n
	}
	end := min(start+s.opts.PageSize, len(items))
	link := func(rel, c string) string {
		u := url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path}
		if r.TLS != nil {
			u.Scheme = "https"
		}
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		v.Set("cursor", c)
		u.RawQuery = v.Encode()
		return fmt.Sprintf("<%s>; rel=%q", u.String(), rel)
	}
	links := []string{link("first", "")}
	if start > 0 {
		links = append(links, link("prev", "o"+strconv.Itoa(max(start-s.opts.PageSize, 0))))
	}
	if end < len(items) {
		links = append(links, link("next", "o"+strconv.Itoa(end)))
	}
	return answer{status: http.StatusOK, body: items[start:end], header: http.Header{"Link": {strings.Join(links, ", ")}}}
}

// bulkItem is one RRset of a bulk request: TTL and Records may be left
// out (nil) for an RRset that exists.
type bulkItem struct {
	Subname *string   `json:"subname"`
	Type    *string   `json:"type"`
	TTL     *int      `json:"ttl"`
	Records *[]string `json:"records"`
}

// bulk applies a PATCH (or PUT) of many RRsets at once: validated as a
// whole, applied only when every item is valid.
func (s *Server) bulk(r *http.Request, d *domainState) answer {
	var items []bulkItem
	if err := json.NewDecoder(r.Body).Decode(&items); err != nil {
		return answer{status: http.StatusBadRequest, body: map[string]any{"non_field_errors": []string{"Expected a list of items but got something else."}}}
	}
	errs := make([]map[string][]string, len(items))
	bad := false
	type change struct {
		k   string
		set *RRset // nil: delete
	}
	var changes []change
	seen := map[string]int{}
	for i, it := range items {
		e := map[string][]string{}
		errs[i] = e
		if it.Subname == nil {
			e["subname"] = []string{"This field is required."}
		}
		if it.Type == nil {
			e["type"] = []string{"This field is required."}
		}
		if len(e) > 0 {
			bad = true
			continue
		}
		sub, typ := strings.ToLower(*it.Subname), strings.ToUpper(*it.Type)
		k := key(sub, typ)
		if j, dup := seen[k]; dup {
			e["non_field_errors"] = []string{fmt.Sprintf("Same subname and type as in position(s) %d, but must be unique.", j)}
			bad = true
			continue
		}
		seen[k] = i
		old := d.rrsets[k]
		if it.Records != nil && len(*it.Records) == 0 {
			changes = append(changes, change{k: k})
			continue
		}
		next := RRset{Subname: sub, Type: typ}
		switch {
		case it.TTL != nil:
			next.TTL = *it.TTL
		case old != nil:
			next.TTL = old.TTL
		default:
			e["ttl"] = []string{"This field is required for new RRsets."}
		}
		if it.TTL != nil && *it.TTL < d.minimumTTL {
			e["ttl"] = []string{fmt.Sprintf("Ensure this value is greater than or equal to %d.", d.minimumTTL)}
		}
		if it.TTL != nil && *it.TTL > 604800 {
			e["ttl"] = []string{"Ensure this value is less than or equal to 604800."}
		}
		switch {
		case it.Records != nil:
			recs, msg := canonical(d.name, sub, typ, *it.Records)
			if msg != "" {
				e["records"] = []string{msg}
			}
			next.Records = recs
		case old != nil:
			next.Records = append([]string(nil), old.Records...)
		default:
			e["records"] = []string{"This field is required for new RRsets."}
		}
		if len(e) > 0 {
			bad = true
			continue
		}
		changes = append(changes, change{k: k, set: &next})
	}
	if bad {
		return answer{status: http.StatusBadRequest, body: errs}
	}
	out := []any{}
	for _, c := range changes {
		if c.set == nil {
			delete(d.rrsets, c.k)
			continue
		}
		d.rrsets[c.k] = c.set
		out = append(out, rrsetJSON(d, clone(*c.set)))
	}
	return answer{status: http.StatusOK, body: out}
}
