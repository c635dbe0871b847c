package testworld

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/libdns/libdns"
)

// Provider is a libdns client for the world's fake provider API. It
// implements libdns.RecordGetter, RecordAppender, RecordDeleter and
// ZoneLister; every AppendRecords and DeleteRecords call is one HTTP write
// for the whole batch, like real batch-per-zone providers. It is safe for
// concurrent use.
type Provider struct {
	// URL is the API base URL, e.g. World.APIURL.
	URL string
	// Token is the bearer token.
	Token string
	// Client sends the requests; it must trust the world's test CA
	// (World.HTTPClient).
	Client *http.Client
	// Lag is what ServingLag declares (set it to what API.SetServingLag
	// makes the world do, or to something else to test a wrong claim).
	Lag time.Duration
}

// ServingLag returns Lag: how late the provider says its name servers
// serve a write (providers.ServingLagger).
func (p *Provider) ServingLag() time.Duration { return p.Lag }

var (
	_ libdns.RecordGetter   = (*Provider)(nil)
	_ libdns.RecordAppender = (*Provider)(nil)
	_ libdns.RecordDeleter  = (*Provider)(nil)
	_ libdns.ZoneLister     = (*Provider)(nil)
)

// NewProvider returns a Provider for the API at baseURL.
func NewProvider(baseURL, token string, client *http.Client) *Provider {
	return &Provider{URL: strings.TrimSuffix(baseURL, "/"), Token: token, Client: client}
}

// APIError is an HTTP error answer from the fake provider API.
type APIError struct {
	Method     string
	URL        string
	Status     int           // HTTP status code
	RetryAfter time.Duration // from a Retry-After header in seconds, else 0
	Message    string        // the "error" field of the body
}

// Error implements error.
func (e *APIError) Error() string {
	return fmt.Sprintf("testworld provider: %s %s: HTTP %d: %s", e.Method, e.URL, e.Status, e.Message)
}

// ListZones returns the zones the API serves, names fully qualified.
func (p *Provider) ListZones(ctx context.Context) ([]libdns.Zone, error) {
	var zones []APIZone
	if err := p.do(ctx, http.MethodGet, "/zones", nil, &zones); err != nil {
		return nil, err
	}
	out := make([]libdns.Zone, len(zones))
	for i, z := range zones {
		out[i] = libdns.Zone{Name: z.Name}
	}
	return out, nil
}

// GetRecords returns every record in zone except the apex SOA and NS.
func (p *Provider) GetRecords(ctx context.Context, zone string) ([]libdns.Record, error) {
	var recs []APIRecord
	if err := p.do(ctx, http.MethodGet, recordsPath(zone), nil, &recs); err != nil {
		return nil, err
	}
	return toLibdns(recs), nil
}

// AppendRecords adds recs to zone in one POST and returns them as created.
func (p *Provider) AppendRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	body := fromLibdns(recs)
	var out []APIRecord
	if err := p.do(ctx, http.MethodPost, recordsPath(zone), body, &out); err != nil {
		return nil, err
	}
	return toLibdns(out), nil
}

// DeleteRecords deletes recs from zone and returns those that existed. As
// libdns specifies, an empty Type, zero TTL or empty Data matches any value;
// when any input uses that, the zone is read first (one GET) to expand it.
// The deletion itself is one DELETE for the whole batch.
func (p *Provider) DeleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	exact := fromLibdns(recs)
	needRead := false
	for _, r := range exact {
		if r.Type == "" || r.TTL == 0 || r.Data == "" {
			needRead = true
		}
	}
	if needRead {
		var have []APIRecord
		if err := p.do(ctx, http.MethodGet, recordsPath(zone), nil, &have); err != nil {
			return nil, err
		}
		var expanded []APIRecord
		for _, h := range have {
			for _, r := range exact {
				if strings.EqualFold(r.Name, h.Name) &&
					(r.Type == "" || strings.EqualFold(r.Type, h.Type)) &&
					(r.TTL == 0 || r.TTL == h.TTL) &&
					(r.Data == "" || r.Data == h.Data) {
					expanded = append(expanded, h)
					break
				}
			}
		}
		exact = expanded
	}
	if len(exact) == 0 {
		return nil, nil
	}
	var out []APIRecord
	if err := p.do(ctx, http.MethodDelete, recordsPath(zone), exact, &out); err != nil {
		return nil, err
	}
	return toLibdns(out), nil
}

func recordsPath(zone string) string {
	return "/zones/" + url.PathEscape(canonical(zone)) + "/records"
}

func fromLibdns(recs []libdns.Record) []APIRecord {
	out := make([]APIRecord, len(recs))
	for i, r := range recs {
		rr := r.RR()
		out[i] = APIRecord{Name: rr.Name, Type: strings.ToUpper(rr.Type), TTL: int(rr.TTL / time.Second), Data: rr.Data}
	}
	return out
}

func toLibdns(recs []APIRecord) []libdns.Record {
	out := make([]libdns.Record, 0, len(recs))
	for _, r := range recs {
		rr := libdns.RR{Name: r.Name, Type: r.Type, TTL: time.Duration(r.TTL) * time.Second, Data: r.Data}
		if parsed, err := rr.Parse(); err == nil {
			out = append(out, parsed)
		} else {
			out = append(out, rr)
		}
	}
	return out
}

// do sends one JSON request and decodes a JSON answer into out.
func (p *Provider) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("testworld provider: encoding request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	u := p.URL + path
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return fmt.Errorf("testworld provider: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+p.Token)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	client := p.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("testworld provider: %s %s: %w", method, u, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("testworld provider: %s %s: reading answer: %w", method, u, err)
	}
	if resp.StatusCode != http.StatusOK {
		e := &APIError{Method: method, URL: u, Status: resp.StatusCode}
		var msg struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(data, &msg) == nil && msg.Error != "" {
			e.Message = msg.Error
		} else {
			e.Message = strings.TrimSpace(string(data))
		}
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
			e.RetryAfter = time.Duration(s) * time.Second
		}
		return e
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("testworld provider: %s %s: decoding answer: %w", method, u, err)
	}
	return nil
}
