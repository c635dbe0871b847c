package issue

import (
	"context"
	"strings"
	"testing"

	"github.com/mholt/acmez/v3/acme"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/testworld"
)

// A stored certificate is revoked at its CA with the key the CA accepts
// for the situation, and a second revocation of it is refused (so the
// first one took effect).
func TestRevokeSignsWithTheKeyTheCAAccepts(t *testing.T) {
	w := testworld.Start(t)
	tests := []struct {
		name string
		// reason is the CRLReason code given.
		reason int
		// otherAccount marks the certificate as issued by an account the
		// store does not hold.
		otherAccount bool
		wantCertKey  bool
	}{
		{"superseded is signed by the issuing account", acme.ReasonSuperseded, false, false},
		{"keyCompromise is signed by the certificate's key", acme.ReasonKeyCompromise, false, true},
		{"issuing account not stored: the certificate's key signs", acme.ReasonUnspecified, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, w)
			res, err := f.obtain(t, ctx, "example.com")
			if err != nil {
				t.Fatal(err)
			}
			c := res.Certificate
			if tt.otherAccount {
				c.Meta.Account = w.DirectoryURL + "/my-account/elsewhere"
			}
			byCertKey, err := Revoke(ctx, f.is.Client(), f.st, c, tt.reason)
			if err != nil {
				t.Fatal(err)
			}
			if byCertKey != tt.wantCertKey {
				t.Errorf("signed with the certificate's key: %v, want %v", byCertKey, tt.wantCertKey)
			}
			_, err = Revoke(ctx, f.is.Client(), f.st, c, tt.reason)
			if exitcode.Of(err) != exitcode.CA || !strings.Contains(err.Error(), "revoking "+c.Name) {
				t.Fatalf("second revocation: %v (exit %d), want a CA refusal", err, exitcode.Of(err))
			}
		})
	}
}

// Every reason name offered maps to its RFC 5280 code and is listed.
func TestReasonNamesListEveryReason(t *testing.T) {
	for name, code := range map[string]int{"unspecified": 0, "keyCompromise": 1, "superseded": 4} {
		if RevocationReasons[name] != code || !strings.Contains(ReasonNames(), name) {
			t.Errorf("%s: code %d, names %q", name, RevocationReasons[name], ReasonNames())
		}
	}
	if strings.Contains(ReasonNames(), "removeFromCRL") {
		t.Errorf("offers a reason subscribers may not give: %s", ReasonNames())
	}
}
