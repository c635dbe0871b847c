package job

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/issue"
	"github.com/strictacme/strictacme/internal/plan"
	"github.com/strictacme/strictacme/internal/renewal"
	"github.com/strictacme/strictacme/internal/steplog"
	"github.com/strictacme/strictacme/internal/store"
)

// Revocation revokes stored certificates at the CA that issued them
// (RFC 8555 §7.6), for revoke and delete --revoke.
type Revocation struct {
	// Code is the reason code (RFC 5280 §5.3.1) and Reason its name.
	Code   int
	Reason string
	// CACerts are extra trust roots for the CA.
	CACerts []string
	// Refuse, when set, refuses a certificate before anything is sent
	// (one whose CA no longer exists); its error is returned as is.
	Refuse func(*store.Certificate) error
	// Now stamps the revocation in the renewal state; nil is time.Now.
	Now func() time.Time
	// Log receives one line per step.
	Log func(string)
}

// Locked revokes c, whose store st the caller holds locked, and marks it
// revoked in its renewal state so the next renew replaces it. Errors carry
// their exit code; trust roots that cannot be read are a
// *plan.ProblemsError (key ca_certs).
func (r Revocation) Locked(ctx context.Context, st *store.Store, c *store.Certificate) error {
	if r.Refuse != nil {
		if err := r.Refuse(c); err != nil {
			return err
		}
	}
	client, err := plan.ClientFor(c.Meta, r.CACerts)
	if err != nil {
		return &plan.ProblemsError{Problems: []plan.Problem{{Key: "ca_certs", Msg: err.Error()}}}
	}
	byCertKey, err := issue.Revoke(ctx, client, st, c, r.Code)
	if byCertKey {
		r.Log("signing the revocation with the certificate's key")
	}
	if err != nil {
		return err
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	if err := renewal.MarkRevoked(st.CertDir(c.Name), c.Meta.Serial, now().UTC()); err != nil {
		r.Log("saving the renewal state: " + err.Error())
	}
	r.Log(fmt.Sprintf("revoked %s (serial %s, reason %s) at %s; the next renew replaces it", c.Name, c.Meta.Serial, r.Reason, time.Now().UTC().Format(time.RFC3339)))
	return nil
}

// Named is Locked for the stored certificate name; one not stored is a
// usage error naming the state directory.
func (r Revocation) Named(ctx context.Context, st *store.Store, name string) error {
	c, err := st.LoadCertificate(name)
	if err != nil {
		return exitcode.With(exitcode.Usage, fmt.Errorf("%s: %v in %s", name, err, st.Root))
	}
	return r.Locked(ctx, st, c)
}

// Deletion stops managing a stored certificate: optionally revoked first,
// then the challenge records the journal still lists for its provider
// removed, then its folder deleted. Any failure leaves it stored.
type Deletion struct {
	// Revoke, when set, revokes the certificate first.
	Revoke *Revocation
	// CACerts are extra trust roots for the DNS provider.
	CACerts []string
	// Log receives one line per step.
	Log func(string)
}

// Locked deletes the certificate name from st, which the caller holds
// locked. An unknown name is exitcode.Usage, listing what is stored;
// journal records that could not be removed are exitcode.DNS.
func (d Deletion) Locked(ctx context.Context, st *store.Store, name string) error {
	stored, err := st.ListCertificates()
	if err != nil {
		return err
	}
	if !slices.Contains(stored, name) {
		have := "none is stored"
		if len(stored) > 0 {
			have = "stored: " + strings.Join(stored, ", ")
		}
		return exitcode.With(exitcode.Usage, fmt.Errorf("%s: no such certificate in %s (%s); strictacme list shows them", name, st.Root, have))
	}
	// A broken certificate (its versions gone) has no settings or
	// certificate to read; it can still be deleted, but not revoked.
	c, loadErr := st.LoadCertificate(name)
	if d.Revoke != nil {
		if loadErr != nil {
			return fmt.Errorf("%s: cannot revoke: %w; delete it without --revoke", name, loadErr) // keeps loadErr's exit code
		}
		if err := d.Revoke.Locked(ctx, st, c); err != nil {
			return err
		}
	}
	if loadErr == nil {
		if s, ok, _ := plan.FromMetadata(c.Meta); ok {
			if err := d.sweep(ctx, st, s, name); err != nil {
				return err
			}
		}
	}
	if err := st.DeleteCertificate(name); err != nil {
		return err
	}
	d.Log(fmt.Sprintf("deleted %s from %s; renew no longer renews it", name, st.Root))
	return nil
}

// sweep removes the journal's leftover records that only s's provider
// settings can remove, and refuses to go on if some stay.
func (d Deletion) sweep(ctx context.Context, st *store.Store, s plan.Settings, name string) error {
	left, err := plan.JournalLeft(st, s)
	if err != nil || len(left) == 0 {
		return err
	}
	defer steplog.Use(d.Log)()
	if err := plan.Sweep(ctx, st, []plan.Settings{s}, d.CACerts, steplog.Logger(), d.Log); err != nil {
		return err
	}
	if left, err = plan.JournalLeft(st, s); err != nil || len(left) == 0 {
		return err
	}
	return exitcode.With(exitcode.DNS, fmt.Errorf("%s: the journal still lists %d challenge record(s) (first %s in zone %s) that only its provider %q settings can remove, and removing them failed; give the provider's credentials as for renew and run delete again; nothing was deleted",
		name, len(left), strings.TrimSuffix(left[0].FQDN, "."), strings.TrimSuffix(left[0].Zone, "."), left[0].Provider))
}
