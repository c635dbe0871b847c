package route53

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/strictacme/strictacme/internal/envsecret"
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
	get := func(name string) string {
		v, _ := lookup(name)
		return strings.TrimSpace(v)
	}
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
	if p.HostedZoneID != "" && !strings.HasPrefix(strings.TrimPrefix(p.HostedZoneID, "/hostedzone/"), "Z") {
		return nil, fmt.Errorf("%s=%q: want a hosted zone ID such as Z0123456789ABCDEFGHIJ (Route 53 console, hosted zone details)", EnvHostedZoneID, p.HostedZoneID)
	}
	if v := get(EnvMaxRetries); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 50 {
			return nil, fmt.Errorf("%s=%q: want a whole number between 0 and 50", EnvMaxRetries, v)
		}
		p.MaxRetries = n
		if n == 0 {
			p.MaxRetries = -1
		}
	}
	if v := get(EnvTTL); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 86400 {
			return nil, fmt.Errorf("%s=%q: want whole seconds between 1 and 86400", EnvTTL, v)
		}
		p.TTL = n
	}
	if v := get(EnvWaitForSync); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("%s=%q: want true or false", EnvWaitForSync, v)
		}
		p.NoWait = !b
	}
	if v := get(EnvSyncTimeout); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			n, err2 := strconv.Atoi(v)
			d, err = time.Duration(n)*time.Second, err2
		}
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("%s=%q: want seconds or a duration such as 3m", EnvSyncTimeout, v)
		}
		p.SyncTimeout = d
	}
	return p, nil
}
