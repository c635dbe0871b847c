package powerdns

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/strictacme/strictacme/internal/envsecret"
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
)

// FromEnv returns a Provider configured by the PDNS_* variables read
// through lookup (os.LookupEnv for the environment): PDNS_API_URL,
// PDNS_API_KEY or PDNS_API_KEY_FILE, PDNS_SERVER_NAME, PDNS_API_VERSION,
// PDNS_TTL (seconds) and PDNS_SERVING_LAG (seconds or a duration). Errors
// name the variable and the fix, never the key.
func FromEnv(lookup func(string) (string, bool)) (*Provider, error) {
	get := func(name string) string {
		v, _ := lookup(name)
		return strings.TrimSpace(v)
	}
	p := &Provider{ServerURL: get(EnvAPIURL), ServerName: get(EnvServerName)}
	if p.ServerURL == "" {
		return nil, fmt.Errorf("%s is not set; set it to the PowerDNS webserver's base URL, e.g. https://pdns.example.net:8081", EnvAPIURL)
	}
	u, err := url.Parse(p.ServerURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("%s=%q: want an http or https URL such as https://pdns.example.net:8081", EnvAPIURL, p.ServerURL)
	}
	if strings.Contains(strings.TrimRight(u.Path, "/"), "/api") {
		return nil, fmt.Errorf("%s=%q: give the base URL without the /api/v1 path; it is added", EnvAPIURL, p.ServerURL)
	}
	key, _, err := envsecret.Read(lookup, EnvAPIKey)
	if err != nil {
		return nil, err
	}
	if key == "" {
		return nil, fmt.Errorf("%s is not set; set it (or %s_FILE) to the server's api-key", EnvAPIKey, EnvAPIKey)
	}
	p.APIKey = key
	if v := get(EnvAPIVersion); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n != 1 {
			return nil, fmt.Errorf("%s=%q: only API version 1 (PowerDNS 4 and later) is supported; unset it or set 1", EnvAPIVersion, v)
		}
		p.APIVersion = n
	}
	if v := get(EnvTTL); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 86400 {
			return nil, fmt.Errorf("%s=%q: want whole seconds between 1 and 86400", EnvTTL, v)
		}
		p.TTL = n
	}
	if v := get(EnvServingLag); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			n, err2 := strconv.Atoi(v)
			d, err = time.Duration(n)*time.Second, err2
		}
		if err != nil || d < 0 {
			return nil, fmt.Errorf("%s=%q: want seconds or a duration such as 30s", EnvServingLag, v)
		}
		p.Lag = d
	}
	return p, nil
}
