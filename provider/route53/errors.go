package route53

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/smithy-go"
)

// APIError is a request Route 53 refused, after the SDK's retries: the
// operation, the error code (AccessDenied, InvalidChangeBatch, Throttling,
// …) and its messages. Error says what it means and what to change; it
// never holds a credential. Test for it with errors.As and key on Code.
type APIError struct {
	// Op is the API operation, e.g. "ChangeResourceRecordSets".
	Op string
	// Zone is the zone asked about, "" for ListHostedZones.
	Zone string
	// Code is Route 53's error code.
	Code string
	// Messages are its texts (several for InvalidChangeBatch).
	Messages []string
	// Err is the SDK's error.
	Err error
}

func (e *APIError) Unwrap() error { return e.Err }

func (e *APIError) Error() string {
	head := "route53: " + e.Op
	if z := strings.TrimSuffix(e.Zone, "."); z != "" {
		head += " in zone " + z
	}
	head += ": " + e.Code
	if len(e.Messages) > 0 {
		head += ": " + strings.Join(e.Messages, "; ")
	}
	switch e.Code {
	case "AccessDenied", "AccessDeniedException":
		return head + "; the identity lacks route53:" + e.Op + " (see the minimal policy in the provider's README)"
	case "InvalidClientTokenId", "UnrecognizedClientException":
		return head + "; the access key is unknown to AWS: check " + EnvAccessKeyID + " (or the profile's key)"
	case "SignatureDoesNotMatch":
		return head + "; the secret does not match the access key: check " + EnvSecretAccessKey + " (or the profile's secret)"
	case "ExpiredToken", "ExpiredTokenException", "RequestExpired":
		return head + "; the credentials expired (or this machine's clock is off): renew the session or fix the time"
	case "NoSuchHostedZone":
		return head + "; the hosted zone does not exist in this account: check " + EnvHostedZoneID
	case "InvalidChangeBatch":
		return head + "; Route 53 refused the change batch"
	case "Throttling", "PriorRequestNotComplete", "ThrottlingException":
		return head + "; still throttled after the retries (Route 53 allows five requests a second per account): raise " + EnvMaxRetries + " or run fewer renewals at once"
	}
	return head
}

// explain wraps an SDK error in an *APIError when Route 53 answered, and
// names the fix for missing credentials.
func explain(op, zone string, err error) error {
	var icb *types.InvalidChangeBatch
	if errors.As(err, &icb) {
		return &APIError{Op: op, Zone: zone, Code: "InvalidChangeBatch", Messages: icb.Messages, Err: err}
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		e := &APIError{Op: op, Zone: zone, Code: ae.ErrorCode(), Err: err}
		if m := ae.ErrorMessage(); m != "" {
			e.Messages = []string{m}
		}
		return e
	}
	if strings.Contains(err.Error(), "failed to retrieve credentials") || strings.Contains(err.Error(), "failed to refresh cached credentials") {
		return fmt.Errorf("route53: %s: no AWS credentials found (%v); set %s and %s, or %s, or run with an instance or task role", op, err, EnvAccessKeyID, EnvSecretAccessKey, EnvProfile)
	}
	return fmt.Errorf("route53: %s: %w", op, err)
}
