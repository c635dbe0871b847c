package namecheap

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/strictacme/strictacme/internal/apiclient"
	"github.com/strictacme/strictacme/internal/envsecret"
	"github.com/strictacme/strictacme/provider/namecheap/internal/api"
)

// Config configures a Provider. Only APIUser and APIKey are required; the
// zero value of every other field is a documented default. The JSON names
// are those of the NAMECHEAP_* variables in lower case; durations are
// nanoseconds; the Go-only fields (roots, proxy, client, limiter, clock,
// logger) are not encoded. ConfigFromEnv
// fills it from NAMECHEAP_* variables (see README.md).
type Config struct {
	// APIUser and APIKey authenticate every call
	// (https://www.namecheap.com/support/api/global-parameters/). The key is
	// never logged and never appears in an error.
	APIUser string `json:"api_user,omitempty"`
	APIKey  string `json:"api_key,omitempty"`
	// UserName is the account acted on; "" means APIUser (resellers differ).
	UserName string `json:"user_name,omitempty"`
	// ClientIP is the IPv4 sent as ClientIp and whitelisted at Namecheap.
	// "" means discover it over IPv4 from ClientIPURL. An explicit value may
	// be private or loopback (the user asked for it); a discovered one may not.
	ClientIP string `json:"client_ip,omitempty"`
	// ClientIPURL answers this machine's egress IPv4 as text; "" means
	// https://dynamicdns.park-your-domain.com/getip (Namecheap's own). Set
	// together with ClientIP, it is asked after error 1011150, so the error
	// names both addresses when the egress differs from ClientIP.
	ClientIPURL string `json:"client_ip_url,omitempty"`
	// Endpoint is the API URL (…/xml.response). "" means production, or the
	// sandbox when Sandbox is set. It must be https; plain http is accepted
	// only for loopback hosts (test servers).
	Endpoint string `json:"endpoint,omitempty"`
	Sandbox  bool   `json:"sandbox,omitempty"`
	// Zone, if set, is the zone every name is written to (a FreeDNS
	// sub-zone such as "1605.example.com" or a delegated setup) instead of
	// the registered domain found by the public-suffix list.
	Zone string `json:"zone,omitempty"`
	// AllowDDNS accepts writing a zone that has Dynamic-DNS hosts, knowing
	// that setHosts clears their DDNS flag
	// (https://github.com/acmesh-official/acme.sh/issues/2107). Default: refuse.
	AllowDDNS bool `json:"allow_ddns,omitempty"`
	// LockDir holds one lock file per zone so that processes on this
	// machine take turns on a zone; "" means DefaultLockDir (per machine:
	// /run/lock/strictacme as root, else <user cache dir>/strictacme/locks,
	// %LOCALAPPDATA%\strictacme\locks on Windows).
	// Every process writing a zone must use the same directory.
	LockDir string `json:"lock_dir,omitempty"`
	// RootCAs verifies the endpoint; nil means the system roots. Use
	// RootsWithExtra to add roots (a private CA) to the system ones.
	RootCAs *x509.CertPool `json:"-"`
	// Proxy picks an HTTP proxy per request; nil means HTTPS_PROXY/NO_PROXY
	// from the environment. A fixed-egress proxy keeps ClientIp stable on
	// CI runners; discovery goes through it as well.
	Proxy func(*http.Request) (*url.URL, error) `json:"-"`
	// HTTPClient replaces the IPv4-only client built from RootCAs and Proxy.
	// It should dial tcp4 itself: the whitelist is IPv4 only.
	HTTPClient *http.Client `json:"-"`
	// TTL in seconds for new TXT records, 60–60000 (NAMECHEAP_TTL); when
	// set it wins over the TTL the caller gives each record. 0 means the
	// record's TTL, or 300 when that is zero (the stricter minimum of the
	// newer set-hosts doc,
	// https://www.namecheap.com/support/api/methods/domains-dns/set-hosts/).
	TTL int `json:"ttl,omitempty"`
	// SettleDelay is the serving lag of Namecheap's name servers, what
	// ServingLag returns (NAMECHEAP_SETTLE_DELAY); 0 means 2 minutes.
	SettleDelay time.Duration `json:"settle_delay,omitempty"`
	// CallTimeout bounds one API call, answer included
	// (NAMECHEAP_HTTP_TIMEOUT, lego's name); 0 means 30 s. A call without
	// an answer in time is retried once; while it waits, a progress line
	// goes to Logger every 10 s.
	CallTimeout time.Duration `json:"call_timeout,omitempty"`
	// MaxCycles bounds the read-modify-write-verify cycles of one change
	// when a lost update or a retryable error is seen; 0 means 4.
	MaxCycles int `json:"max_cycles,omitempty"`
	// Limiter spends the account's call budget; nil means one limiter shared
	// by every Provider of this APIUser and endpoint in the process,
	// 20 calls in any minute (Namecheap's API FAQ,
	// https://www.namecheap.com/support/knowledgebase/article.aspx/9739/63/api--faq).
	Limiter *rate.Limiter `json:"-"`
	// Clock drives the limiter and backoff; nil means the real clock.
	Clock Clock `json:"-"`
	// Logger receives debug lines (calls, retries, lost updates); nil means none.
	Logger *slog.Logger `json:"-"`
}

// Clock is the time source for the call budget and backoff; tests inject a
// fake one so nothing sleeps. Sleep returns ctx.Err() if ctx ends first.
type Clock interface {
	Now() time.Time
	Sleep(ctx context.Context, d time.Duration) error
}

// Environment variable names. NAMECHEAP_API_USER, NAMECHEAP_API_KEY,
// NAMECHEAP_SANDBOX and NAMECHEAP_TTL are lego's names, so a lego setup
// works unchanged.
const (
	EnvAPIUser     = "NAMECHEAP_API_USER"
	EnvAPIKey      = "NAMECHEAP_API_KEY"
	EnvUserName    = "NAMECHEAP_USER_NAME"
	EnvClientIP    = "NAMECHEAP_CLIENT_IP"
	EnvClientIPURL = "NAMECHEAP_CLIENT_IP_URL"
	EnvSandbox     = "NAMECHEAP_SANDBOX"
	EnvEndpoint    = "NAMECHEAP_ENDPOINT"
	EnvZone        = "NAMECHEAP_ZONE"
	EnvAllowDDNS   = "NAMECHEAP_ALLOW_DDNS"
	EnvLockDir     = "NAMECHEAP_LOCK_DIR"
	EnvTTL         = "NAMECHEAP_TTL"
	EnvSettleDelay = "NAMECHEAP_SETTLE_DELAY"
	EnvHTTPTimeout = "NAMECHEAP_HTTP_TIMEOUT"
)

const apiAccessURL = "https://ap.www.namecheap.com/settings/tools/apiaccess/"

// ConfigFromEnv reads the NAMECHEAP_* variables through lookup (os.LookupEnv
// in production). Secrets may come from a file named by the same variable
// with _FILE appended (NAMECHEAP_API_KEY_FILE, NAMECHEAP_API_USER_FILE);
// setting both forms is an error. Errors name the variable and the fix and
// never contain a secret.
func ConfigFromEnv(lookup func(string) (string, bool)) (Config, error) {
	var cfg Config
	var err error
	get := func(name string) string {
		v, _ := lookup(name)
		return strings.TrimSpace(v)
	}
	if cfg.APIUser, err = secret(lookup, EnvAPIUser, "the Namecheap account name that owns the API key"); err != nil {
		return Config{}, err
	}
	if cfg.APIKey, err = secret(lookup, EnvAPIKey, "the API key from "+apiAccessURL); err != nil {
		return Config{}, err
	}
	cfg.UserName = get(EnvUserName)
	cfg.ClientIP = get(EnvClientIP)
	cfg.ClientIPURL = get(EnvClientIPURL)
	cfg.Endpoint = get(EnvEndpoint)
	cfg.Zone = get(EnvZone)
	cfg.LockDir = get(EnvLockDir)
	if cfg.Sandbox, err = boolVar(get(EnvSandbox), EnvSandbox); err != nil {
		return Config{}, err
	}
	if cfg.AllowDDNS, err = boolVar(get(EnvAllowDDNS), EnvAllowDDNS); err != nil {
		return Config{}, err
	}
	if v := get(EnvTTL); v != "" {
		if cfg.TTL, err = ParseTTL(v); err != nil {
			return Config{}, fmt.Errorf("%s=%q: %v", EnvTTL, v, err)
		}
	}
	if v := get(EnvHTTPTimeout); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			if n, err2 := strconv.Atoi(v); err2 == nil {
				d, err = time.Duration(n)*time.Second, nil
			}
		}
		if err != nil || d <= 0 {
			return Config{}, fmt.Errorf("%s=%q: want a duration such as 30s (or whole seconds)", EnvHTTPTimeout, v)
		}
		cfg.CallTimeout = d
	}
	if v := get(EnvSettleDelay); v != "" {
		if cfg.SettleDelay, err = ParseSettleDelay(v); err != nil {
			return Config{}, fmt.Errorf("%s=%q: %v", EnvSettleDelay, v, err)
		}
	}
	return cfg, nil
}

// secret reads name or name_FILE (envsecret.Read); it must be set.
func secret(lookup func(string) (string, bool), name, what string) (string, error) {
	v, from, err := envsecret.Read(lookup, name)
	if err != nil {
		return "", err
	}
	if from == "" {
		return "", fmt.Errorf("%s is not set; set it (or %s_FILE) to %s", name, name, what)
	}
	return v, nil
}

func boolVar(v, name string) (bool, error) {
	if v == "" {
		return false, nil
	}
	b, err := ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s=%q: %v", name, v, err)
	}
	return b, nil
}

// ParseBool parses a switch (sandbox, allow_ddns): true or false. Its
// error says what to give, not the setting.
func ParseBool(v string) (bool, error) {
	b, err := strconv.ParseBool(strings.TrimSpace(v))
	if err != nil {
		return false, errors.New("want true or false")
	}
	return b, nil
}

// ParseTTL parses Config.TTL: whole seconds within what setHosts takes.
// Its error says what to give, not the setting.
func ParseTTL(v string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < minTTL || n > maxTTL {
		return 0, fmt.Errorf("want whole seconds between %d and %d (setHosts rejects others)", minTTL, maxTTL)
	}
	return n, nil
}

// ParseSettleDelay parses Config.SettleDelay: a duration or whole
// seconds, not negative. Its error says what to give, not the setting.
func ParseSettleDelay(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	d, err := time.ParseDuration(v)
	if err != nil {
		if n, err2 := strconv.Atoi(v); err2 == nil {
			d, err = time.Duration(n)*time.Second, nil
		}
	}
	if err != nil || d < 0 {
		return 0, errors.New("want a duration such as 2m or 90s")
	}
	return d, nil
}

// ParseClientIP parses Config.ClientIP: an IPv4 address, the only kind
// Namecheap whitelists. Its error says what to give, not the setting.
func ParseClientIP(v string) (netip.Addr, error) {
	ip, err := netip.ParseAddr(strings.TrimSpace(v))
	if err != nil || !ip.Is4() {
		return netip.Addr{}, errors.New("not an IPv4 address; Namecheap whitelists IPv4 only")
	}
	return ip, nil
}

// RootsWithExtra returns the system roots plus the certificates in the given
// PEM blocks (a private CA), for Config.RootCAs.
func RootsWithExtra(pems ...[]byte) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	for i, p := range pems {
		if !pool.AppendCertsFromPEM(p) {
			return nil, fmt.Errorf("extra CA certificate %d holds no PEM certificate; give PEM-encoded certificates", i+1)
		}
	}
	return pool, nil
}

// ParseEndpoint parses the API URL (…/xml.response): https, or plain http
// to a loopback test server, without credentials. Its error says what to
// give, not the setting, and never quotes the URL.
func ParseEndpoint(v string) (string, error) {
	u, err := api.CheckEndpoint(v)
	if err != nil {
		return "", err
	}
	return u.String(), nil
}

// ParseClientIPURL parses the URL that answers this machine's egress IPv4
// (Config.ClientIPURL), as ParseEndpoint does.
func ParseClientIPURL(v string) (string, error) {
	u, err := apiclient.ParseBaseURL(v, api.DefaultIPURL)
	if err != nil {
		return "", err
	}
	return u.String(), nil
}
