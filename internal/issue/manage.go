package issue

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mholt/acmez/v3/acme"

	"github.com/strictacme/strictacme/internal/exitcode"
)

// AccountChange says what ManageAccount changes; the zero value changes
// nothing and only shows the account.
type AccountChange struct {
	// Email replaces the contact with this mailto: address (RFC 8555
	// §7.3.2); "" keeps the contact.
	Email string
	// RollKey replaces the account key with a new P-256 key (§7.3.5) and
	// stores it.
	RollKey bool
	// Deactivate deactivates the account for good (§7.3.6).
	Deactivate bool
}

// AccountState is an account as the CA reports it.
type AccountState struct {
	// URL is the account URL (the "kid" of every request).
	URL     string
	Status  string
	Contact []string
	// Created is when this account was created and stored; zero if unknown.
	Created time.Time
	// Changed names what ManageAccount changed, in order: "contact", "key",
	// "status".
	Changed []string
}

// AccountView is an account as "strictacme account" shows it (its --json
// output): Created in UTC to the second, "" when unknown; Contact never
// null.
type AccountView struct {
	URL       string   `json:"url"`
	Directory string   `json:"ca_directory"`
	Status    string   `json:"status"`
	Contact   []string `json:"contact"`
	Created   string   `json:"created,omitempty"`
	Changed   []string `json:"changed,omitempty"`
}

// View returns s, an account of the CA at directory, as shown.
func (s AccountState) View(directory string) AccountView {
	v := AccountView{URL: s.URL, Directory: directory, Status: s.Status, Contact: s.Contact, Changed: s.Changed}
	if !s.Created.IsZero() {
		v.Created = s.Created.UTC().Format("2006-01-02T15:04:05Z")
	}
	if v.Contact == nil {
		v.Contact = []string{}
	}
	return v
}

// WriteText writes v as "strictacme account" prints it without --json:
// one "field value" line each for the URL, CA, status, contact and, when
// known, creation time.
func (v AccountView) WriteText(w io.Writer) {
	fmt.Fprintf(w, "account  %s\nCA       %s\nstatus   %s\ncontact  %s\n", v.URL, v.Directory, v.Status, strings.Join(v.Contact, ", "))
	if v.Created != "" {
		fmt.Fprintf(w, "created  %s\n", v.Created)
	}
}

// Operations of ManageAccount, as errors name them.
const (
	opAccountLookup     = "account look-up (RFC 8555 §7.3.1)"
	opAccountUpdate     = "account update (RFC 8555 §7.3.2)"
	opAccountKeyChange  = "account key change (RFC 8555 §7.3.5)"
	opAccountDeactivate = "account deactivation (RFC 8555 §7.3.6)"
)

// ManageAccount looks up the account stored as name ("" = "default") for
// the issuer's CA and applies ch: contact first, then the key, then
// deactivation. Every change the CA accepted is stored before the next one
// is sent, so a failure part-way leaves the store matching the CA.
//
// The look-up sends a new-account request whose payload is exactly
// {"onlyReturnExisting": true} (§7.3.1); strict servers refuse anything
// more. A CA answer is never repeated except for a near rate limit: a 4xx is
// final, and a 501 is a *NotImplementedError saying which function the CA
// lacks. Errors carry exit codes; a missing account wraps store.ErrNoAccount.
func (is *Issuer) ManageAccount(ctx context.Context, name string, ch AccountChange) (AccountState, error) {
	stored, err := is.cfg.Store.LoadAccount(is.cfg.Directory, name)
	if err != nil {
		return AccountState{}, err
	}
	state := AccountState{URL: stored.URL, Created: stored.Created}
	caErr := func(op string, err error) error {
		var ni *NotImplementedError
		if errors.As(err, &ni) {
			return exitcode.With(exitcode.CA, ni)
		}
		return classify(fmt.Errorf("%s for %s: %w", op, stored.URL, err))
	}
	var acct acme.Account
	err = is.withCARetry(ctx, opAccountLookup, func() error {
		var e error
		acct, e = is.client.GetAccount(ctx, acme.Account{PrivateKey: stored.Key})
		return e
	})
	if err != nil {
		return state, caErr(opAccountLookup, err)
	}
	if acct.Location != "" && acct.Location != stored.URL {
		return state, exitcode.With(exitcode.CA, fmt.Errorf("the CA knows the stored account key under %s, not the stored account URL %s", acct.Location, stored.URL))
	}
	state.Status, state.Contact = acct.Status, acct.Contact
	key := stored.Key

	if e := strings.TrimSpace(ch.Email); e != "" {
		var upd acme.Account
		err := is.withCARetry(ctx, opAccountUpdate, func() error {
			var e2 error
			upd, e2 = is.client.UpdateAccount(ctx, acme.Account{Location: stored.URL, PrivateKey: key, Contact: []string{"mailto:" + e}})
			return e2
		})
		if err != nil {
			return state, caErr(opAccountUpdate, err)
		}
		state.Status, state.Contact = upd.Status, upd.Contact
		stored.Contact = upd.Contact
		if err := is.cfg.Store.SaveAccount(name, stored); err != nil {
			return state, err
		}
		state.Changed = append(state.Changed, "contact")
	}
	if ch.RollKey {
		newKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return state, err
		}
		err = is.withCARetry(ctx, opAccountKeyChange, func() error {
			_, e := is.client.AccountKeyRollover(ctx, acme.Account{Location: stored.URL, PrivateKey: key}, newKey)
			return e
		})
		if err != nil {
			return state, caErr(opAccountKeyChange, err)
		}
		// The CA now knows only the new key: store it before anything else.
		stored.Key, key = newKey, newKey
		if err := is.cfg.Store.SaveAccount(name, stored); err != nil {
			return state, fmt.Errorf("the CA accepted the new account key but storing it failed: %w", err)
		}
		state.Changed = append(state.Changed, "key")
	}
	if ch.Deactivate {
		var upd acme.Account
		err := is.withCARetry(ctx, opAccountDeactivate, func() error {
			var e error
			upd, e = is.client.UpdateAccount(ctx, acme.Account{Location: stored.URL, PrivateKey: key, Status: acme.StatusDeactivated})
			return e
		})
		if err != nil {
			return state, caErr(opAccountDeactivate, err)
		}
		state.Status = upd.Status
		state.Changed = append(state.Changed, "status")
	}
	return state, nil
}
