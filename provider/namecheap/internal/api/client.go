package api

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/strictacme/strictacme/internal/apiclient"
	"github.com/strictacme/strictacme/internal/version"
	"golang.org/x/time/rate"
)

// maxBody caps how much of an answer is read: a full zone of 150 rows with
// 2500-character TXT values is well under 1 MiB.
const maxBody = 4 << 20

// Client calls the Namecheap XML API for one account. Every command is sent
// as POST with an application/x-www-form-urlencoded body, so nothing
// (including the API key) is ever in a URL: the set-hosts doc recommends
// POST (https://www.namecheap.com/support/api/methods/domains-dns/set-hosts/)
// and long query strings fail (https://github.com/caddy-dns/namecheap/issues/10).
//
// A Client is safe for concurrent use once its fields are set.
type Client struct {
	Endpoint string // full URL of xml.response, e.g. ProductionEndpoint
	APIUser  string
	APIKey   string
	UserName string // defaults to APIUser (https://www.namecheap.com/support/api/global-parameters/)
	ClientIP string // IPv4 sent as ClientIp on every call

	HTTPClient *http.Client  // nil: NewHTTPClient(nil, nil)
	Limiter    *rate.Limiter // nil: no client-side budget (tests only)
	Clock      Clock         // nil: SystemClock
	Logger     *slog.Logger  // nil: no logging; never receives the key

	// MaxAttempts bounds tries of a read command (getHosts, getList) on a
	// retryable error; 0 means 5. setHosts is never retried here: a retry
	// must redo the whole read-modify-write, never replay a stale body.
	MaxAttempts int
	// Backoff is the first retry delay, doubled each time up to 30 s; 0 means 2 s
	// (Posh-ACME's spacing for 3050750 in Plugins/Namecheap.ps1). After a
	// throttle the
	// delay is at least ThrottleBackoff.
	Backoff time.Duration
	// CallTimeout bounds one HTTP call, answer included; 0 means
	// DefaultCallTimeout. A call that gets no answer in time is a
	// *TransportError with Timeout set; it is retried once at most, so an
	// endpoint that accepts connections and never answers costs about two
	// CallTimeouts, not the 5 × 60 s of the transport's own limits.
	CallTimeout time.Duration
	// Egress, if set, is asked once for this machine's egress IPv4 when
	// the API answers 1011150, so the error can name both addresses when
	// they differ (a configured ClientIp behind NAT or a proxy).
	Egress func(ctx context.Context) (string, error)
	// ProgressEvery is how often a call still waiting for its answer is
	// reported (Info) to Logger; 0 means 10 s.
	ProgressEvery time.Duration
}

// DefaultCallTimeout is the default bound of one API call. Namecheap answers
// getHosts in about a second and setHosts in a few; 30 s is generous.
const DefaultCallTimeout = 30 * time.Second

func (c *Client) clock() Clock {
	if c.Clock == nil {
		return SystemClock{}
	}
	return c.Clock
}

func (c *Client) httpClient() *http.Client {
	if c.HTTPClient == nil {
		return NewHTTPClient(nil, nil)
	}
	return c.HTTPClient
}

// NewHTTPClient returns an HTTP client that dials IPv4 only (the whitelist
// takes IPv4 only and dual-stack hosts otherwise go out over IPv6:
// https://www.namecheap.com/support/api/global-parameters/,
// opnsense/plugins#2286), verifies TLS against roots (nil: the system
// roots) and uses proxy (nil: HTTPS_PROXY/NO_PROXY from the environment),
// which is how a fixed-egress proxy is used.
func NewHTTPClient(roots *x509.CertPool, proxy func(*http.Request) (*url.URL, error)) *http.Client {
	if proxy == nil {
		proxy = http.ProxyFromEnvironment
	}
	d := &net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy: proxy,
		DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
			return d.DialContext(ctx, "tcp4", addr)
		},
		TLSClientConfig:       &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   15 * time.Second,
		ResponseHeaderTimeout: 60 * time.Second,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
	}
	return &http.Client{Transport: tr, Timeout: 2 * time.Minute}
}

// CheckEndpoint accepts an https URL, or plain http only when the host is a
// loopback address (tests and local fakes), without credentials in it
// (apiclient.ParseBaseURL). Its error says what to give, not the setting,
// and never quotes the URL.
func CheckEndpoint(raw string) (*url.URL, error) {
	return apiclient.ParseBaseURL(raw, ProductionEndpoint)
}

// call sends one command once and decodes the envelope. It returns *Error
// for Status="ERROR", *ThrottledError for HTTP 405, *HTTPError for anything
// that is not an ApiResponse, *TransportError when no answer came.
func (c *Client) call(ctx context.Context, command string, params url.Values) (*envelope, error) {
	if err := waitLimiter(ctx, c.Limiter, c.clock()); err != nil {
		return nil, err
	}
	form := url.Values{}
	form.Set("ApiUser", c.APIUser)
	form.Set("ApiKey", c.APIKey)
	user := c.UserName
	if user == "" {
		user = c.APIUser
	}
	form.Set("UserName", user)
	form.Set("ClientIp", c.ClientIP)
	form.Set("Command", command)
	for k, vs := range params {
		form[k] = vs
	}
	timeout := c.CallTimeout
	if timeout <= 0 {
		timeout = DefaultCallTimeout
	}
	callCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	stopProgress := c.progress(callCtx, command, timeout)
	defer stopProgress()
	req, err := http.NewRequestWithContext(callCtx, http.MethodPost, c.Endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("namecheap %s: %v", shortCommand(command), c.redact(err.Error()))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/xml, text/xml")
	req.Header.Set("User-Agent", version.UserAgent())
	start := c.clock().Now()
	resp, err := c.httpClient().Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if callCtx.Err() != nil {
			return nil, &TransportError{Command: command, Err: fmt.Errorf("no answer within %s", timeout), Timeout: true}
		}
		return nil, &TransportError{Command: command, Err: errors.New(c.redact(err.Error()))}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if callCtx.Err() != nil {
			return nil, &TransportError{Command: command, Err: fmt.Errorf("no complete answer within %s", timeout), Timeout: true}
		}
		return nil, &TransportError{Command: command, Err: errors.New(c.redact(err.Error()))}
	}
	c.log("namecheap call", "command", command, "http_status", resp.StatusCode, "bytes", len(body), "elapsed", c.clock().Now().Sub(start))
	if resp.StatusCode == http.StatusMethodNotAllowed {
		return nil, &ThrottledError{Command: command}
	}
	if resp.StatusCode != http.StatusOK {
		return nil, c.httpError(command, resp, body)
	}
	var env envelope
	if err := xml.Unmarshal(body, &env); err != nil {
		return nil, c.httpError(command, resp, body)
	}
	if !strings.EqualFold(env.Status, "OK") || len(env.Errors) > 0 {
		err := c.apiError(command, &env)
		var ae *Error
		if errors.As(err, &ae) && ae.Number == ErrNumInvalidRequestIP && c.Egress != nil {
			ectx, cancel := context.WithTimeout(ctx, 10*time.Second)
			if ip, eerr := c.Egress(ectx); eerr == nil {
				ae.Egress = ip
			}
			cancel()
		}
		return &env, err
	}
	return &env, nil
}

func (c *Client) apiError(command string, env *envelope) error {
	if len(env.Errors) == 0 {
		return &Error{Command: command, Number: 0, Message: fmt.Sprintf("Status=%q with no <Error> element", env.Status), ClientIP: c.ClientIP}
	}
	// The first error carries the number that decides what to do; later
	// ones are appended to the message so that nothing is hidden.
	first := env.Errors[0]
	n, _ := strconv.Atoi(strings.TrimSpace(first.Number))
	msg := strings.TrimSpace(first.Text)
	for _, e := range env.Errors[1:] {
		msg += fmt.Sprintf("; error %s: %s", strings.TrimSpace(e.Number), strings.TrimSpace(e.Text))
	}
	return &Error{Command: command, Number: n, Message: c.redact(msg), ClientIP: c.ClientIP}
}

func (c *Client) httpError(command string, resp *http.Response, body []byte) error {
	snip := strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return ' '
	}, string(body))
	if len(snip) > 120 {
		snip = snip[:120]
	}
	return &HTTPError{Command: command, StatusCode: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Snippet: c.redact(snip)}
}

// redact removes the API key from any text that reaches an error or a log:
// an echoing proxy or a transport error must never leak it.
func (c *Client) redact(s string) string {
	if c.APIKey == "" {
		return s
	}
	s = strings.ReplaceAll(s, c.APIKey, "[redacted]")
	return strings.ReplaceAll(s, url.QueryEscape(c.APIKey), "[redacted]")
}

func (c *Client) log(msg string, args ...any) {
	if c.Logger != nil {
		c.Logger.Debug(msg, args...)
	}
}

// progress reports every ProgressEvery that command still waits for its
// answer, until the returned function is called or ctx ends: a slow or
// silent endpoint shows in the step log instead of a run that says nothing.
func (c *Client) progress(ctx context.Context, command string, timeout time.Duration) (stop func()) {
	if c.Logger == nil {
		return func() {}
	}
	every := c.ProgressEvery
	if every <= 0 {
		every = 10 * time.Second
	}
	done := make(chan struct{})
	start := time.Now()
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				c.Logger.Info("namecheap: still waiting for the API", "command", shortCommand(command),
					"waited", time.Since(start).Round(time.Second).String(), "limit", timeout.String())
			}
		}
	}()
	return func() { close(done) }
}

// callRetry runs a read command, retrying retryable failures with
// exponential backoff on c.Clock. Every try goes through the limiter, so
// retries spend the same 20-a-minute budget.
func (c *Client) callRetry(ctx context.Context, command string, params url.Values) (*envelope, error) {
	attempts := c.MaxAttempts
	if attempts <= 0 {
		attempts = 5
	}
	delay := c.Backoff
	if delay <= 0 {
		delay = 2 * time.Second
	}
	timeouts := 0
	for i := 1; ; i++ {
		env, err := c.call(ctx, command, params)
		var te *TransportError
		if errors.As(err, &te) && te.Timeout {
			timeouts++
		}
		if err == nil || !IsRetryable(err) || i >= attempts || timeouts > 1 {
			return env, err
		}
		wait := delay
		if IsThrottle(err) {
			// The window is a minute: short retries only spend more of it.
			wait = max(wait, ThrottleBackoff)
		}
		if c.Logger != nil {
			c.Logger.Info("namecheap: retrying", "command", shortCommand(command), "attempt", i, "of", attempts, "delay", wait.String(), "error", err.Error())
		}
		if err := c.clock().Sleep(ctx, wait); err != nil {
			return nil, err
		}
		delay = min(2*wait, 30*time.Second)
	}
}

// GetHosts reads every host record of SLD.TLD (namecheap.domains.dns.getHosts,
// https://www.namecheap.com/support/api/methods/domains-dns/get-hosts/).
// It succeeds only on a confirmed read: Status="OK" and a
// DomainDNSGetHostsResult element. Retryable failures are retried.
func (c *Client) GetHosts(ctx context.Context, sld, tld string) (*HostsResult, error) {
	env, err := c.callRetry(ctx, CmdGetHosts, url.Values{"SLD": {sld}, "TLD": {tld}})
	if err != nil {
		return nil, err
	}
	if env.CommandResponse == nil || env.CommandResponse.GetHosts == nil {
		return nil, &Error{Command: CmdGetHosts, Message: "Status=\"OK\" but no DomainDNSGetHostsResult element: the read is not confirmed, nothing will be written", ClientIP: c.ClientIP}
	}
	r := env.CommandResponse.GetHosts
	return &HostsResult{
		Domain:        r.Domain,
		EmailType:     r.EmailType,
		IsUsingOurDNS: isTrue(r.IsUsingOurDNS),
		Hosts:         r.hosts(),
	}, nil
}

// SetHosts replaces every host record of SLD.TLD with hosts
// (namecheap.domains.dns.setHosts,
// https://www.namecheap.com/support/api/methods/domains-dns/set-hosts/).
// Indices run 1..N; MXPref
// and TTL are sent for every row exactly as given; EmailType is sent when
// non-empty and must be the value getHosts returned, so mail settings stay as
// they were.
// Success means Status="OK" and IsSuccess="true". It is sent once and never
// retried here.
func (c *Client) SetHosts(ctx context.Context, sld, tld, emailType string, hosts []Host) error {
	p := url.Values{"SLD": {sld}, "TLD": {tld}}
	if emailType != "" {
		p.Set("EmailType", emailType)
	}
	for i, h := range hosts {
		n := strconv.Itoa(i + 1)
		p.Set("HostName"+n, h.Name)
		p.Set("RecordType"+n, h.Type)
		p.Set("Address"+n, h.Address)
		p.Set("MXPref"+n, h.MXPref)
		p.Set("TTL"+n, h.TTL)
	}
	env, err := c.call(ctx, CmdSetHosts, p)
	if err != nil {
		return err
	}
	if env.CommandResponse == nil || env.CommandResponse.SetHosts == nil || !isTrue(env.CommandResponse.SetHosts.IsSuccess) {
		return &Error{Command: CmdSetHosts, Message: "Status=\"OK\" without IsSuccess=\"true\"; the zone may not have been written", ClientIP: c.ClientIP}
	}
	return nil
}

// GetList returns every domain of the account (namecheap.domains.getList,
// http://www.namecheap.com/support/api/domains/namecheap.domains.getlist.aspx),
// paging with PageSize=100 to the end: the default first page
// of 20 broke acme.sh#3187 and Certify#578. It lists owned domains only.
func (c *Client) GetList(ctx context.Context) ([]Domain, error) {
	var out []Domain
	for page := 1; page <= 1000; page++ {
		env, err := c.callRetry(ctx, CmdGetList, url.Values{"Page": {strconv.Itoa(page)}, "PageSize": {"100"}})
		if err != nil {
			return nil, err
		}
		cr := env.CommandResponse
		if cr == nil || cr.GetList == nil {
			return nil, &Error{Command: CmdGetList, Message: "no DomainGetListResult element", ClientIP: c.ClientIP}
		}
		n := 0
		for _, e := range cr.GetList.Domains {
			if !strings.EqualFold(e.XMLName.Local, "Domain") {
				continue
			}
			n++
			out = append(out, Domain{Name: e.attr("Name"), IsOurDNS: isTrue(e.attr("IsOurDNS")), User: e.attr("User")})
		}
		if n == 0 || cr.Paging == nil || cr.Paging.TotalItems <= len(out) {
			return out, nil
		}
	}
	return out, nil
}

// DefaultIPURL is Namecheap's own "what is my IP" service (used by lego).
const DefaultIPURL = "https://dynamicdns.park-your-domain.com/getip"

// DiscoverClientIP asks ipURL for this machine's egress IPv4 with hc (which
// should dial tcp4, see NewHTTPClient), trims the answer and validates it as
// an IPv4 literal (ClientIp is IPv4 only:
// https://www.namecheap.com/support/api/global-parameters/).
// It does not judge whether the address is
// public; the caller does.
func DiscoverClientIP(ctx context.Context, hc *http.Client, ipURL string) (netip.Addr, error) {
	if _, err := apiclient.ParseBaseURL(ipURL, DefaultIPURL); err != nil {
		return netip.Addr{}, fmt.Errorf("ClientIp discovery URL: %v; or set NAMECHEAP_CLIENT_IP instead", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ipURL, nil)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("ClientIp discovery at %s: %v; set NAMECHEAP_CLIENT_IP instead", ipURL, err)
	}
	req.Header.Set("User-Agent", version.UserAgent())
	resp, err := hc.Do(req)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("ClientIp discovery at %s failed: %v; set NAMECHEAP_CLIENT_IP to the whitelisted egress IPv4", ipURL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		return netip.Addr{}, fmt.Errorf("ClientIp discovery at %s: HTTP %d; set NAMECHEAP_CLIENT_IP to the whitelisted egress IPv4", ipURL, resp.StatusCode)
	}
	s := string(bytes.TrimSpace(body))
	ip, err := netip.ParseAddr(s)
	if err != nil || !ip.Is4() {
		return netip.Addr{}, fmt.Errorf("ClientIp discovery at %s returned %q, not an IPv4 address; set NAMECHEAP_CLIENT_IP to the whitelisted egress IPv4", ipURL, truncate(s, 64))
	}
	return ip, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
