package issue

import (
	"context"
	"crypto"
	"fmt"
	"sort"
	"strings"

	"github.com/mholt/acmez/v3/acme"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/store"
)

// RevocationReasons are the CRLReason codes (RFC 5280 §5.3.1) a subscriber
// may give, by their RFC 5280 names (RFC 8555 §7.6; CAs refuse the others).
var RevocationReasons = map[string]int{
	"unspecified":          acme.ReasonUnspecified,
	"keyCompromise":        acme.ReasonKeyCompromise,
	"affiliationChanged":   acme.ReasonAffiliationChanged,
	"superseded":           acme.ReasonSuperseded,
	"cessationOfOperation": acme.ReasonCessationOfOperation,
	"privilegeWithdrawn":   acme.ReasonPrivilegeWithdrawn,
}

// ReasonNames lists the names of RevocationReasons, sorted, separated by
// ", ".
func ReasonNames() string {
	ns := make([]string, 0, len(RevocationReasons))
	for n := range RevocationReasons {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return strings.Join(ns, ", ")
}

// Revoke revokes the stored certificate c at the CA of client with the
// CRLReason code reason (RFC 8555 §7.6). The request is signed with the
// account key st holds for c's directory when that account issued c (or c
// does not say which did); otherwise, and always for keyCompromise (which
// CAs accept only from the certificate's key), with c's own private key.
// byCertKey says which key signed, also when the request failed. A CA
// refusal comes back with exit code exitcode.CA.
func Revoke(ctx context.Context, client *acme.Client, st *store.Store, c *store.Certificate, reason int) (byCertKey bool, err error) {
	var acct acme.Account
	var certKey crypto.Signer
	stored, err := st.LoadAccount(c.Meta.Directory, "")
	if err == nil && (c.Meta.Account == "" || stored.URL == c.Meta.Account) {
		acct = acme.Account{Location: stored.URL, PrivateKey: stored.Key}
	}
	if (acct.PrivateKey == nil || reason == acme.ReasonKeyCompromise) && c.Meta.CSR {
		return false, exitcode.With(exitcode.Usage, fmt.Errorf("%s was ordered for your CSR, so strictacme has no certificate key to sign the revocation with (needed for keyCompromise, or when this account did not order it); revoke it with the ordering account and another reason, or with your key through another client", c.Name))
	}
	if acct.PrivateKey == nil || reason == acme.ReasonKeyCompromise {
		if certKey, err = store.ParsePrivateKey(c.KeyPEM); err != nil {
			return false, fmt.Errorf("%s: certificate key: %w", c.Name, err)
		}
	}
	if err := client.RevokeCertificate(ctx, acct, c.Leaf, certKey, reason); err != nil {
		return certKey != nil, exitcode.FromCA(fmt.Errorf("revoking %s (serial %s): %w", c.Name, c.Meta.Serial, err))
	}
	return certKey != nil, nil
}
