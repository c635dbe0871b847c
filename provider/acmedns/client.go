package acmedns

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

	"github.com/strictacme/strictacme/internal/redact"
	"github.com/strictacme/strictacme/internal/version"
)

// APIError is a non-success reply of an acme-dns compatible server. Code
// and Detail are the server's own words ({"error": …, "detail": …}), shown
// verbatim.
type APIError struct {
	Op     string // "register", "update", …
	URL    string // endpoint, without credentials
	Status int
	Code   string
	Detail string
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("acmedns %s: %s answered %d", e.Op, e.URL, e.Status)
	if e.Code != "" {
		msg += " " + e.Code
	}
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	if hint := hints[e.Code]; hint != "" && e.Detail == "" {
		msg += " (" + hint + ")"
	}
	return msg
}

var hints = map[string]string{
	"forbidden":              "wrong username/password, a subdomain that is not the account's, or a source address outside allowfrom",
	"bad_txt":                "the value must be exactly 43 base64url characters",
	"invalid_allowfrom_cidr": "every allowfrom entry must be a CIDR such as 192.0.2.0/24",
	"registration_closed":    "ask the server's operator for an account or an admin token",
}

func endpoint(base, path string) (string, error) {
	if base == "" {
		return "", fmt.Errorf("acmedns: no server URL (set server_url in the credentials file or the provider's ServerURL)")
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("acmedns: server URL %q is not an http(s) URL", redactURL(base))
	}
	return u.JoinPath(path).String(), nil
}

// redactURL removes a password from a URL for messages.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "<invalid URL>"
	}
	return u.Redacted()
}

type call struct {
	client *http.Client
	op     string
	url    string
	body   any
	hdr    map[string]string
}

func (c call) do(ctx context.Context, out any) error {
	var rd io.Reader
	if c.body != nil {
		b, err := json.Marshal(c.body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, rd)
	if err != nil {
		return fmt.Errorf("acmedns %s: %w", c.op, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", version.UserAgent())
	// Credentials in the URL (https://user:token@host/) become basic auth;
	// net/http does that, we only keep them out of messages.
	for k, v := range c.hdr {
		req.Header.Set(k, v)
	}
	client := c.client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	shown := redactURL(c.url)
	res, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("acmedns %s: %s: %v", c.op, shown, strings.ReplaceAll(err.Error(), c.url, shown))
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if res.StatusCode/100 != 2 {
		e := &APIError{Op: c.op, URL: shown, Status: res.StatusCode}
		var body struct {
			Error  string `json:"error"`
			Detail string `json:"detail"`
		}
		if json.Unmarshal(b, &body) == nil {
			e.Code, e.Detail = body.Error, body.Detail
		} else {
			e.Detail = strings.TrimSpace(string(b))
			if len(e.Detail) > 200 {
				e.Detail = e.Detail[:200]
			}
		}
		return e
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("acmedns %s: %s: reply is not the expected JSON: %v", c.op, shown, err)
		}
	}
	return nil
}

// RegisterOptions are the optional inputs of Register.
type RegisterOptions struct {
	// AllowFrom CIDRs; empty entries are dropped, and none means
	// the field is omitted (no restriction).
	AllowFrom []string
	// AdminToken is sent as "Authorization: Bearer …" for servers whose
	// registration needs it (strictacme serve with registration = "token").
	AdminToken string
	// HTTPClient (a 30 s timeout client if nil).
	HTTPClient *http.Client
}

// Register creates an account on the acme-dns compatible server at
// serverURL (POST /register, https://github.com/acme-dns/acme-dns#api) and
// returns it with ServerURL set.
// Add the record from Account.CNAME before the first issuance.
func Register(ctx context.Context, serverURL string, opts RegisterOptions) (Account, error) {
	u, err := endpoint(serverURL, "register")
	if err != nil {
		return Account{}, err
	}
	var body any
	var allow []string
	for _, a := range opts.AllowFrom {
		if a = strings.TrimSpace(a); a != "" {
			allow = append(allow, a)
		}
	}
	if len(allow) > 0 {
		body = map[string][]string{"allowfrom": allow}
	}
	hdr := map[string]string{}
	redact.Add(opts.AdminToken)
	if opts.AdminToken != "" {
		hdr["Authorization"] = "Bearer " + opts.AdminToken
	}
	var acc Account
	if err := (call{client: opts.HTTPClient, op: "register", url: u, body: body, hdr: hdr}).do(ctx, &acc); err != nil {
		return Account{}, err
	}
	if acc.Username == "" || acc.Password == "" || acc.FullDomain == "" {
		return Account{}, fmt.Errorf("acmedns register: %s: the reply lacks username, password or fulldomain", redactURL(u))
	}
	redact.Add(acc.Password)
	acc.ServerURL = serverURL
	return acc, nil
}
