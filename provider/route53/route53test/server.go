// Package route53test is a fake of the Amazon Route 53 API
// (https://docs.aws.amazon.com/Route53/latest/APIReference/) on loopback
// TLS, speaking its REST/XML protocol so the AWS SDK talks to it through
// its BaseEndpoint option. It has Route 53's bad sides: hosted zones and
// record sets listed in pages; RRsets replaced whole, a change batch
// applied in order and as a whole or refused with InvalidChangeBatch and
// Route 53's messages (CREATE of an RRset that exists, DELETE of one that
// does not or with other values or TTL, duplicate values, strings over 255
// bytes, names outside the zone); changes PENDING for a number of GetChange
// calls before INSYNC, and only INSYNC changes reach the name servers (the
// OnInSync hook); queued throttling answers (400 Throttling,
// PriorRequestNotComplete); requests not signed with SigV4 for the
// configured access key refused.
package route53test

import (
	"crypto/x509"
	"encoding/pem"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

const ns = "https://route53.amazonaws.com/doc/2013-04-01/"

// RRset is one resource record set of a hosted zone; values as Route 53
// shows them (TXT quoted).
type RRset struct {
	Name   string
	Type   string
	TTL    int64
	Values []string
}

// Fault is an error answer given instead of the next request's.
type Fault struct {
	Status  int
	Code    string
	Message string
}

// Throttling and PriorRequestNotComplete are Route 53's throttling
// answers.
var (
	Throttling              = Fault{Status: 400, Code: "Throttling", Message: "Rate exceeded"}
	PriorRequestNotComplete = Fault{Status: 400, Code: "PriorRequestNotComplete", Message: "The request was rejected because Route 53 was still processing a prior request."}
)

// Request is one request received.
type Request struct {
	Method, Path, Query string
	// Op is the API operation it maps to.
	Op        string
	UserAgent string
}

// Options configure a Server.
type Options struct {
	// AccessKeyID is the key requests must be signed with; "" means a
	// fixed test key.
	AccessKeyID string
	// PageSize is the page size of the lists; 0 means 100 (Route 53's
	// default for hosted zones; 300 for record sets).
	PageSize int
	// PendingPolls is how many GetChange calls answer PENDING before a
	// change is INSYNC.
	PendingPolls int
}

type zone struct {
	id, name string
	private  bool
	sets     []RRset
}

type change struct {
	id, zone string
	polls    int
	insync   bool
}

// Server is the fake API; its methods are safe for concurrent use.
type Server struct {
	srv  *httptest.Server
	opts Options

	mu       sync.Mutex
	zones    []*zone
	changes  map[string]*change
	next     int
	faults   []Fault
	requests []Request
	denied   map[string]bool
	onSync   func(zone string)
	before   func(op string)
}

// New starts a server on loopback TLS; Close stops it.
func New(opts Options) *Server {
	if opts.AccessKeyID == "" {
		opts.AccessKeyID = "AKIAIOSFODNN7EXAMPLE"
	}
	s := &Server{opts: opts, changes: map[string]*change{}, denied: map[string]bool{}}
	s.srv = httptest.NewTLSServer(http.HandlerFunc(s.handle))
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// URL is the endpoint to give the SDK (BaseEndpoint).
func (s *Server) URL() string { return s.srv.URL }

// Client is an HTTP client that trusts the server.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// RootCAs holds the server's certificate.
func (s *Server) RootCAs() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(s.srv.Certificate())
	return p
}

// AccessKeyID is the key requests must be signed with.
func (s *Server) AccessKeyID() string { return s.opts.AccessKeyID }

// AddZone adds a hosted zone and returns its ID (without /hostedzone/).
// An SOA and an NS RRset are added as Route 53 does.
func (s *Server) AddZone(name string, private bool, sets ...RRset) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	name = dns.CanonicalName(name)
	z := &zone{id: fmt.Sprintf("Z%08dFAKE%02d", 1000+s.next, s.next), name: name, private: private}
	z.sets = append(z.sets,
		RRset{Name: name, Type: "SOA", TTL: 900, Values: []string{"ns-1.awsdns-01.org. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400"}},
		RRset{Name: name, Type: "NS", TTL: 172800, Values: []string{"ns-1.awsdns-01.org.", "ns-2.awsdns-02.co.uk."}},
	)
	for _, r := range sets {
		r.Name = dns.CanonicalName(r.Name)
		z.sets = append(z.sets, r)
	}
	s.zones = append(s.zones, z)
	return z.id
}

// RRsets returns a copy of a hosted zone's RRsets in Route 53's order.
func (s *Server) RRsets(id string) []RRset {
	s.mu.Lock()
	defer s.mu.Unlock()
	z := s.zone(id)
	if z == nil {
		return nil
	}
	return sorted(z.sets)
}

// TXT returns the TXT values at fqdn in hosted zone id, unquoted, sorted.
func (s *Server) TXT(id, fqdn string) []string {
	fqdn = dns.CanonicalName(fqdn)
	var out []string
	for _, r := range s.RRsets(id) {
		if r.Name == fqdn && r.Type == "TXT" {
			for _, v := range r.Values {
				u, err := unquote(v)
				if err != nil {
					u = v
				}
				out = append(out, u)
			}
		}
	}
	sort.Strings(out)
	return out
}

// Fail queues faults, given in turn instead of the next answers.
func (s *Server) Fail(fs ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, fs...)
}

// Deny makes op answer 403 AccessDenied, as IAM does for an identity
// whose policy lacks the action.
func (s *Server) Deny(op string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.denied[op] = true
}

// OnInSync sets a function called, outside the server's lock, with the
// hosted zone's ID when a change of it turns INSYNC: when Route 53's name
// servers serve the zone as it is now.
func (s *Server) OnInSync(f func(id string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onSync = f
}

// BeforeRequest sets a function called with the operation before each
// request is handled, outside the server's lock: another writer acting
// at that moment.
func (s *Server) BeforeRequest(f func(op string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.before = f
}

// Put sets an RRset of hosted zone id as another writer would, replacing
// the one of the same name and type; no values deletes it.
func (s *Server) Put(id string, set RRset) {
	s.mu.Lock()
	defer s.mu.Unlock()
	z := s.zone(id)
	set.Name = dns.CanonicalName(set.Name)
	i := slices.IndexFunc(z.sets, func(r RRset) bool { return r.Name == set.Name && r.Type == set.Type })
	switch {
	case i >= 0 && len(set.Values) == 0:
		z.sets = slices.Delete(z.sets, i, i+1)
	case i >= 0:
		z.sets[i] = set
	case len(set.Values) > 0:
		z.sets = append(z.sets, set)
	}
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Count returns how many requests of operation op were received.
func (s *Server) Count(op string) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Op == op {
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

func (s *Server) zone(id string) *zone {
	for _, z := range s.zones {
		if z.id == id {
			return z
		}
	}
	return nil
}

// key orders names as Route 53 lists them: labels reversed.
func key(name string) string {
	labels := dns.SplitDomainName(name)
	slices.Reverse(labels)
	return strings.Join(labels, ".")
}

func sorted(sets []RRset) []RRset {
	out := make([]RRset, len(sets))
	for i, r := range sets {
		r.Values = slices.Clone(r.Values)
		out[i] = r
	}
	sort.SliceStable(out, func(i, j int) bool {
		if ki, kj := key(out[i].Name), key(out[j].Name); ki != kj {
			return ki < kj
		}
		return out[i].Type < out[j].Type
	})
	return out
}

func writeXML(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-Requestid", "8f3c0a9e-0000-4000-8000-000000000000")
	w.WriteHeader(status)
	fmt.Fprint(w, xml.Header+body)
}

func writeError(w http.ResponseWriter, f Fault) {
	writeXML(w, f.Status, fmt.Sprintf(`<ErrorResponse xmlns="%s"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>8f3c0a9e-0000-4000-8000-000000000000</RequestId></ErrorResponse>`, ns, f.Code, esc(f.Message)))
}

func invalidBatch(w http.ResponseWriter, msgs ...string) {
	var b strings.Builder
	for _, m := range msgs {
		b.WriteString("<Message>" + esc(m) + "</Message>")
	}
	writeXML(w, 400, fmt.Sprintf(`<InvalidChangeBatch xmlns="%s"><Messages>%s</Messages><RequestId>8f3c0a9e-0000-4000-8000-000000000000</RequestId></InvalidChangeBatch>`, ns, b.String()))
}

func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 32<<20))
	path := strings.TrimPrefix(r.URL.Path, "/2013-04-01")
	op := ""
	switch {
	case r.Method == http.MethodGet && path == "/hostedzone":
		op = "ListHostedZones"
	case r.Method == http.MethodGet && strings.HasPrefix(path, "/hostedzone/") && strings.HasSuffix(path, "/rrset"):
		op = "ListResourceRecordSets"
	case r.Method == http.MethodPost && strings.HasPrefix(path, "/hostedzone/") && strings.HasSuffix(strings.TrimSuffix(path, "/"), "/rrset"):
		op = "ChangeResourceRecordSets"
	case r.Method == http.MethodGet && strings.HasPrefix(path, "/change/"):
		op = "GetChange"
	}
	s.mu.Lock()
	before := s.before
	s.mu.Unlock()
	if before != nil && op != "" {
		before(op)
	}
	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Op: op, UserAgent: r.UserAgent()})
	if len(s.faults) > 0 {
		f := s.faults[0]
		s.faults = s.faults[1:]
		s.mu.Unlock()
		writeError(w, f)
		return
	}
	denied := s.denied[op]
	s.mu.Unlock()

	// SigV4 (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv.html):
	// Route 53 is signed for us-east-1 and service route53.
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential="+s.opts.AccessKeyID+"/") || !strings.Contains(auth, "/us-east-1/route53/aws4_request") || !strings.Contains(auth, "Signature=") || r.Header.Get("X-Amz-Date") == "" {
		writeError(w, Fault{Status: 403, Code: "InvalidClientTokenId", Message: "The security token included in the request is invalid."})
		return
	}
	if denied {
		writeError(w, Fault{Status: 403, Code: "AccessDenied", Message: "User: arn:aws:iam::123456789012:user/acme is not authorized to perform: route53:" + op + " because no identity-based policy allows the route53:" + op + " action"})
		return
	}
	switch op {
	case "ListHostedZones":
		s.listZones(w, r)
	case "ListResourceRecordSets":
		s.listSets(w, r, strings.TrimSuffix(strings.TrimPrefix(path, "/hostedzone/"), "/rrset"))
	case "ChangeResourceRecordSets":
		s.changeSets(w, strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(path, "/hostedzone/"), "/"), "/rrset"), body)
	case "GetChange":
		s.getChange(w, strings.TrimPrefix(path, "/change/"))
	default:
		writeError(w, Fault{Status: 404, Code: "UnknownOperationException", Message: "Unknown operation"})
	}
}

func (s *Server) pageSize(r *http.Request, def int) int {
	if n, err := strconv.Atoi(r.URL.Query().Get("maxitems")); err == nil && n > 0 {
		return n
	}
	if s.opts.PageSize > 0 {
		return s.opts.PageSize
	}
	return def
}

func (s *Server) listZones(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	size := s.pageSize(r, 100)
	start := 0
	if m := r.URL.Query().Get("marker"); m != "" {
		start = slices.IndexFunc(s.zones, func(z *zone) bool { return z.id == m })
		if start < 0 {
			writeError(w, Fault{Status: 400, Code: "InvalidInput", Message: "Invalid marker"})
			return
		}
	}
	end := min(start+size, len(s.zones))
	var b strings.Builder
	for _, z := range s.zones[start:end] {
		fmt.Fprintf(&b, `<HostedZone><Id>/hostedzone/%s</Id><Name>%s</Name><CallerReference>ref-%s</CallerReference><Config><PrivateZone>%t</PrivateZone></Config><ResourceRecordSetCount>%d</ResourceRecordSetCount></HostedZone>`, z.id, z.name, z.id, z.private, len(z.sets))
	}
	more := ""
	if end < len(s.zones) {
		more = "<NextMarker>" + s.zones[end].id + "</NextMarker>"
	}
	writeXML(w, 200, fmt.Sprintf(`<ListHostedZonesResponse xmlns="%s"><HostedZones>%s</HostedZones><Marker>%s</Marker><IsTruncated>%t</IsTruncated>%s<MaxItems>%d</MaxItems></ListHostedZonesResponse>`, ns, b.String(), esc(r.URL.Query().Get("marker")), end < len(s.zones), more, size))
}

func (s *Server) listSets(w http.ResponseWriter, r *http.Request, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	z := s.zone(id)
	if z == nil {
		writeError(w, Fault{Status: 404, Code: "NoSuchHostedZone", Message: "No hosted zone found with ID: " + id})
		return
	}
	q := r.URL.Query()
	if q.Get("type") != "" && q.Get("name") == "" {
		writeError(w, Fault{Status: 400, Code: "InvalidInput", Message: "The input is not valid: type given without name"})
		return
	}
	sets := sorted(z.sets)
	start := 0
	if n := q.Get("name"); n != "" {
		k, typ := key(dns.CanonicalName(n)), q.Get("type")
		start = len(sets)
		for i, set := range sets {
			if kk := key(set.Name); kk > k || (kk == k && set.Type >= typ) {
				start = i
				break
			}
		}
	}
	size := s.pageSize(r, 300)
	end := min(start+size, len(sets))
	var b strings.Builder
	for _, set := range sets[start:end] {
		fmt.Fprintf(&b, `<ResourceRecordSet><Name>%s</Name><Type>%s</Type><TTL>%d</TTL><ResourceRecords>`, esc(set.Name), set.Type, set.TTL)
		for _, v := range set.Values {
			b.WriteString("<ResourceRecord><Value>" + esc(v) + "</Value></ResourceRecord>")
		}
		b.WriteString("</ResourceRecords></ResourceRecordSet>")
	}
	more := ""
	if end < len(sets) {
		more = fmt.Sprintf("<NextRecordName>%s</NextRecordName><NextRecordType>%s</NextRecordType>", esc(sets[end].Name), sets[end].Type)
	}
	writeXML(w, 200, fmt.Sprintf(`<ListResourceRecordSetsResponse xmlns="%s"><ResourceRecordSets>%s</ResourceRecordSets><IsTruncated>%t</IsTruncated>%s<MaxItems>%d</MaxItems></ListResourceRecordSetsResponse>`, ns, b.String(), end < len(sets), more, size))
}

type xmlSet struct {
	Name   string   `xml:"Name"`
	Type   string   `xml:"Type"`
	TTL    *int64   `xml:"TTL"`
	Values []string `xml:"ResourceRecords>ResourceRecord>Value"`
	SetID  string   `xml:"SetIdentifier"`
}

func (s *Server) changeSets(w http.ResponseWriter, id string, body []byte) {
	var req struct {
		Changes []struct {
			Action string `xml:"Action"`
			Set    xmlSet `xml:"ResourceRecordSet"`
		} `xml:"ChangeBatch>Changes>Change"`
		Comment string `xml:"ChangeBatch>Comment"`
	}
	if err := xml.Unmarshal(body, &req); err != nil {
		writeError(w, Fault{Status: 400, Code: "MalformedInput", Message: "Could not parse the request body"})
		return
	}
	s.mu.Lock()
	z := s.zone(id)
	if z == nil {
		s.mu.Unlock()
		writeError(w, Fault{Status: 404, Code: "NoSuchHostedZone", Message: "No hosted zone found with ID: " + id})
		return
	}
	if len(req.Changes) == 0 {
		s.mu.Unlock()
		writeError(w, Fault{Status: 400, Code: "InvalidInput", Message: "1 validation error detected: Value null at 'changeBatch.changes' failed to satisfy constraint: Member must not be null"})
		return
	}
	sets := slices.Clone(z.sets)
	var msgs []string
	for _, c := range req.Changes {
		if m := apply(&sets, z.name, c.Action, c.Set); m != "" {
			msgs = append(msgs, m)
		}
	}
	if len(msgs) > 0 {
		s.mu.Unlock()
		invalidBatch(w, msgs...)
		return
	}
	z.sets = sets
	s.next++
	ch := &change{id: fmt.Sprintf("C%010dFAKE", s.next), zone: z.id}
	status := "PENDING"
	if s.opts.PendingPolls <= 0 {
		ch.insync, status = true, "INSYNC"
	}
	s.changes[ch.id] = ch
	hook := s.onSync
	s.mu.Unlock()
	if ch.insync && hook != nil {
		hook(z.id)
	}
	writeXML(w, 200, fmt.Sprintf(`<ChangeResourceRecordSetsResponse xmlns="%s"><ChangeInfo><Id>/change/%s</Id><Status>%s</Status><SubmittedAt>2026-12-03T04:00:00.000Z</SubmittedAt><Comment>%s</Comment></ChangeInfo></ChangeResourceRecordSetsResponse>`, ns, ch.id, status, esc(req.Comment)))
}

// apply runs one change on sets; it returns Route 53's message for a
// change it refuses, "" otherwise.
func apply(sets *[]RRset, zoneName, action string, x xmlSet) string {
	name := dns.CanonicalName(x.Name)
	if !dns.IsSubDomain(zoneName, name) {
		return fmt.Sprintf("RRSet with DNS name %s is not permitted in zone %s", name, zoneName)
	}
	if x.SetID != "" {
		return "fake: routing policies are not modelled"
	}
	seen := map[string]bool{}
	for _, v := range x.Values {
		if seen[v] {
			return fmt.Sprintf("[Duplicate Resource Record: '%s']", v)
		}
		seen[v] = true
		if x.Type == "TXT" {
			for _, part := range strings.Split(v, `" "`) {
				if len(strings.Trim(part, `"`)) > 255 {
					return fmt.Sprintf("[Invalid Resource Record: 'FATAL problem: TXTRDATATooLong (Value is too long) encountered with '%s'']", v)
				}
			}
		}
	}
	i := slices.IndexFunc(*sets, func(r RRset) bool { return r.Name == name && r.Type == x.Type })
	ttl := int64(0)
	if x.TTL != nil {
		ttl = *x.TTL
	}
	next := RRset{Name: name, Type: x.Type, TTL: ttl, Values: slices.Clone(x.Values)}
	switch action {
	case "CREATE":
		if i >= 0 {
			return fmt.Sprintf("Tried to create resource record set [name='%s', type='%s'] but it already exists", name, x.Type)
		}
		*sets = append(*sets, next)
	case "DELETE":
		if i < 0 {
			return fmt.Sprintf("Tried to delete resource record set [name='%s', type='%s'] but it was not found", name, x.Type)
		}
		cur := (*sets)[i]
		a, b := slices.Clone(cur.Values), slices.Clone(x.Values)
		slices.Sort(a)
		slices.Sort(b)
		if cur.TTL != ttl || !slices.Equal(a, b) {
			return fmt.Sprintf("Tried to delete resource record set [name='%s', type='%s'] but the values provided do not match the current values", name, x.Type)
		}
		*sets = slices.Delete(*sets, i, i+1)
	case "UPSERT":
		if i >= 0 {
			(*sets)[i] = next
		} else {
			*sets = append(*sets, next)
		}
	default:
		return "Invalid action " + action
	}
	return ""
}

func (s *Server) getChange(w http.ResponseWriter, id string) {
	s.mu.Lock()
	ch := s.changes[id]
	if ch == nil {
		s.mu.Unlock()
		writeError(w, Fault{Status: 404, Code: "NoSuchChange", Message: "A change with the specified change ID does not exist."})
		return
	}
	turned := false
	if !ch.insync {
		ch.polls++
		if ch.polls > s.opts.PendingPolls {
			ch.insync, turned = true, true
		}
	}
	status := "PENDING"
	if ch.insync {
		status = "INSYNC"
	}
	hook, zid := s.onSync, ch.zone
	s.mu.Unlock()
	if turned && hook != nil {
		hook(zid)
	}
	writeXML(w, 200, fmt.Sprintf(`<GetChangeResponse xmlns="%s"><ChangeInfo><Id>/change/%s</Id><Status>%s</Status><SubmittedAt>2026-12-03T04:00:00.000Z</SubmittedAt></ChangeInfo></GetChangeResponse>`, ns, id, status))
}

// unquote parses TXT data in presentation format, strings joined.
func unquote(v string) (string, error) {
	rr, err := dns.NewRR(". 0 IN TXT " + v)
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
	wire, out := buf[11:n], []byte{}
	for len(wire) > 0 {
		l := int(wire[0])
		out = append(out, wire[1:1+l]...)
		wire = wire[1+l:]
	}
	return string(out), nil
}

// CertificatePEM is the server's certificate in PEM.
func (s *Server) CertificatePEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.srv.Certificate().Raw})
}
