package powerdns

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/strictacme/strictacme/internal/retryafter"
	"github.com/strictacme/strictacme/internal/version"
)

// The API's objects (https://doc.powerdns.com/authoritative/http-api/zone.html).
type zoneInfo struct {
	ID     string  `json:"id"`
	Name   string  `json:"name"`
	Kind   string  `json:"kind,omitempty"`
	RRsets []rrset `json:"rrsets,omitempty"`
}

type rrset struct {
	Name       string   `json:"name"`
	Type       string   `json:"type"`
	TTL        int      `json:"ttl,omitempty"`
	ChangeType string   `json:"changetype,omitempty"`
	Records    []record `json:"records"`
	// Comments are never sent: a REPLACE without them keeps the RRset's
	// comments.
	Comments []json.RawMessage `json:"comments,omitempty"`
}

type record struct {
	Content  string `json:"content"`
	Disabled bool   `json:"disabled"`
}

func (z *zoneInfo) find(name, typ string) *rrset {
	for i := range z.RRsets {
		s := &z.RRsets[i]
		if strings.EqualFold(s.Name, name) && s.Type == typ {
			return s
		}
	}
	return nil
}

// maxRetries bounds the retries of a throttled or unavailable request
// (429 or 503, from a proxy in front of the API: PowerDNS itself has no
// rate limit); maxRetryWait bounds one pause.
const (
	maxRetries   = 4
	maxRetryWait = 30 * time.Second
)

type client struct {
	base, key, server string
	version           int
	http              *http.Client
}

func (c *client) zonesURL() string {
	return fmt.Sprintf("%s/api/v%d/servers/%s/zones", c.base, c.version, url.PathEscape(c.server))
}

// zoneURL is the zone's URL. The zone id is the canonical name with "/"
// written =2F (the server's escaping of ids).
func (c *client) zoneURL(zone string) string {
	return c.zonesURL() + "/" + url.PathEscape(strings.ReplaceAll(zone, "/", "=2F"))
}

func (c *client) listZones(ctx context.Context) ([]zoneInfo, error) {
	var zs []zoneInfo
	err := c.do(ctx, "listing zones", "", http.MethodGet, c.zonesURL(), nil, &zs)
	return zs, err
}

func (c *client) getZone(ctx context.Context, zone string) (*zoneInfo, error) {
	var z zoneInfo
	if err := c.do(ctx, "reading zone", zone, http.MethodGet, c.zoneURL(zone), nil, &z); err != nil {
		return nil, err
	}
	return &z, nil
}

func (c *client) patchZone(ctx context.Context, zone string, sets []rrset) error {
	body, err := json.Marshal(struct {
		RRsets []rrset `json:"rrsets"`
	}{sets})
	if err != nil {
		return err
	}
	return c.do(ctx, "changing zone", zone, http.MethodPatch, c.zoneURL(zone), body, nil)
}

// do sends one request, retrying 429 and 503 after Retry-After (at most
// maxRetries times), and decodes a 2xx JSON answer into out. Any other
// answer is an *APIError.
func (c *client) do(ctx context.Context, op, zone, method, u string, body []byte, out any) error {
	if c.base == "" {
		return fmt.Errorf("powerdns: no API URL; set %s to the server's API base URL, e.g. https://pdns.example.net:8081", EnvAPIURL)
	}
	if c.key == "" {
		return fmt.Errorf("powerdns: no API key; set %s (or %s_FILE) to the server's api-key", EnvAPIKey, EnvAPIKey)
	}
	for attempt := 0; ; attempt++ {
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, u, rd)
		if err != nil {
			return fmt.Errorf("powerdns: %s: %w", op, err)
		}
		req.Header.Set("X-API-Key", c.key)
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", version.UserAgent())
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := c.http.Do(req)
		if err != nil {
			return fmt.Errorf("powerdns: %s: %w", what(op, zone), err)
		}
		data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("powerdns: %s: reading the answer: %w", what(op, zone), err)
		}
		if (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) && attempt < maxRetries {
			wait := time.Second << attempt
			if at := retryafter.Parse(resp.Header.Get("Retry-After"), time.Now()); !at.IsZero() {
				wait = time.Until(at)
			}
			wait = min(max(wait, 0), maxRetryWait)
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return fmt.Errorf("powerdns: %s: %w", what(op, zone), ctx.Err())
			case <-t.C:
			}
			continue
		}
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			return newAPIError(op, zone, resp, data)
		}
		if out == nil || len(bytes.TrimSpace(data)) == 0 {
			return nil
		}
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("powerdns: %s: the answer is not the API's JSON (%v); check %s points at the API, not at another web server", what(op, zone), err, EnvAPIURL)
		}
		return nil
	}
}

// what is op and the zone it is about, without the zone's trailing dot:
// "reading zone example.org", or op alone when zone is "" (the zone list).
func what(op, zone string) string {
	if zone = strings.TrimSuffix(zone, "."); zone != "" {
		return op + " " + zone
	}
	return op
}
