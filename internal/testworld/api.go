package testworld

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// APIRecord is one record in the fake provider API's JSON, the same shape
// as libdns.RR: Name relative to the zone ("@" for the apex), Type in upper
// case, TTL in seconds, Data the unescaped RDATA (raw text for TXT).
type APIRecord struct {
	Name string `json:"name"`
	Type string `json:"type"`
	TTL  int    `json:"ttl"`
	Data string `json:"data"`
}

// APIZone is one element of the GET /zones answer.
type APIZone struct {
	Name string `json:"name"` // fully qualified, e.g. "example.com."
}

// API is a fake DNS provider HTTP API (HTTPS, certificate from the world's
// test CA) that writes into the authoritative zones. Every request needs
// "Authorization: Bearer <token>" (else 401). Zones are named in paths with
// or without the final dot. Routes:
//
//	GET    /zones                 → 200 [APIZone]
//	GET    /zones/{zone}/records  → 200 [APIRecord] (SOA and NS left out)
//	POST   /zones/{zone}/records  ← [APIRecord], appended all or nothing → 200 [APIRecord]
//	DELETE /zones/{zone}/records  ← [APIRecord], each deletes the record with
//	                                exactly that name, type and data (TTL
//	                                ignored) → 200 [APIRecord] deleted
//
// Errors are {"error": "..."} with 400 (bad JSON or record, CNAME conflict),
// 404 (unknown zone), 405, 401, or an injected 429/500. It is safe for
// concurrent use.
type API struct {
	auth  *Authoritative
	token string
	srv   *httptest.Server

	mu         sync.Mutex
	failN      int
	failStatus int
	failRetry  time.Duration
	latency    time.Duration
	lag        time.Duration
	calls      map[string]int // by method
	writes     int
	zoneWrites map[string]int
	totalCalls int
}

func newAPI(auth *Authoritative, token string, cert tls.Certificate) *API {
	a := &API{auth: auth, token: token, calls: map[string]int{}, zoneWrites: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /zones", a.listZones)
	mux.HandleFunc("GET /zones/{zone}/records", a.getRecords)
	mux.HandleFunc("POST /zones/{zone}/records", a.appendRecords)
	mux.HandleFunc("DELETE /zones/{zone}/records", a.deleteRecords)
	a.srv = startTLSServer(a.wrap(mux), cert)
	return a
}

// SetServingLag makes the authoritative server serve every record the API
// accepts from now on only d later on the world's Clock, while the API
// itself confirms and lists it at once: a provider whose name servers lag
// its API (Namecheap). Zero, the default, serves writes at once.
func (a *API) SetServingLag(d time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.lag = d
}

// URL returns the API's base URL, "https://127.0.0.1:port".
func (a *API) URL() string { return a.srv.URL }

// Token returns the bearer token the API accepts.
func (a *API) Token() string { return a.token }

func (a *API) close() { a.srv.Close() }

// FailWrites makes the next n write calls (POST or DELETE) fail with HTTP
// status (500 if 0), before touching any zone. For 429 a Retry-After header
// with retryAfter in whole seconds (rounded up) is sent.
func (a *API) FailWrites(n, status int, retryAfter time.Duration) {
	if status == 0 {
		status = http.StatusInternalServerError
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.failN, a.failStatus, a.failRetry = n, status, retryAfter
}

// SetLatency delays every response by d.
func (a *API) SetLatency(d time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.latency = d
}

// Calls returns the number of requests received (any method, any outcome).
func (a *API) Calls() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.totalCalls
}

// CallsByMethod returns the number of requests with the HTTP method m.
func (a *API) CallsByMethod(m string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.calls[strings.ToUpper(m)]
}

// Writes returns the number of write calls (POST and DELETE on records)
// received, including those that failed: what a provider's rate limit counts.
func (a *API) Writes() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.writes
}

// WritesFor returns the number of write calls received for one zone.
func (a *API) WritesFor(zone string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.zoneWrites[canonical(zone)]
}

// ResetCounts sets the call and write counters to zero.
func (a *API) ResetCounts() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.totalCalls, a.writes = 0, 0
	clear(a.calls)
	clear(a.zoneWrites)
}

func (a *API) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		isWrite := (r.Method == http.MethodPost || r.Method == http.MethodDelete) && strings.HasSuffix(r.URL.Path, "/records")
		a.mu.Lock()
		a.totalCalls++
		a.calls[r.Method]++
		latency := a.latency
		var fail int
		var retry time.Duration
		if isWrite {
			a.writes++
			if parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/"); len(parts) == 3 {
				a.zoneWrites[canonical(parts[1])]++
			}
			if a.failN > 0 {
				a.failN--
				fail, retry = a.failStatus, a.failRetry
			}
		}
		a.mu.Unlock()
		if latency > 0 {
			select {
			case <-time.After(latency):
			case <-r.Context().Done():
				return
			}
		}
		if r.Header.Get("Authorization") != "Bearer "+a.token {
			apiError(w, http.StatusUnauthorized, "missing or wrong bearer token")
			return
		}
		if fail != 0 {
			if fail == http.StatusTooManyRequests || retry > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(int((retry+time.Second-1)/time.Second)))
			}
			apiError(w, fail, "injected failure")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func apiError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (a *API) listZones(w http.ResponseWriter, _ *http.Request) {
	zones := []APIZone{}
	for _, z := range a.auth.Zones() {
		zones = append(zones, APIZone{Name: z})
	}
	writeJSON(w, http.StatusOK, zones)
}

// zone returns the canonical zone named in the path, or writes 404.
func (a *API) zone(w http.ResponseWriter, r *http.Request) (string, bool) {
	z := canonical(r.PathValue("zone"))
	for _, have := range a.auth.Zones() {
		if have == z {
			return z, true
		}
	}
	apiError(w, http.StatusNotFound, "no such zone "+z)
	return "", false
}

func (a *API) getRecords(w http.ResponseWriter, r *http.Request) {
	z, ok := a.zone(w, r)
	if !ok {
		return
	}
	rrs, err := a.auth.Records(z)
	if err != nil {
		apiError(w, http.StatusNotFound, err.Error())
		return
	}
	// The API shows what it accepted, served yet or not.
	rrs = append(rrs, a.auth.Pending(z)...)
	out := []APIRecord{}
	for _, rr := range rrs {
		if t := rr.Header().Rrtype; canonical(rr.Header().Name) == z && (t == dns.TypeSOA || t == dns.TypeNS) {
			continue
		}
		out = append(out, toAPIRecord(rr, z))
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *API) readRecords(w http.ResponseWriter, r *http.Request, zone string) ([]dns.RR, bool) {
	var recs []APIRecord
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&recs); err != nil {
		apiError(w, http.StatusBadRequest, "body must be a JSON array of records: "+err.Error())
		return nil, false
	}
	rrs := make([]dns.RR, 0, len(recs))
	for _, rec := range recs {
		rr, err := fromAPIRecord(rec, zone)
		if err != nil {
			apiError(w, http.StatusBadRequest, err.Error())
			return nil, false
		}
		rrs = append(rrs, rr)
	}
	return rrs, true
}

func (a *API) appendRecords(w http.ResponseWriter, r *http.Request) {
	z, ok := a.zone(w, r)
	if !ok {
		return
	}
	rrs, ok := a.readRecords(w, r, z)
	if !ok {
		return
	}
	a.mu.Lock()
	lag := a.lag
	a.mu.Unlock()
	var err error
	if lag > 0 {
		_, err = a.auth.AddRRLate(lag, rrs...)
	} else {
		err = a.auth.AddRR(rrs...)
	}
	if err != nil {
		status := http.StatusBadRequest
		if !errors.Is(err, ErrCNAMEConflict) && !errors.Is(err, ErrNoZone) {
			status = http.StatusInternalServerError
		}
		apiError(w, status, err.Error())
		return
	}
	out := make([]APIRecord, 0, len(rrs))
	for _, rr := range rrs {
		out = append(out, toAPIRecord(rr, z))
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *API) deleteRecords(w http.ResponseWriter, r *http.Request) {
	z, ok := a.zone(w, r)
	if !ok {
		return
	}
	rrs, ok := a.readRecords(w, r, z)
	if !ok {
		return
	}
	removed := a.auth.RemoveRR(rrs...)
	out := make([]APIRecord, 0, len(removed))
	for _, rr := range removed {
		out = append(out, toAPIRecord(rr, z))
	}
	writeJSON(w, http.StatusOK, out)
}

// fromAPIRecord turns an API record of zone into an RR whose owner must be
// inside zone.
func fromAPIRecord(rec APIRecord, zone string) (dns.RR, error) {
	if rec.Name == "" {
		return nil, errors.New("record name is empty (use \"@\" for the zone apex)")
	}
	if rec.TTL < 0 {
		return nil, fmt.Errorf("record %q: negative TTL", rec.Name)
	}
	t, ok := dns.StringToType[strings.ToUpper(rec.Type)]
	if !ok {
		return nil, fmt.Errorf("record %q: unknown type %q", rec.Name, rec.Type)
	}
	name := zone
	if rec.Name != "@" {
		name = canonical(rec.Name + "." + zone)
	}
	rrs, err := makeRRs(name, t, uint32(rec.TTL), []string{rec.Data})
	if err != nil {
		return nil, err
	}
	return rrs[0], nil
}

// toAPIRecord is the inverse of fromAPIRecord.
func toAPIRecord(rr dns.RR, zone string) APIRecord {
	h := rr.Header()
	name := strings.TrimSuffix(canonical(h.Name), "."+zone)
	if canonical(h.Name) == zone {
		name = "@"
	}
	var data string
	if t, ok := rr.(*dns.TXT); ok {
		data = txtText(t)
	} else {
		data = strings.TrimPrefix(rr.String(), h.String())
	}
	return APIRecord{Name: name, Type: dns.TypeToString[h.Rrtype], TTL: int(h.Ttl), Data: data}
}
