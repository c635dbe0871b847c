package cloudflare

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/strictacme/strictacme/internal/envsecret"
)

// Environment variable names: lego's, so a lego set-up works unchanged.
// Each CLOUDFLARE_ name is also read under lego's older CF_ alias.
const (
	EnvDNSToken  = "CLOUDFLARE_DNS_API_TOKEN"
	EnvZoneToken = "CLOUDFLARE_ZONE_API_TOKEN"
	EnvEmail     = "CLOUDFLARE_EMAIL"
	EnvAPIKey    = "CLOUDFLARE_API_KEY"
	EnvBaseURL   = "CLOUDFLARE_BASE_URL"
	EnvTTL       = "CLOUDFLARE_TTL"
	// EnvHTTPTimeout bounds each API call, seconds; read where the HTTP
	// client is built.
	EnvHTTPTimeout = "CLOUDFLARE_HTTP_TIMEOUT"
	// EnvServingLag is strictacme's: Provider.Lag.
	EnvServingLag = "CLOUDFLARE_SERVING_LAG"
)

// aliases are lego's CF_ names of the same settings.
var aliases = map[string]string{
	EnvDNSToken:  "CF_DNS_API_TOKEN",
	EnvZoneToken: "CF_ZONE_API_TOKEN",
	EnvEmail:     "CF_API_EMAIL",
	EnvAPIKey:    "CF_API_KEY",
}

// FromEnv returns a Provider configured by the variables read through
// lookup (os.LookupEnv for the environment): CLOUDFLARE_DNS_API_TOKEN,
// CLOUDFLARE_ZONE_API_TOKEN, or CLOUDFLARE_EMAIL with CLOUDFLARE_API_KEY
// (each also under lego's CF_ alias, and each secret also as NAME_FILE),
// CLOUDFLARE_BASE_URL, CLOUDFLARE_TTL (seconds) and CLOUDFLARE_SERVING_LAG
// (seconds or a duration). Secrets are registered with the redactor.
// Errors name the variable and the fix, never the secret.
func FromEnv(lookup func(string) (string, bool)) (*Provider, error) {
	p := &Provider{}
	var err error
	for _, s := range []struct {
		name string
		dst  *string
	}{{EnvDNSToken, &p.APIToken}, {EnvZoneToken, &p.ZoneToken}, {EnvAPIKey, &p.APIKey}} {
		if *s.dst, err = secret(lookup, s.name); err != nil {
			return nil, err
		}
	}
	p.Email = plain(lookup, EnvEmail)
	switch {
	case p.APIToken == "" && p.ZoneToken != "":
		// lego takes one token for both jobs when only one is given.
		p.APIToken = p.ZoneToken
	case p.APIToken == "" && (p.Email == "") != (p.APIKey == ""):
		return nil, fmt.Errorf("%s and %s go together (the legacy Global API Key); set both, or better an API token in %s", EnvEmail, EnvAPIKey, EnvDNSToken)
	case p.APIToken == "" && p.APIKey == "":
		return nil, fmt.Errorf("%s is not set; create an API token with Zone:Read and DNS:Edit for the zone and set it (or %s_FILE)", EnvDNSToken, EnvDNSToken)
	}
	if v := plain(lookup, EnvBaseURL); v != "" {
		if p.BaseURL, err = ParseBaseURL(v); err != nil {
			return nil, fmt.Errorf("%s=%q: %v", EnvBaseURL, v, err)
		}
	}
	if v := plain(lookup, EnvTTL); v != "" {
		if p.TTL, err = ParseTTL(v); err != nil {
			return nil, fmt.Errorf("%s=%q: %v", EnvTTL, v, err)
		}
	}
	if v := plain(lookup, EnvServingLag); v != "" {
		if p.Lag, err = ParseServingLag(v); err != nil {
			return nil, fmt.Errorf("%s=%q: %v", EnvServingLag, v, err)
		}
	}
	return p, nil
}

// ParseBaseURL parses an API base URL: http(s) with a host. Its error
// says what to give, not the setting.
func ParseBaseURL(v string) (string, error) {
	v = strings.TrimSpace(v)
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || u.Scheme != "https" && u.Scheme != "http" {
		return "", fmt.Errorf("want the API's URL, e.g. %s", DefaultBaseURL)
	}
	return v, nil
}

// ParseTTL parses a TTL of TXT records: whole seconds from 30 to 86400,
// or 1 for automatic. Its error says what to give, not the setting.
func ParseTTL(v string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n != 1 && (n < 30 || n > 86400) {
		return 0, errors.New("want whole seconds between 60 and 86400 (30 on Enterprise), or 1 for automatic")
	}
	return n, nil
}

// ParseServingLag parses Lag: whole seconds or a duration; an explicit 0
// is -1 (none, not the default). Its error says what to give, not the
// setting.
func ParseServingLag(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	d, err := time.ParseDuration(v)
	if err != nil {
		n, err2 := strconv.Atoi(v)
		d, err = time.Duration(n)*time.Second, err2
	}
	if err != nil || d < 0 {
		return 0, errors.New("want seconds or a duration such as 10s")
	}
	if d == 0 {
		d = -1
	}
	return d, nil
}

// plain reads name, else its CF_ alias.
func plain(lookup func(string) (string, bool), name string) string {
	if v, _ := lookup(name); strings.TrimSpace(v) != "" {
		return strings.TrimSpace(v)
	}
	if a, ok := aliases[name]; ok {
		v, _ := lookup(a)
		return strings.TrimSpace(v)
	}
	return ""
}

// secret reads name or name_FILE, else the same of its CF_ alias: the
// CLOUDFLARE_ name wins, as in lego.
func secret(lookup func(string) (string, bool), name string) (string, error) {
	v, from, err := envsecret.Read(lookup, name)
	if err != nil || from != "" {
		return v, err
	}
	if a, ok := aliases[name]; ok {
		v, _, err = envsecret.Read(lookup, a)
	}
	return v, err
}
