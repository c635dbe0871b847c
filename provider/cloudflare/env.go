package cloudflare

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/strictacme/strictacme/internal/envsecret"
	"github.com/strictacme/strictacme/internal/envvar"
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
	l := envvar.Lookup(func(name string) (string, bool) { return plain(lookup, name), true })
	if p.BaseURL, err = envvar.Parse(l, EnvBaseURL, ParseBaseURL); err != nil {
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

// ParseBaseURL parses an API base URL: http(s) with a host. Its error
// says what to give, not the setting.
func ParseBaseURL(v string) (string, error) { return envvar.ParseURL(v, DefaultBaseURL) }

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
	d, err := envvar.ParseDuration(v, true)
	if err != nil {
		return 0, err
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
