package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/mholt/acmez/v3/acme"
	"github.com/spf13/cobra"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/store"
)

func init() { addCommand(newAccountCmd) }

type accountFlags struct {
	path       string
	server     string
	caCerts    []string
	email      string
	rollKey    bool
	deactivate bool
	yes        bool
	json       bool
	lockWait   bool
}

// accountView is the output of account (also --json).
type accountView struct {
	URL       string   `json:"url"`
	Directory string   `json:"ca_directory"`
	Status    string   `json:"status"`
	Contact   []string `json:"contact"`
	Created   string   `json:"created,omitempty"`
	Changed   []string `json:"changed,omitempty"`
}

func newAccountCmd() *cobra.Command {
	var f accountFlags
	cmd := &cobra.Command{
		Use:   "account",
		Short: "Show or change the stored ACME account of a CA",
		Long: `Show the ACME account stored for --server as the CA knows it (RFC 8555
§7.3), or change it: --email replaces the contact (§7.3.2), --roll-key
replaces the account key with a new P-256 key (§7.3.5) and stores it,
--deactivate deactivates the account for good (§7.3.6; needs --yes).`,
		Example: `  strictacme account --server letsencrypt
  strictacme account --server letsencrypt --email new-ops@example.com --roll-key`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runAccount(cmd.Context(), &f, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.path, "path", defaultPath(), "state directory: accounts, certificates, journal")
	fl.StringVar(&f.server, "server", "letsencrypt", "CA: a preset name (letsencrypt, zerossl, ...) or a directory URL")
	fl.StringArrayVar(&f.caCerts, "ca-cert", nil, "PEM file of extra trust roots for the CA (repeatable)")
	fl.StringVar(&f.email, "email", "", "replace the account's contact with this e-mail address")
	fl.BoolVar(&f.rollKey, "roll-key", false, "replace the account key with a new one")
	fl.BoolVar(&f.deactivate, "deactivate", false, "deactivate the account at the CA (irreversible; needs --yes)")
	fl.BoolVar(&f.yes, "yes", false, "confirm --deactivate")
	fl.BoolVar(&f.json, "json", false, "print the account as JSON")
	fl.BoolVar(&f.lockWait, "wait", false, "wait for another run on the same --path instead of failing")
	return withEnv(cmd)
}

func runAccount(ctx context.Context, f *accountFlags, stdout, stderr io.Writer) error {
	if f.deactivate && !f.yes {
		return usage("--deactivate cannot be undone: the account can never order again; add --yes")
	}
	if f.deactivate && (f.rollKey || f.email != "") {
		return usage("--deactivate goes alone; leave out --email and --roll-key")
	}
	directory := f.server
	if u, ok := caPresets[strings.ToLower(f.server)]; ok {
		directory = u
	}
	st, unlock, err := openExistingLocked(ctx, f.path, f.lockWait)
	if err != nil {
		return err
	}
	defer unlock()
	stored, err := st.LoadAccount(directory, "")
	if errors.Is(err, store.ErrNoAccount) {
		return usage("no account stored for %s in %s; strictacme issue creates one", directory, f.path)
	}
	if err != nil {
		return err
	}
	roots, err := loadRoots(f.caCerts)
	if err != nil {
		return err
	}
	client := &acme.Client{Directory: directory, HTTPClient: httpClient(roots, false), UserAgent: "strictacme " + version}
	acct := acme.Account{Location: stored.URL, PrivateKey: stored.Key, Contact: stored.Contact}
	caErr := func(what string, err error) error {
		return exitcode.With(exitcode.CA, fmt.Errorf("%s: %w", what, err))
	}
	if acct, err = client.GetAccount(ctx, acct); err != nil {
		return caErr("fetching the account "+stored.URL, err)
	}
	acct.PrivateKey = stored.Key
	view := accountView{URL: stored.URL, Directory: directory}
	if !stored.Created.IsZero() {
		view.Created = stored.Created.UTC().Format("2006-01-02T15:04:05Z")
	}
	if f.email != "" {
		acct.Contact = []string{"mailto:" + strings.TrimSpace(f.email)}
		upd, err := client.UpdateAccount(ctx, acme.Account{Location: acct.Location, PrivateKey: acct.PrivateKey, Contact: acct.Contact})
		if err != nil {
			return caErr("changing the contact", err)
		}
		acct.Contact, acct.Status = upd.Contact, upd.Status
		stored.Contact = upd.Contact
		if err := st.SaveAccount("", stored); err != nil {
			return err
		}
		view.Changed = append(view.Changed, "contact")
	}
	if f.rollKey {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return err
		}
		if _, err := client.AccountKeyRollover(ctx, acct, key); err != nil {
			return caErr("rolling the account key", err)
		}
		// The CA now knows only the new key: store it before anything else.
		stored.Key, acct.PrivateKey = key, key
		if err := st.SaveAccount("", stored); err != nil {
			return fmt.Errorf("the CA accepted the new account key but storing it failed: %w", err)
		}
		view.Changed = append(view.Changed, "key")
	}
	if f.deactivate {
		upd, err := client.UpdateAccount(ctx, acme.Account{Location: acct.Location, PrivateKey: acct.PrivateKey, Status: acme.StatusDeactivated})
		if err != nil {
			return caErr("deactivating the account", err)
		}
		acct.Status = upd.Status
		view.Changed = append(view.Changed, "status")
	}
	view.Status, view.Contact = acct.Status, acct.Contact
	if view.Contact == nil {
		view.Contact = []string{}
	}
	if f.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(view)
	}
	fmt.Fprintf(stdout, "account  %s\nCA       %s\nstatus   %s\ncontact  %s\n", view.URL, view.Directory, view.Status, strings.Join(view.Contact, ", "))
	if view.Created != "" {
		fmt.Fprintf(stdout, "created  %s\n", view.Created)
	}
	if len(view.Changed) > 0 {
		fmt.Fprintf(stderr, "changed: %s\n", strings.Join(view.Changed, ", "))
	}
	if f.deactivate {
		fmt.Fprintln(stderr, "the account is deactivated; remove its folder under "+f.path+"/accounts before issuing again, so a new account is created")
	}
	return nil
}
