package powerdns

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/strictacme/strictacme/internal/apiclient"
	"github.com/strictacme/strictacme/internal/envsecret"
	"github.com/strictacme/strictacme/internal/envvar"
)

// Environment variable names. The PDNS_* names without a comment are
// lego's, so a lego set-up works unchanged.
const (
	EnvAPIURL     = "PDNS_API_URL"
	EnvAPIKey     = "PDNS_API_KEY"
	EnvServerName = "PDNS_SERVER_NAME"
	EnvAPIVersion = "PDNS_API_VERSION"
	EnvTTL        = "PDNS_TTL"
	// EnvServingLag is strictacme's: Provider.Lag.
	EnvServingLag = "PDNS_SERVING_LAG"
	// EnvLockDir is strictacme's: Provider.LockDir.
	EnvLockDir = "PDNS_LOCK_DIR"
)

// FromEnv returns a Provider configured by the PDNS_* variables read
// through lookup (os.LookupEnv for the environment): PDNS_API_URL,
// PDNS_API_KEY or PDNS_API_KEY_FILE, PDNS_SERVER_NAME, PDNS_API_VERSION,
// PDNS_TTL (seconds), PDNS_SERVING_LAG (seconds or a duration) and
// PDNS_LOCK_DIR. Errors
// name the variable and the fix, never the key.
func FromEnv(lookup func(string) (string, bool)) (*Provider, error) {
	l := envvar.Lookup(lookup)
	p := &Provider{ServerURL: l.Get(EnvAPIURL), ServerName: l.Get(EnvServerName), LockDir: l.Get(EnvLockDir)}
	if p.ServerURL == "" {
		return nil, fmt.Errorf("%s is not set; set it to the PowerDNS webserver's base URL, e.g. https://pdns.example.net:8081", EnvAPIURL)
	}
	if _, err := envvar.Parse(l, EnvAPIURL, ParseAPIURL); err != nil {
		return nil, err // quotes the URL redacted
	}
	key, _, err := envsecret.Read(lookup, EnvAPIKey)
	if err != nil {
		return nil, err
	}
	if key == "" {
		return nil, fmt.Errorf("%s is not set; set it (or %s_FILE) to the server's api-key", EnvAPIKey, EnvAPIKey)
	}
	p.APIKey = key
	if p.APIVersion, err = envvar.Parse(l, EnvAPIVersion, ParseAPIVersion); err != nil {
		return nil, err
	}
	if p.TTL, err = envvar.Parse(l, EnvTTL, ParseTTL); err != nil {
		return nil, err
	}
	if p.Lag, err = envvar.Parse(l, EnvServingLag, ParseServingLag); err != nil {
		return nil, err
	}
	return p, nil
}

// ParseAPIURL parses the webserver's base URL (apiclient.ParseServerURL:
// http or https, no credentials, query or fragment) without the /api path
// (it is added). Its error says what to give, not the setting.
func ParseAPIURL(v string) (*url.URL, error) {
	u, err := apiclient.ParseServerURL(v, "https://pdns.example.net:8081")
	if err != nil {
		return nil, err
	}
	if strings.Contains(strings.TrimRight(u.Path, "/"), "/api") {
		return nil, errors.New("give the base URL without the /api/v1 path; it is added")
	}
	return u, nil
}

// ParseAPIVersion parses the API version of the paths: only 1. Its error
// says what to give, not the setting.
func ParseAPIVersion(v string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n != 1 {
		return 0, errors.New("only API version 1 (PowerDNS 4 and later) is supported; unset it or set 1")
	}
	return n, nil
}

// ParseTTL parses a TTL of new RRsets: whole seconds from 1 to 86400. Its
// error says what to give, not the setting.
func ParseTTL(v string) (int, error) { return envvar.ParseSeconds(v, 1, 86400) }

// ParseServingLag parses Lag: whole seconds or a duration. Its error says
// what to give, not the setting.
func ParseServingLag(v string) (time.Duration, error) { return envvar.ParseDuration(v, true) }
