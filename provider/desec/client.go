package desec

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/strictacme/strictacme/internal/apiclient"
)

// DefaultEndpoint is the base URL of deSEC's API
// (https://desec.readthedocs.io/en/latest/endpoint-reference.html).
const DefaultEndpoint = "https://desec.io/api/v1/"

// maxPages bounds a paginated listing: 500 items a page, so 200 pages
// are 100 000 RRsets, far past deSEC's per-domain limits. A cursor that
// never ends is a broken answer, not a big zone.
const maxPages = 200

// client speaks deSEC's JSON API at base; api signs with the token, waits
// out throttling and turns refusals into *APIError.
type client struct {
	base *url.URL
	api  *apiclient.Client
}

// endpointURL checks Endpoint: https, or http for a loopback host only
// (test servers); the path always ends in "/".
func endpointURL(raw string) (*url.URL, error) {
	u, err := ParseEndpoint(raw)
	if err != nil {
		return nil, fmt.Errorf("desec: %s: %v", EnvEndpoint, err)
	}
	return u, nil
}

// ParseEndpoint parses an API base URL ("" is DefaultEndpoint): https, or
// http for a loopback host only, without credentials; the path ends in
// "/". Its error says what to give, not the setting, and never the URL.
func ParseEndpoint(raw string) (*url.URL, error) {
	if raw == "" {
		raw = DefaultEndpoint
	}
	u, err := apiclient.ParseBaseURL(raw, DefaultEndpoint)
	if err != nil {
		return nil, err
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	return u, nil
}

// request is one API call: op names it in messages ("listing domains").
type request struct {
	op     string
	method string
	path   string // relative to the base, e.g. "domains/example.com/rrsets/"
	query  url.Values
	body   any
}

// do sends r (apiclient retries it as the API asks) and decodes a 2xx
// answer's JSON into out (nil: ignore it). It returns the answer's Link
// header for pagination.
func (c *client) do(ctx context.Context, r request, out any) (link string, err error) {
	u := *c.base
	u.Path += r.path
	u.RawQuery = r.query.Encode()
	return c.doURL(ctx, r, u.String(), out)
}

func (c *client) doURL(ctx context.Context, r request, target string, out any) (string, error) {
	var body []byte
	if r.body != nil {
		var err error
		if body, err = json.Marshal(r.body); err != nil {
			return "", fmt.Errorf("desec: %s: %w", r.op, err)
		}
	}
	b, h, err := c.api.Do(ctx, apiclient.Request{Op: r.op, Method: r.method, URL: target, Body: body})
	if err != nil {
		return "", err
	}
	if out != nil && len(bytes.TrimSpace(b)) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return "", fmt.Errorf("desec: %s: the answer is not the JSON deSEC documents: %v", r.op, err)
		}
	}
	return h.Get("Link"), nil
}

// list follows deSEC's cursor pagination: it always sends cursor= (an
// empty cursor is the first page; omitting it makes deSEC refuse a
// collection of more than 500 items), then each rel="next" Link until
// there is none, appending every page's items to out.
func list[T any](ctx context.Context, c *client, r request, out *[]T) error {
	if r.query == nil {
		r.query = url.Values{}
	}
	r.query.Set("cursor", "")
	u := *c.base
	u.Path += r.path
	u.RawQuery = r.query.Encode()
	target := u.String()
	for page := 0; ; page++ {
		if page == maxPages {
			return fmt.Errorf("desec: %s: more than %d pages; the API keeps sending a next cursor", r.op, maxPages)
		}
		var items []T
		link, err := c.doURL(ctx, r, target, &items)
		if err != nil {
			return err
		}
		*out = append(*out, items...)
		next := nextLink(link)
		if next == "" {
			return nil
		}
		nu, err := u.Parse(next)
		if err != nil || nu.Host != u.Host || nu.Scheme != u.Scheme {
			return fmt.Errorf("desec: %s: next page link %q is not on %s", r.op, next, u.Host)
		}
		target = nu.String()
	}
}

// nextLink returns the URL of the rel="next" entry of a Link header
// (RFC 8288), "" when there is none.
func nextLink(h string) string {
	for _, part := range strings.Split(h, ",") {
		target, params, ok := strings.Cut(strings.TrimSpace(part), ";")
		if !ok {
			continue
		}
		for _, p := range strings.Split(params, ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(k, "rel") && strings.Trim(v, `"`) == "next" {
				return strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(target), "<"), ">")
			}
		}
	}
	return ""
}
