package hetzner

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/strictacme/strictacme/internal/apiclient"
)

// DefaultEndpoint is the base URL of Hetzner's DNS Console API
// (https://dns.hetzner.com/api-docs).
const DefaultEndpoint = "https://dns.hetzner.com/api/v1/"

// DefaultCloudEndpoint is the base URL of the Hetzner Cloud API
// (https://docs.hetzner.cloud/), where DNS zones live since their move to
// the Hetzner Console.
const DefaultCloudEndpoint = "https://api.hetzner.cloud/v1/"

// maxPages bounds a paginated listing (100 items a page).
const maxPages = 500

type client struct {
	base  *url.URL
	cloud bool // Cloud API: Bearer token, error codes, actions
	api   *apiclient.Client
}

// endpointURL checks an API base URL; "" is the default of the API
// chosen (cloud: the Cloud API).
func endpointURL(raw string, cloud bool) (*url.URL, error) {
	def := DefaultEndpoint
	if cloud {
		def = DefaultCloudEndpoint
	}
	if raw == "" {
		raw = def
	}
	u, err := apiclient.ParseBaseURL(raw, def)
	if err != nil {
		return nil, fmt.Errorf("hetzner: %s: %v", EnvEndpoint, err)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	return u, nil
}

type request struct {
	op     string
	method string
	path   string
	query  url.Values
	body   any
}

// do sends r (apiclient retries it as the API asks) and decodes a 2xx
// answer's JSON into out.
func (c *client) do(ctx context.Context, r request, out any) error {
	u := *c.base
	u.Path += r.path
	u.RawQuery = r.query.Encode()
	var body []byte
	if r.body != nil {
		var err error
		if body, err = json.Marshal(r.body); err != nil {
			return fmt.Errorf("hetzner: %s: %w", r.op, err)
		}
	}
	b, _, err := c.api.Do(ctx, apiclient.Request{Op: r.op, Method: r.method, URL: u.String(), Body: body})
	if err != nil {
		return err
	}
	if out != nil && len(bytes.TrimSpace(b)) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("hetzner: %s: the answer is not the JSON Hetzner documents: %v", r.op, err)
		}
	}
	return nil
}

// pagination is the "meta.pagination" object of Hetzner's list answers.
type pagination struct {
	Page     int `json:"page"`
	LastPage int `json:"last_page"`
	NextPage int `json:"next_page"`
}

// pages asks for page 1, 2, … (per_page=100) until meta.pagination says
// it was the last; get decodes one answer and returns its pagination.
func (c *client) pages(ctx context.Context, r request, get func(body json.RawMessage) (pagination, error)) error {
	if r.query == nil {
		r.query = url.Values{}
	}
	r.query.Set("per_page", "100")
	for page := 1; ; page++ {
		if page > maxPages {
			return fmt.Errorf("hetzner: %s: more than %d pages; the API keeps announcing a next page", r.op, maxPages)
		}
		r.query.Set("page", fmt.Sprint(page))
		var raw json.RawMessage
		if err := c.do(ctx, r, &raw); err != nil {
			return err
		}
		p, err := get(raw)
		if err != nil {
			return fmt.Errorf("hetzner: %s: %v", r.op, err)
		}
		if p.NextPage <= page || page >= p.LastPage {
			return nil
		}
	}
}
