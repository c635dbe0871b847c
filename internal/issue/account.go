package issue

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mholt/acmez/v3/acme"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/store"
)

// AccountOptions say how to find or create the ACME account.
type AccountOptions struct {
	// Name selects one of several accounts at one CA ("" = "default").
	Name string
	// Email becomes a mailto: contact (RFC 8555 §7.3); optional.
	Email string
	// AcceptTOS agrees to the CA's terms of service when creating an account.
	AcceptTOS bool
	// EAB is the external account binding some CAs require (RFC 8555 §7.3.4).
	EAB *acme.EAB
	// Throwaway creates a new account every time and stores nothing: its
	// key lives in memory for this Issuer only (a dry run's account).
	Throwaway bool
}

// Account loads the stored account for the CA, or creates and stores one
// (RFC 8555 §7.3) when none exists; with Throwaway it always creates one
// and stores nothing. created reports which.
func (is *Issuer) Account(ctx context.Context, opts AccountOptions) (acct acme.Account, created bool, err error) {
	is.accountName = opts.Name
	stored, err := is.cfg.Store.LoadAccount(is.cfg.Directory, opts.Name)
	if opts.Throwaway {
		err = store.ErrNoAccount
	}
	if err == nil {
		acct = acme.Account{Location: stored.URL, Contact: stored.Contact, PrivateKey: stored.Key, Status: "valid"}
		is.account = acct
		return acct, false, nil
	}
	if !errors.Is(err, store.ErrNoAccount) {
		return acct, false, err
	}
	dir, err := is.client.GetDirectory(ctx)
	if err != nil {
		err = fmt.Errorf("CA directory %s: %w", is.cfg.Directory, err)
		if ctx.Err() != nil { // interrupted or --timeout, not the CA's answer
			return acct, false, classify(err)
		}
		return acct, false, exitcode.FromCA(err)
	}
	if dir.Meta != nil && dir.Meta.TermsOfService != "" && !opts.AcceptTOS {
		return acct, false, exitcode.With(exitcode.Usage, fmt.Errorf("the CA requires agreeing to its terms of service (%s); read them and pass --accept-tos", dir.Meta.TermsOfService))
	}
	if dir.Meta != nil && dir.Meta.ExternalAccountRequired && opts.EAB == nil {
		return acct, false, exitcode.With(exitcode.Usage, errors.New("the CA requires external account binding; pass --eab-kid and --eab-hmac-key from your CA account"))
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return acct, false, err
	}
	acct = acme.Account{PrivateKey: key, TermsOfServiceAgreed: opts.AcceptTOS}
	if e := strings.TrimSpace(opts.Email); e != "" {
		acct.Contact = []string{"mailto:" + e}
	}
	if opts.EAB != nil {
		if err := acct.SetExternalAccountBinding(ctx, is.client, *opts.EAB); err != nil {
			return acct, false, exitcode.With(exitcode.Usage, fmt.Errorf("external account binding: %w", err))
		}
	}
	err = is.withCARetry(ctx, "new-account", func() error {
		var e error
		acct, e = is.client.NewAccount(ctx, acct)
		return e
	})
	if err != nil {
		return acct, false, classify(fmt.Errorf("creating the ACME account: %w", err))
	}
	if opts.Throwaway {
		is.account = acct
		return acct, true, nil
	}
	if err := is.cfg.Store.SaveAccount(opts.Name, &store.Account{
		URL: acct.Location, Directory: is.cfg.Directory, Contact: acct.Contact, Created: time.Now().UTC(), Key: key,
	}); err != nil {
		return acct, true, fmt.Errorf("storing the new account: %w", err)
	}
	is.account = acct
	return acct, true, nil
}
