package store

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"

	"github.com/strictacme/strictacme/internal/atomicfile"
	"github.com/strictacme/strictacme/internal/exitcode"
)

// Metadata describes a stored certificate (metadata.json).
type Metadata struct {
	Names     []string  `json:"names"`
	Serial    string    `json:"serial"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	Issuer    string    `json:"issuer"`
	// ARICertID is the RFC 9773 §4.1 unique identifier of the certificate
	// (base64url(AKI) "." base64url(serial)).
	ARICertID string    `json:"ari_cert_id,omitempty"`
	Directory string    `json:"ca_directory"`
	Account   string    `json:"account_url,omitempty"`
	KeyType   string    `json:"key_type"`
	Profile   string    `json:"profile,omitempty"`
	Challenge string    `json:"challenge,omitempty"`
	Obtained  time.Time `json:"obtained"`
	// Replaced is the ARICertID of the certificate this one replaced, if any.
	Replaced string `json:"replaced,omitempty"`
	// CSR marks a certificate ordered for the operator's certificate
	// signing request: its folder holds the request (CSRFile) and no
	// private key, which only the operator has.
	CSR bool `json:"csr,omitempty"`
	// Settings are the certificate's settings (internal/plan.Settings,
	// schema SettingsVersion): everything renew needs to repeat the order
	// except secrets, which are only referenced.
	Settings        json.RawMessage `json:"settings,omitempty"`
	SettingsVersion int             `json:"settings_version,omitempty"`
	// Renewal is what the previous release stored instead of Settings;
	// read only, to migrate (internal/plan.FromMetadata).
	Renewal *RenewalSettings `json:"renewal,omitempty"`
}

// RenewalSettings are the non-secret settings the previous release stored
// with a certificate; kept to read its certificates.
type RenewalSettings struct {
	// Challenges in order of preference ("dns-01", ...).
	Challenges []string `json:"challenges,omitempty"`
	// Provider is the --dns provider name ("namecheap", "exec", ...).
	Provider string `json:"provider,omitempty"`
	// Propagation is the strategy name; Resolvers its resolver URLs;
	// PropagationWait the fixed or settle delay; Quorum how many resolvers
	// must agree (0 = all); RequestTimeout one DNS question's timeout.
	Propagation     string        `json:"propagation,omitempty"`
	Resolvers       []string      `json:"resolvers,omitempty"`
	PropagationWait time.Duration `json:"propagation_wait_ns,omitempty"`
	Quorum          int           `json:"quorum,omitempty"`
	RequestTimeout  time.Duration `json:"request_timeout_ns,omitempty"`
	IPv4Only        bool          `json:"ipv4_only,omitempty"`
	// CACerts are the --ca-cert files (absolute paths) trusted for the CA
	// and DoH servers.
	CACerts []string `json:"ca_certs,omitempty"`
	// PreferredChain is the issuer common name of the preferred chain.
	PreferredChain string `json:"preferred_chain,omitempty"`
	// ReuseKey keeps the private key across renewals.
	ReuseKey bool `json:"reuse_key,omitempty"`
	// Email is the account contact used if the account must be recreated.
	Email string `json:"email,omitempty"`
	// Delegation: --challenge-alias and --challenge-target specs,
	// --follow-cname; PropagationTimeout and PropagationFallback bound and
	// back up the propagation check.
	ChallengeAliases    []string      `json:"challenge_aliases,omitempty"`
	ChallengeTargets    []string      `json:"challenge_targets,omitempty"`
	FollowCNAME         bool          `json:"follow_cname,omitempty"`
	PropagationTimeout  time.Duration `json:"propagation_timeout_ns,omitempty"`
	PropagationFallback string        `json:"propagation_fallback,omitempty"`
	// AllowPort53 is --allow-port53: "auto" may use the authoritative
	// servers on port 53.
	AllowPort53 bool `json:"allow_port53,omitempty"`
}

// Certificate is one issued certificate with its key, as stored.
type Certificate struct {
	Name string // folder name (CertName)
	// KeyPEM is the private key; empty for a certificate of the
	// operator's CSR (Meta.CSR), whose request is CSRPEM instead.
	KeyPEM   []byte
	CSRPEM   []byte
	CertPEM  []byte // leaf only
	ChainPEM []byte // intermediates
	Meta     Metadata
	Dir      string // the version folder holding the files
	Leaf     *x509.Certificate
}

// FullchainPEM is the leaf followed by the intermediates.
func (c *Certificate) FullchainPEM() []byte {
	return append(append([]byte{}, c.CertPEM...), c.ChainPEM...)
}

// File names inside a certificate folder.
const (
	PrivkeyFile   = "privkey.pem"
	CertFile      = "cert.pem"
	ChainFile     = "chain.pem"
	FullchainFile = "fullchain.pem"
	MetadataFile  = "metadata.json"
	// CSRFile is the operator's certificate signing request (PEM) of a
	// certificate ordered for it; renewals send it again. It holds no
	// secret, hence mode 0644.
	CSRFile = "request.csr"
)

// CertDir returns the folder of certificate name; the files in it are stable
// paths to point a web server at.
func (s *Store) CertDir(name string) string {
	return filepath.Join(s.Root, "certificates", name)
}

// SaveHook, when set, is called by SaveCertificate at its steps: "finalized"
// before anything is written, "storing" after the new version's files are
// written and before the switch, "stored" after the switch. Crash tests set
// it to kill the process at these points; it is nil in normal runs and must
// be set before any certificate is saved.
var SaveHook func(step string)

func saveStep(step string) {
	if SaveHook != nil {
		SaveHook(step)
	}
}

// SaveCertificate writes c as a new version and then switches the "current"
// symlink to it in one rename: readers see the old complete set or the new
// complete set, and a crash leaves the previous certificate in place. Old
// versions beyond the newest 3 are removed.
func (s *Store) SaveCertificate(c *Certificate) error {
	if err := CheckCertName(c.Name); err != nil {
		return err
	}
	saveStep("finalized")
	base := s.CertDir(c.Name)
	version := c.Meta.Serial
	if version == "" {
		version = fmt.Sprint(time.Now().UnixNano())
	}
	vdir := filepath.Join(base, "versions", version)
	// A leftover of the same serial from an interrupted run is replaced whole.
	if err := os.RemoveAll(vdir); err != nil {
		return err
	}
	meta, err := json.MarshalIndent(c.Meta, "", "  ")
	if err != nil {
		return err
	}
	type file struct {
		name string
		data []byte
		perm os.FileMode
	}
	var files []file
	if len(c.KeyPEM) > 0 {
		files = append(files, file{PrivkeyFile, c.KeyPEM, 0o600})
	}
	if len(c.CSRPEM) > 0 {
		files = append(files, file{CSRFile, c.CSRPEM, 0o644})
	}
	files = append(files,
		file{CertFile, c.CertPEM, 0o644},
		file{ChainFile, c.ChainPEM, 0o644},
		file{FullchainFile, c.FullchainPEM(), 0o644},
		file{MetadataFile, append(meta, '\n'), 0o600},
	)
	for _, f := range files {
		if err := writeFile(filepath.Join(vdir, f.name), f.data, f.perm); err != nil {
			return fmt.Errorf("storing %s: %w", f.name, err)
		}
	}
	saveStep("storing")
	if err := atomicfile.Symlink(filepath.Join("versions", version), filepath.Join(base, "current")); err != nil {
		return fmt.Errorf("switching to the new certificate: %w", err)
	}
	for _, f := range files {
		link := filepath.Join(base, f.name)
		if target, err := os.Readlink(link); err == nil && target == filepath.Join("current", f.name) {
			continue
		}
		if err := atomicfile.Symlink(filepath.Join("current", f.name), link); err != nil {
			return err
		}
	}
	// A stable link to a file this version has not (the key, after a
	// switch to the operator's CSR, or the CSR after a switch back)
	// would point at nothing: it goes.
	for _, name := range []string{PrivkeyFile, CSRFile} {
		if !slices.ContainsFunc(files, func(f file) bool { return f.name == name }) {
			if err := os.Remove(filepath.Join(base, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
	}
	c.Dir = vdir
	saveStep("stored")
	return s.prune(base, version, 3)
}

func (s *Store) prune(base, keep string, n int) error {
	entries, err := os.ReadDir(filepath.Join(base, "versions"))
	if err != nil {
		return err
	}
	type v struct {
		name string
		mod  time.Time
	}
	var vs []v
	for _, e := range entries {
		if info, err := e.Info(); err == nil && e.Name() != keep {
			vs = append(vs, v{e.Name(), info.ModTime()})
		}
	}
	sort.Slice(vs, func(i, j int) bool { return vs[i].mod.After(vs[j].mod) })
	for i, x := range vs {
		if i >= n-1 {
			os.RemoveAll(filepath.Join(base, "versions", x.name))
		}
	}
	return nil
}

// SaveMetadata replaces the metadata of certificate name's current version
// in one rename (settings recorded for a certificate stored without them);
// the key and certificate files are not touched.
func (s *Store) SaveMetadata(name string, m Metadata) error {
	dir, err := filepath.EvalSymlinks(filepath.Join(s.CertDir(name), "current"))
	if err != nil {
		return err
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, MetadataFile), append(data, '\n'), 0o600)
}

// ErrNoCertificate is returned by LoadCertificate when name has none.
var ErrNoCertificate = errors.New("no certificate stored")

// LoadCertificate reads the current version of certificate name.
func (s *Store) LoadCertificate(name string) (*Certificate, error) {
	dir := filepath.Join(s.CertDir(name), "current")
	meta, err := os.ReadFile(filepath.Join(dir, MetadataFile))
	if errors.Is(err, fs.ErrNotExist) {
		if _, lerr := os.Lstat(dir); lerr == nil {
			target, _ := os.Readlink(dir)
			return nil, exitcode.With(exitcode.State, &BrokenCertificateError{Name: name, Dir: s.CertDir(name), Current: target})
		}
		return nil, ErrNoCertificate
	}
	if err != nil {
		return nil, err
	}
	c := &Certificate{Name: name, Dir: dir}
	if err := json.Unmarshal(meta, &c.Meta); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, MetadataFile), err)
	}
	if c.Meta.CSR {
		path := filepath.Join(dir, CSRFile)
		if c.CSRPEM, err = os.ReadFile(path); err == nil {
			err = checkCSR(c.CSRPEM)
		}
		if err != nil {
			return nil, exitcode.With(exitcode.State, &DamagedCSRError{Name: name, Path: path, Err: err})
		}
	} else if c.KeyPEM, err = os.ReadFile(filepath.Join(dir, PrivkeyFile)); err != nil {
		return nil, err
	}
	if c.CertPEM, err = os.ReadFile(filepath.Join(dir, CertFile)); err != nil {
		return nil, err
	}
	if c.ChainPEM, err = os.ReadFile(filepath.Join(dir, ChainFile)); err != nil {
		return nil, err
	}
	block, _ := pem.Decode(c.CertPEM)
	if block == nil {
		return nil, fmt.Errorf("%s: no certificate", filepath.Join(dir, CertFile))
	}
	if c.Leaf, err = x509.ParseCertificate(block.Bytes); err != nil {
		return nil, err
	}
	return c, nil
}

// BrokenCertificateError is a certificate whose "current" version is gone:
// the link is there, the version it names (or its metadata) is not, as
// after someone deleted the versions folder.
type BrokenCertificateError struct {
	Name, Dir string
	// Current is where the "current" link points, e.g. "versions/2026…".
	Current string
}

func (e *BrokenCertificateError) Error() string {
	return fmt.Sprintf("certificate %s is broken: %s/current points to %s, which is missing or has no %s (its stored versions were deleted?); restore %s/versions from a backup, or issue it again with strictacme issue --cert-name %s -d NAME…",
		e.Name, e.Dir, e.Current, MetadataFile, e.Dir, e.Name)
}

// DamagedCSRError is a certificate of the operator's CSR whose stored copy
// of the request (CSRFile) is missing or no longer a signed CSR: it cannot
// be renewed until it is ordered again from the CSR file.
type DamagedCSRError struct {
	Name, Path string
	Err        error
}

func (e *DamagedCSRError) Error() string {
	what := "damaged"
	if errors.Is(e.Err, fs.ErrNotExist) {
		what = "missing"
	}
	return fmt.Sprintf("certificate %s: its stored CSR %s is %s (%v); order it again from the CSR file: strictacme issue --cert-name %s --csr FILE --force",
		e.Name, e.Path, what, e.Err, e.Name)
}

func (e *DamagedCSRError) Unwrap() error { return e.Err }

// checkCSR reports whether data is a PEM certificate signing request with
// a valid self-signature (RFC 2986), as stored by SaveCertificate.
func checkCSR(data []byte) error {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		return errors.New("no PEM CERTIFICATE REQUEST block")
	}
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return err
	}
	return csr.CheckSignature()
}

// ListCertificates returns the names of all stored certificates, broken
// ones included (a "current" link whose version is gone), so that
// LoadCertificate can say what is wrong with them.
func (s *Store) ListCertificates() ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(s.Root, "certificates"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if _, err := os.Lstat(filepath.Join(s.Root, "certificates", e.Name(), "current")); err == nil {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// ListAttempted returns, in name order, the certificate folders that hold
// no certificate yet but a file named stateFile: a first order that
// failed, whose renewal state (internal/renewal) records the failure.
func (s *Store) ListAttempted(stateFile string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(s.Root, "certificates"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		dir := filepath.Join(s.Root, "certificates", e.Name())
		if _, err := os.Lstat(filepath.Join(dir, "current")); err == nil {
			continue
		}
		if fi, err := os.Stat(filepath.Join(dir, stateFile)); err == nil && fi.Mode().IsRegular() {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// DeleteCertificate removes certificate name from the store: every
// version, its metadata and its renewal state (all inside CertDir). The
// folder is first renamed out of certificates/ in one step, so a reader
// or a crash sees the certificate either stored or gone, never half; the
// renamed folder is then removed. An error after the rename names the
// folder left to remove by hand; the certificate is no longer managed.
// A name with no "current" link is ErrNoCertificate. The caller holds the
// store's lock.
func (s *Store) DeleteCertificate(name string) error {
	if err := CheckCertName(name); err != nil {
		return err
	}
	dir := s.CertDir(name)
	if _, err := os.Lstat(filepath.Join(dir, "current")); errors.Is(err, fs.ErrNotExist) {
		return ErrNoCertificate
	} else if err != nil {
		return err
	}
	gone := filepath.Join(s.Root, fmt.Sprintf(".deleted-%s-%d", name, time.Now().UnixNano()))
	if err := os.Rename(dir, gone); err != nil {
		return fmt.Errorf("deleting %s: %w", dir, err)
	}
	if err := os.RemoveAll(gone); err != nil {
		return fmt.Errorf("%s is no longer managed, but removing its files failed (%w); remove %s by hand", name, err, gone)
	}
	return nil
}
