package route53

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/strictacme/strictacme/internal/apiclient"
	"github.com/strictacme/strictacme/internal/envsecret"
	"github.com/strictacme/strictacme/internal/envvar"
)

// Environment variable names. Those without a comment are the AWS SDK's
// and lego's, so an AWS or lego set-up works unchanged.
const (
	EnvAccessKeyID     = "AWS_ACCESS_KEY_ID"
	EnvSecretAccessKey = "AWS_SECRET_ACCESS_KEY"
	EnvSessionToken    = "AWS_SESSION_TOKEN"
	EnvRegion          = "AWS_REGION"
	EnvProfile         = "AWS_PROFILE"
	EnvHostedZoneID    = "AWS_HOSTED_ZONE_ID"
	EnvMaxRetries      = "AWS_MAX_RETRIES"
	EnvTTL             = "AWS_TTL"
	// EnvWaitForSync is lego's AWS_WAIT_FOR_RECORD_SETS_CHANGED: wait for
	// INSYNC after a write (default true).
	EnvWaitForSync = "AWS_WAIT_FOR_RECORD_SETS_CHANGED"
	// EnvSyncTimeout is strictacme's: Provider.SyncTimeout.
	EnvSyncTimeout = "AWS_SYNC_TIMEOUT"
	// EnvEndpoint is strictacme's: Provider.Endpoint.
	EnvEndpoint = "AWS_ROUTE53_ENDPOINT"
)

// FromEnv returns a Provider configured by the variables read through
// lookup (os.LookupEnv for the environment): static credentials from
// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or its _FILE) and
// AWS_SESSION_TOKEN, AWS_REGION, AWS_PROFILE, AWS_HOSTED_ZONE_ID,
// AWS_MAX_RETRIES, AWS_TTL, AWS_WAIT_FOR_RECORD_SETS_CHANGED,
// AWS_SYNC_TIMEOUT and AWS_ROUTE53_ENDPOINT. Without static keys the AWS
// SDK's chain finds the credentials when the first request is made. Errors
// name the variable and the fix, never a secret.
func FromEnv(lookup func(string) (string, bool)) (*Provider, error) {
	l := envvar.Lookup(lookup)
	get := l.Get
	p := &Provider{
		AccessKeyID:  get(EnvAccessKeyID),
		Region:       get(EnvRegion),
		Profile:      get(EnvProfile),
		HostedZoneID: get(EnvHostedZoneID),
		Endpoint:     get(EnvEndpoint),
	}
	var err error
	if p.SecretAccessKey, _, err = envsecret.Read(lookup, EnvSecretAccessKey); err != nil {
		return nil, err
	}
	if p.SessionToken, _, err = envsecret.Read(lookup, EnvSessionToken); err != nil {
		return nil, err
	}
	if (p.AccessKeyID == "") != (p.SecretAccessKey == "") {
		return nil, fmt.Errorf("only one of %s and %s is set; set both, or neither to use the AWS credential chain (%s, instance or task role)", EnvAccessKeyID, EnvSecretAccessKey, EnvProfile)
	}
	if p.HostedZoneID != "" {
		if _, err := ParseHostedZoneID(p.HostedZoneID); err != nil {
			return nil, fmt.Errorf("%s=%q: %v", EnvHostedZoneID, p.HostedZoneID, err)
		}
	}
	if p.MaxRetries, err = envvar.Parse(l, EnvMaxRetries, ParseMaxRetries); err != nil {
		return nil, err
	}
	if p.TTL, err = envvar.Parse(l, EnvTTL, ParseTTL); err != nil {
		return nil, err
	}
	if v := get(EnvWaitForSync); v != "" {
		b, err := ParseWaitForSync(v)
		if err != nil {
			return nil, fmt.Errorf("%s=%q: %v", EnvWaitForSync, v, err)
		}
		p.NoWait = !b
	}
	if p.SyncTimeout, err = envvar.Parse(l, EnvSyncTimeout, ParseSyncTimeout); err != nil {
		return nil, err
	}
	if _, err = envvar.Parse(l, EnvEndpoint, ParseEndpoint); err != nil {
		return nil, err
	}
	return p, nil
}

// ParseHostedZoneID parses a hosted zone ID ("Z…", optionally with the
// "/hostedzone/" prefix). Its error says what to give, not the setting.
func ParseHostedZoneID(v string) (string, error) {
	v = strings.TrimSpace(v)
	if !strings.HasPrefix(strings.TrimPrefix(v, "/hostedzone/"), "Z") {
		return "", errors.New("want a hosted zone ID such as Z0123456789ABCDEFGHIJ (Route 53 console, hosted zone details)")
	}
	return v, nil
}

// ParseMaxRetries parses MaxRetries: a whole number from 0 to 50; an
// explicit 0 is -1 (no retries, not the default). Its error says what to
// give, not the setting.
func ParseMaxRetries(v string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 || n > 50 {
		return 0, errors.New("want a whole number between 0 and 50")
	}
	if n == 0 {
		n = -1
	}
	return n, nil
}

// ParseTTL parses a TTL of new RRsets: whole seconds from 1 to 86400. Its
// error says what to give, not the setting.
func ParseTTL(v string) (int, error) { return envvar.ParseSeconds(v, 1, 86400) }

// ParseWaitForSync parses whether to wait for INSYNC: true or false. Its
// error says what to give, not the setting.
func ParseWaitForSync(v string) (bool, error) { return envvar.ParseBool(v) }

// ParseSyncTimeout parses SyncTimeout: positive whole seconds or a
// duration. Its error says what to give, not the setting.
func ParseSyncTimeout(v string) (time.Duration, error) { return envvar.ParseDuration(v, false) }

// endpointExample is Route 53's own API URL, offered in errors.
const endpointExample = "https://route53.amazonaws.com"

// ParseEndpoint parses a replacement API URL (an API proxy): https, or
// plain http to a loopback test server, without credentials. Its error
// says what to give, not the setting, and never quotes the URL.
func ParseEndpoint(v string) (string, error) {
	u, err := apiclient.ParseBaseURL(v, endpointExample)
	if err != nil {
		return "", err
	}
	return u.String(), nil
}
