// Package migrate adopts the state of other ACME clients into a strictacme
// store: the account (its key and URL at the CA), each certificate with
// its key as the current version, and the renewal settings the other
// client recorded, mapped onto plan.Settings. The current certificate is
// kept with its ARI identifier (RFC 9773 §4.1), so the next renewal names
// it in the order's "replaces" field.
//
// One file per source tool: lego.go (lego v4 and v5 ".lego" directories)
// and certbot.go (certbot's /etc/letsencrypt). Detect tells either from a
// strictacme state directory, for commands pointed at the wrong tree.
package migrate

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mholt/acmez/v3/acme"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/issue"
	"github.com/strictacme/strictacme/internal/names"
	"github.com/strictacme/strictacme/internal/plan"
	"github.com/strictacme/strictacme/internal/store"
)

// Tools are the clients whose state can be imported, as named on the
// command line.
var Tools = []string{"lego", "certbot"}

// Options fill in what a source did not record.
type Options struct {
	// Server is the CA's directory URL (or preset) for accounts whose
	// source records only the CA's host name (lego v4) when the host is not
	// one of the CA presets.
	Server string
	// Account picks one account where the source holds several for one CA:
	// lego's account ID (usually the email), certbot's account hash.
	Account string
	// DNS is the provider kind of certificates whose source names none
	// (lego v4, certbot with a non-DNS authenticator); "" leaves them
	// without one, to be set by a config file (run).
	DNS string
	// Propagation is the propagation strategy of every certificate; "" the
	// default.
	Propagation string
	// CACerts are trust-root PEM files stored with every certificate.
	CACerts []string
	// Now is the time recorded as when each certificate was adopted.
	Now time.Time
}

// Account is a source account ready to store.
type Account struct {
	// Source is the file it was read from.
	Source string
	// ID is the source's name for it: lego's account ID, certbot's hash.
	ID  string
	Acc store.Account
}

// Email is the account's mailto contact, "" if none.
func (a Account) Email() string {
	for _, c := range a.Acc.Contact {
		if e, ok := strings.CutPrefix(c, "mailto:"); ok {
			return e
		}
	}
	return ""
}

// Certificate is a source certificate ready to store, with what was
// mapped and what was not.
type Certificate struct {
	// Source is the file or folder it was read from.
	Source string
	Cert   *store.Certificate
	// Settings are those renew orders the next certificate with.
	Settings plan.Settings
	// Mapped says which source settings became which setting; NotCarried
	// names each source setting that has no counterpart and what to set
	// instead.
	Mapped, NotCarried []string
}

// Plan is everything one import stores.
type Plan struct {
	// Tool is "lego" or "certbot"; Layout says which version of its layout
	// ("lego v5", "lego v4", "certbot").
	Tool, Layout, Path string
	Accounts           []Account
	Certificates       []Certificate
}

// Read reads the state of tool at path into a plan; nothing is written.
// An unknown o.DNS or o.Propagation is a *plan.ProblemsError under its
// settings key; other errors say which file is wrong and carry
// exitcode.Usage.
func Read(tool, path string, o Options) (*Plan, error) {
	var ps []plan.Problem
	if _, ok := plan.LookupProvider(o.DNS); o.DNS != "" && !ok {
		ps = append(ps, plan.Problem{Provider: o.DNS, Key: "type", Msg: "unknown provider"})
	}
	if _, ok := plan.LookupStrategy(o.Propagation); o.Propagation != "" && !ok {
		ps = append(ps, plan.Problem{Key: "propagation", Msg: fmt.Sprintf("unknown strategy %q; use one of %s", o.Propagation, strings.Join(plan.StrategyNames(), ", "))})
	}
	if len(ps) > 0 {
		return nil, &plan.ProblemsError{Problems: ps}
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	var p *Plan
	var err error
	switch tool {
	case "lego":
		p, err = readLego(path, o)
	case "certbot":
		p, err = readCertbot(path, o)
	default:
		return nil, exitcode.With(exitcode.Usage, fmt.Errorf("unknown source %q: use %s (from acme.sh, issue anew: docs/migrating.md maps its flags)", tool, strings.Join(Tools, " or ")))
	}
	if err != nil {
		return nil, exitcode.With(exitcode.Usage, err)
	}
	if len(p.Certificates) == 0 && len(p.Accounts) == 0 {
		return nil, exitcode.With(exitcode.Usage, fmt.Errorf("%s: no %s account or certificate found; give %s", path, tool, map[string]string{"lego": "the directory lego's --path points at (the .lego folder)", "certbot": "certbot's --config-dir (default /etc/letsencrypt)"}[tool]))
	}
	return p, nil
}

// Mapping returns the lines an import prints: one per account, then one per
// certificate, "source → name" with its settings and what was not carried.
func (p *Plan) Mapping() []string {
	var out []string
	for _, a := range p.Accounts {
		out = append(out, fmt.Sprintf("account %s → %s (CA %s)", a.Source, a.Acc.URL, plan.CAName(a.Acc.Directory)))
	}
	for _, c := range p.Certificates {
		line := fmt.Sprintf("%s → %s: names %s, key %s, CA %s, expires %s",
			c.Source, c.Cert.Name, strings.Join(c.Settings.Names, ","), c.Settings.KeyType,
			plan.CAName(c.Cert.Meta.Directory), c.Cert.Meta.NotAfter.UTC().Format("2006-01-02"))
		if len(c.Mapped) > 0 {
			line += "; " + strings.Join(c.Mapped, ", ")
		}
		if len(c.NotCarried) > 0 {
			line += "; not carried: " + strings.Join(c.NotCarried, "; ")
		}
		out = append(out, line)
	}
	return out
}

// WriteMapping writes what an import adopts: a heading naming the source,
// then the Mapping lines; dryRun says nothing is written.
func (p *Plan) WriteMapping(w io.Writer, dryRun bool) {
	verb := "importing"
	if dryRun {
		verb = "would import (--dry-run, nothing written)"
	}
	fmt.Fprintf(w, "%s %s from %s:\n", verb, p.Layout, p.Path)
	for _, l := range p.Mapping() {
		fmt.Fprintln(w, "  "+l)
	}
}

// Apply stores p in st. It first checks everything (no stored certificate
// of the same name unless force, no other account for the same CA unless
// force); then it writes. When a write fails, what this call created is
// removed again, so a failed import leaves the store as it was, except a
// certificate it was told (force) to overwrite, whose previous version
// stays in its versions folder.
func (p *Plan) Apply(st *store.Store, force bool) error {
	if err := p.Check(st, force); err != nil {
		return err
	}
	return p.write(st)
}

// Check returns the error Apply would refuse with: a certificate of the
// same name is stored, or another account for the same CA, and force is
// false. It only reads st, whose directory need not exist.
func (p *Plan) Check(st *store.Store, force bool) error {
	var conflicts []string
	for _, a := range p.Accounts {
		old, err := st.LoadAccount(a.Acc.Directory, "")
		switch {
		case errors.Is(err, store.ErrNoAccount):
		case err != nil:
			return exitcode.With(exitcode.State, fmt.Errorf("stored account for %s: %v", a.Acc.Directory, err))
		case old.URL != a.Acc.URL && !force:
			conflicts = append(conflicts, fmt.Sprintf("an account for %s is stored already (%s), not %s's %s", plan.CAName(a.Acc.Directory), old.URL, a.Source, a.Acc.URL))
		}
	}
	for _, c := range p.Certificates {
		if _, err := os.Lstat(st.CertDir(c.Cert.Name)); err == nil && !force {
			conflicts = append(conflicts, fmt.Sprintf("certificate %s is stored already", c.Cert.Name))
		}
	}
	if len(conflicts) > 0 {
		return exitcode.With(exitcode.Usage, fmt.Errorf("%s; pass --force to overwrite", strings.Join(conflicts, "; ")))
	}
	return nil
}

func (p *Plan) write(st *store.Store) error {
	var created []string
	undo := func(err error) error {
		for _, dir := range slices.Backward(created) {
			_ = os.RemoveAll(dir)
		}
		return exitcode.With(exitcode.Failure, err)
	}
	// mark records the topmost folder of dir under the store's root that
	// does not exist yet: what undo removes.
	mark := func(dir string) {
		top := ""
		for d := dir; d != st.Root && d != filepath.Dir(d); d = filepath.Dir(d) {
			if _, err := os.Lstat(d); errors.Is(err, os.ErrNotExist) {
				top = d
			}
		}
		if top != "" {
			created = append(created, top)
		}
	}
	for _, a := range p.Accounts {
		acc := a.Acc
		mark(st.AccountDir(acc.Directory, ""))
		if err := st.SaveAccount("", &acc); err != nil {
			return undo(fmt.Errorf("storing the account of %s: %w", a.Source, err))
		}
	}
	for _, c := range p.Certificates {
		mark(st.CertDir(c.Cert.Name))
		if err := st.SaveCertificate(c.Cert); err != nil {
			return undo(fmt.Errorf("storing %s: %w", c.Source, err))
		}
	}
	return nil
}

// certInput is one certificate as a source holds it.
type certInput struct {
	source    string
	keyPEM    []byte
	chainPEM  []byte // leaf first, then intermediates (or leaf alone)
	issuerPEM []byte // intermediates when chainPEM is the leaf alone
	names     []string
	directory string
	account   string // account URL
	settings  plan.Settings
	mapped    []string
	notes     []string
}

// build checks in and turns it into a Certificate: the key must be the
// certificate's, the names valid, and the key type one strictacme orders
// (or mapped to the nearest, noted).
func build(in certInput, o Options) (Certificate, error) {
	key, err := store.ParsePrivateKey(in.keyPEM)
	if err != nil {
		return Certificate{}, fmt.Errorf("%s: private key: %v", in.source, err)
	}
	certs, err := parseCerts(in.chainPEM)
	if err != nil || len(certs) == 0 {
		return Certificate{}, fmt.Errorf("%s: certificate: %v", in.source, orNone(err))
	}
	leaf := certs[0]
	if !samePublicKey(key.Public(), leaf.PublicKey) {
		return Certificate{}, fmt.Errorf("%s: the private key is not the certificate's", in.source)
	}
	leafPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Raw})
	var chain []byte
	for _, c := range certs[1:] {
		chain = append(chain, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	if len(chain) == 0 && len(in.issuerPEM) > 0 {
		issuers, err := parseCerts(in.issuerPEM)
		if err != nil {
			return Certificate{}, fmt.Errorf("%s: issuer certificate: %v", in.source, err)
		}
		for _, c := range issuers {
			chain = append(chain, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
		}
	}
	ns := in.names
	if len(ns) == 0 {
		ns = leafNames(leaf)
	}
	ids, err := names.ParseAll(ns)
	if err != nil {
		return Certificate{}, fmt.Errorf("%s: %v", in.source, err)
	}
	ascii := make([]string, len(ids))
	for i, id := range ids {
		ascii[i] = id.ASCII
	}
	kt, note := keyType(key)
	if note != "" {
		in.notes = append(in.notes, note)
	}
	s := in.settings
	s.Names = ns
	s.KeyType = kt
	s.Server = in.directory
	s.Name = store.CertName(ascii[0])
	if o.Propagation != "" {
		s.Propagation = o.Propagation
	}
	s.CACerts = append(s.CACerts, o.CACerts...)
	if s.Provider == "" && o.DNS != "" {
		s.Provider = o.DNS
		s.Providers = []plan.ProviderRef{plan.EnvProvider(o.DNS, nil)}
		in.mapped = append(in.mapped, "DNS provider "+o.DNS+" (--dns)")
	}
	if s.Provider == "" {
		in.notes = append(in.notes, "DNS provider: none recorded; pass --dns to import, or list the certificate in a config file for strictacme run")
	}
	s = s.Stored()
	raw, err := s.Encode()
	if err != nil {
		return Certificate{}, err
	}
	ariID, _ := acme.ARIUniqueIdentifier(leaf)
	c := &store.Certificate{
		Name: s.Name, KeyPEM: mustKeyPEM(key), CertPEM: leafPEM, ChainPEM: chain, Leaf: leaf,
		Meta: store.Metadata{
			Names:     ascii,
			Serial:    fmt.Sprintf("%x", leaf.SerialNumber),
			NotBefore: leaf.NotBefore.UTC(),
			NotAfter:  leaf.NotAfter.UTC(),
			Issuer:    leaf.Issuer.String(),
			ARICertID: ariID,
			Directory: in.directory,
			Account:   in.account,
			KeyType:   kt,
			Profile:   s.Profile,
			Obtained:  o.Now.UTC(),
			Settings:  raw, SettingsVersion: s.Version(),
		},
	}
	if err := store.CheckCertName(c.Name); err != nil {
		return Certificate{}, fmt.Errorf("%s: %v", in.source, err)
	}
	return Certificate{Source: in.source, Cert: c, Settings: s, Mapped: in.mapped, NotCarried: in.notes}, nil
}

func orNone(err error) error {
	if err == nil {
		return errors.New("no PEM certificate in it")
	}
	return err
}

func mustKeyPEM(k crypto.Signer) []byte {
	b, err := store.MarshalPrivateKey(k)
	if err != nil {
		panic(err) // a key ParsePrivateKey returned always marshals
	}
	return b
}

// leafNames are the certificate's DNS names, the subject CN first when it
// is one of them (certbot and lego put the first requested name there).
func leafNames(c *x509.Certificate) []string {
	out := slices.Clone(c.DNSNames)
	if cn := c.Subject.CommonName; cn != "" {
		if i := slices.Index(out, cn); i > 0 {
			out = append([]string{cn}, slices.Delete(out, i, i+1)...)
		}
	}
	return out
}

func parseCerts(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return out, nil
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
}

func samePublicKey(a, b crypto.PublicKey) bool {
	e, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && e.Equal(b)
}

// keyType names key as a strictacme key type (issue.KeyTypeOf). A key
// strictacme does not order (P-521, RSA of another size, Ed25519) is kept
// for the current certificate; the next one gets the nearest type, noted.
func keyType(key crypto.Signer) (kt, note string) {
	if t, ok := issue.KeyTypeOf(key.Public()); ok {
		return string(t), ""
	}
	switch k := key.Public().(type) {
	case *ecdsa.PublicKey:
		return "ec384", fmt.Sprintf("key type ECDSA %s: renewed as ec384", k.Curve.Params().Name)
	case *rsa.PublicKey:
		return "rsa4096", fmt.Sprintf("key type RSA %d: renewed as rsa4096", k.N.BitLen())
	case ed25519.PublicKey:
		return plan.DefaultKeyType, "key type Ed25519: renewed as " + plan.DefaultKeyType
	}
	return plan.DefaultKeyType, fmt.Sprintf("key type %T: renewed as %s", key.Public(), plan.DefaultKeyType)
}

// readFile reads name under root, naming the file in the error.
func readFile(root string, elem ...string) ([]byte, error) {
	p := filepath.Join(append([]string{root}, elem...)...)
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", p, unwrapPath(err))
	}
	return b, nil
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
