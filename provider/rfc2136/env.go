package rfc2136

import (
	"fmt"
	"time"

	"github.com/strictacme/strictacme/internal/envsecret"
	"github.com/strictacme/strictacme/internal/envvar"
)

// Environment variable names. The RFC2136_* names without a comment are
// lego's, so a lego set-up works unchanged.
const (
	EnvNameserver    = "RFC2136_NAMESERVER"
	EnvTSIGKey       = "RFC2136_TSIG_KEY"
	EnvTSIGSecret    = "RFC2136_TSIG_SECRET"
	EnvTSIGAlgorithm = "RFC2136_TSIG_ALGORITHM"
	// EnvTSIGFile names a key file in BIND syntax (lego's RFC2136_TSIG_FILE).
	EnvTSIGFile = "RFC2136_TSIG_FILE"
	EnvTTL      = "RFC2136_TTL"
	EnvTimeout  = "RFC2136_DNS_TIMEOUT"
	// EnvZone is strictacme's: the zone to write in, instead of asking
	// the server.
	EnvZone = "RFC2136_ZONE"
	// EnvServingLag is strictacme's: Provider.Lag.
	EnvServingLag = "RFC2136_SERVING_LAG"
	// EnvTransfer is strictacme's: whether the key may transfer the zone,
	// so records can be read back (GetRecords).
	EnvTransfer = "RFC2136_TRANSFER"
)

// FromEnv returns a Provider configured by the RFC2136_* variables read
// through lookup (os.LookupEnv for the environment): the server, the key
// (RFC2136_TSIG_KEY, RFC2136_TSIG_SECRET or RFC2136_TSIG_SECRET_FILE,
// RFC2136_TSIG_ALGORITHM; or RFC2136_TSIG_FILE), RFC2136_ZONE, RFC2136_TTL
// (seconds), RFC2136_DNS_TIMEOUT and RFC2136_SERVING_LAG (seconds or a
// duration). The key is read and checked here. Errors name the variable
// and the fix, never the secret.
func FromEnv(lookup func(string) (string, bool)) (*Provider, error) {
	l := envvar.Lookup(lookup)
	get := l.Get
	p := &Provider{
		Server:       get(EnvNameserver),
		Zone:         get(EnvZone),
		KeyName:      get(EnvTSIGKey),
		KeyAlgorithm: get(EnvTSIGAlgorithm),
		KeyFile:      get(EnvTSIGFile),
	}
	if p.Server == "" {
		return nil, fmt.Errorf("%s is not set; set it to the address of the zone's primary server (host or host:port)", EnvNameserver)
	}
	if _, err := p.server(); err != nil {
		return nil, err
	}
	secret, _, err := envsecret.Read(lookup, EnvTSIGSecret)
	if err != nil {
		return nil, err
	}
	p.KeySecret = secret
	switch {
	case p.KeyFile != "" && secret != "":
		return nil, fmt.Errorf("both %s and %s are set; give the key one way", EnvTSIGFile, EnvTSIGSecret)
	case p.KeyFile == "" && p.KeyName != "" && secret == "":
		return nil, fmt.Errorf("%s is set but %s is not; set it (or %s_FILE) to the key's base64 secret, or give the key file in %s", EnvTSIGKey, EnvTSIGSecret, EnvTSIGSecret, EnvTSIGFile)
	case p.KeyFile == "" && p.KeyName == "" && secret != "":
		return nil, fmt.Errorf("%s is set but %s is not; set it to the name of the key on the server", EnvTSIGSecret, EnvTSIGKey)
	}
	if p.TTL, err = envvar.Parse(l, EnvTTL, ParseTTL); err != nil {
		return nil, err
	}
	if p.Timeout, err = envvar.Parse(l, EnvTimeout, ParseTimeout); err != nil {
		return nil, err
	}
	if p.Lag, err = envvar.Parse(l, EnvServingLag, ParseServingLag); err != nil {
		return nil, err
	}
	if _, err := p.key(); err != nil {
		return nil, fmt.Errorf("%w (%s)", err, keyVars(p))
	}
	return p, nil
}

// keyVars names the variables the key came from, for errors.
func keyVars(p *Provider) string {
	if p.KeyFile != "" {
		return EnvTSIGFile
	}
	return EnvTSIGKey + ", " + EnvTSIGSecret + ", " + EnvTSIGAlgorithm
}

// Transfer reads RFC2136_TRANSFER: whether the key may transfer the zone
// (default false).
func Transfer(lookup func(string) (string, bool)) (bool, error) {
	return envvar.Parse(envvar.Lookup(lookup), EnvTransfer, ParseTransfer)
}

// ParseTransfer parses whether the key may transfer the zone: true or
// false. Its error says what to give, not the setting.
func ParseTransfer(v string) (bool, error) { return envvar.ParseBool(v) }

// ParseTTL parses a TTL of TXT records: whole seconds from 1 to 86400. Its
// error says what to give, not the setting.
func ParseTTL(v string) (int, error) { return envvar.ParseSeconds(v, 1, 86400) }

// ParseTimeout parses Timeout: positive whole seconds or a duration. Its
// error says what to give, not the setting.
func ParseTimeout(v string) (time.Duration, error) { return envvar.ParseDuration(v, false) }

// ParseServingLag parses Lag: whole seconds or a duration, 0 for none. Its
// error says what to give, not the setting.
func ParseServingLag(v string) (time.Duration, error) { return envvar.ParseDuration(v, true) }
