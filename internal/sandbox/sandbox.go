// Package sandbox is the world of "strictacme sandbox": a local ACME CA
// (Pebble), an authoritative DNS server, a caching DNS-over-HTTPS resolver
// and a fake provider API, on loopback only (internal/testworld); the DNS
// provider kind that writes to it; and what a certificate's settings must
// say to be ordered there. Certificates it issued are recognised later:
// their CA existed only while the sandbox ran, so they are neither renewed
// nor revoked.
package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/names"
	"github.com/strictacme/strictacme/internal/plan"
	"github.com/strictacme/strictacme/internal/providers"
	"github.com/strictacme/strictacme/internal/renewal"
	"github.com/strictacme/strictacme/internal/store"
	"github.com/strictacme/strictacme/internal/testworld"
)

// Provider is the provider kind of the running sandbox's DNS. It is hidden
// from the provider lists: it exists only while a sandbox runs.
const Provider = "sandbox"

// ErrNotRunning is the sandbox provider's error when no sandbox runs.
var ErrNotRunning = errors.New("the sandbox's DNS exists only while strictacme sandbox runs; run it again")

// DefaultNames are the names of a sandbox certificate when none are given.
var DefaultNames = []string{"example.com", "*.example.com", "www.example.com"}

// RootFile is the file, in the state directory, that holds the sandbox
// CA's root once a certificate is stored.
const RootFile = "sandbox-root.pem"

// running is the provider of the sandbox of this process, nil when none
// runs.
var running providers.Provider

// Use makes p the sandbox provider (a running sandbox's, or a test world's)
// until the returned function is called.
func Use(p providers.Provider) (restore func()) {
	prev := running
	running = p
	return func() { running = prev }
}

func init() {
	plan.RegisterProvider(plan.ProviderKind{
		Name: Provider, Hidden: true,
		New: func(func(string) (string, bool), plan.BuildEnv) (providers.Provider, error) {
			if running == nil {
				return nil, ErrNotRunning
			}
			return running, nil
		},
	})
}

// CheckNames refuses names outside the zones the sandbox serves.
func CheckNames(ids []names.Identifier) error {
	for _, id := range ids {
		if !testworld.InDefaultZones(id.Base()) {
			zones := slices.Clone(testworld.DefaultZones)
			for i, z := range zones {
				zones[i] = strings.TrimSuffix(z, ".")
			}
			return fmt.Errorf("domain %q: the sandbox serves only %s and names under them", id.Input, strings.Join(zones, ", "))
		}
	}
	return nil
}

// CheckProfile refuses a profile the sandbox CA does not offer, which the
// CA itself would refuse only after the account is stored; "" is the
// sandbox's default.
func CheckProfile(profile string) error {
	if profile == "" || slices.Contains(testworld.Profiles(), profile) {
		return nil
	}
	return fmt.Errorf("%q: the sandbox CA offers %s", profile, strings.Join(testworld.Profiles(), ", "))
}

// Target is what a certificate's settings say to be ordered in a sandbox:
// its CA, the trust root of its servers, its resolver and provider.
type Target struct {
	Server         string
	CACerts        []string
	Resolvers      []string
	Propagation    string
	RequestTimeout time.Duration
	Provider       string
	// Profile is the profile ordered when none is given: Pebble picks a
	// random one for orders without it (sometimes 6-day certificates);
	// the sandbox shows the ordinary 90-day one unless asked otherwise.
	Profile string
}

// Pending is the Target of a sandbox not started yet: loopback stand-ins
// of the same shape, so that the other settings can be checked before
// anything starts or is written. A plan built from it fails only with
// ErrNotRunning once the settings are valid.
func Pending() Target {
	return target("https://127.0.0.1/dir", nil, "https://127.0.0.1/dns-query")
}

func target(server string, caCerts []string, doh string) Target {
	return Target{Server: server, CACerts: caCerts, Resolvers: []string{doh}, Propagation: "doh",
		RequestTimeout: 5 * time.Second, Provider: Provider, Profile: testworld.ProfileDefault}
}

// World is a running sandbox.
type World struct {
	*testworld.World
	restore func()
}

// Start starts a sandbox on loopback and makes its DNS the sandbox
// provider until Close.
func Start() (*World, error) {
	w, err := testworld.New(testworld.Options{})
	if err != nil {
		return nil, fmt.Errorf("starting the sandbox: %w", err)
	}
	return &World{World: w, restore: Use(w.Provider())}, nil
}

// Close stops the sandbox.
func (w *World) Close() {
	w.restore()
	w.World.Close()
}

// Target is what settings say to be ordered in w.
func (w *World) Target() Target { return target(w.DirectoryURL, []string{w.TLSRootFile}, w.DoHURL) }

// WriteRoot writes the sandbox CA's root into the state directory path,
// so that "openssl verify" can check a certificate it issued, and returns
// the file's name. Call it once a certificate is stored: a failed run
// leaves the root that matches the stored certificate.
func (w *World) WriteRoot(path string) (string, error) {
	f := filepath.Join(path, RootFile)
	return f, os.WriteFile(f, w.CA.RootPEM(), 0o644)
}

// RefuseRenew refuses to renew a certificate a sandbox issued (usage
// error): its CA is gone.
func RefuseRenew(name string, m store.Metadata) error {
	if IssuedBy(m) {
		return exitcode.With(exitcode.Usage, fmt.Errorf("%s was issued by strictacme sandbox, whose CA is gone; run strictacme sandbox again", name))
	}
	return nil
}

// RefuseRevoke refuses to revoke a certificate a sandbox issued (usage
// error): its CA existed only while the sandbox ran.
func RefuseRevoke(c *store.Certificate) error {
	if IssuedBy(c.Meta) {
		return exitcode.With(exitcode.Usage, fmt.Errorf("%s was issued by strictacme sandbox, whose CA existed only while it ran; there is nothing to revoke", c.Name))
	}
	return nil
}

// ForgetAccounts removes, from the state directory path, the folder of the
// accounts registered with w's CA. The CA exists only while w runs and
// listens on a new port each run, so its accounts can never be used again;
// removing them after every run keeps the state from gaining an
// accounts/127.0.0.1_PORT-… folder per run. A certificate's metadata keeps
// its account URL, which nothing asks again: sandbox certificates are
// neither renewed nor revoked.
func (w *World) ForgetAccounts(path string) error {
	st := &store.Store{Root: path}
	caFolder := filepath.Dir(st.AccountDir(w.DirectoryURL, ""))
	if err := os.RemoveAll(caFolder); err != nil {
		return fmt.Errorf("removing the sandbox CA's accounts: %w", err)
	}
	_ = os.Remove(filepath.Dir(caFolder)) // "accounts", when nothing else is in it
	return nil
}

// CheckState refuses the state directory path when it holds a certificate
// or an account of another CA: a sandbox run would replace such a
// certificate with one of its own, which is never renewed (Skip), so a
// real certificate would silently stop renewing. A certificate is the
// sandbox's when IssuedBy says so; an account when its CA directory is a
// sandbox CA's (loopback, the sandbox's directory path). A certificate
// whose metadata cannot be read is refused too: its CA is unknown. A path
// that does not exist or holds only the sandbox's is accepted. The error
// is one line, to follow the flag that gave path.
func CheckState(path string) error {
	const fix = "give the sandbox a state directory of its own (the default is ./sandbox)"
	st := &store.Store{Root: path}
	certs, err := st.ListCertificates()
	if err != nil {
		return fmt.Errorf("%s: %v; %s", path, err, fix)
	}
	for _, name := range certs {
		f := filepath.Join(st.CertDir(name), "current", store.MetadataFile)
		data, err := os.ReadFile(f)
		var m store.Metadata
		if err == nil {
			err = json.Unmarshal(data, &m)
		}
		if err != nil {
			return fmt.Errorf("%s holds certificate %s, whose CA cannot be read (%v); %s", path, name, err, fix)
		}
		if !IssuedBy(m) {
			return fmt.Errorf("%s holds certificate %s of the CA %s, which the sandbox would replace; %s", path, name, m.Directory, fix)
		}
	}
	accounts := filepath.Join(path, "accounts")
	cas, err := os.ReadDir(accounts)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: %v; %s", path, err, fix)
	}
	for _, ca := range cas {
		found, _ := filepath.Glob(filepath.Join(accounts, ca.Name(), "*", "account.json"))
		for _, f := range found {
			var a store.Account
			data, err := os.ReadFile(f)
			if err == nil {
				err = json.Unmarshal(data, &a)
			}
			if err != nil {
				return fmt.Errorf("%s holds the account %s, whose CA cannot be read (%v); %s", path, filepath.Dir(f), err, fix)
			}
			if !sandboxCA(a.Directory) {
				return fmt.Errorf("%s holds an account of the CA %s; %s", path, a.Directory, fix)
			}
		}
	}
	return nil
}

// sandboxCA reports whether directory is the shape of a sandbox CA's
// directory URL: https on a loopback address with the sandbox's path.
func sandboxCA(directory string) bool {
	u, err := url.Parse(directory)
	if err != nil || u.Scheme != "https" || u.Path != testworld.PathDirectory {
		return false
	}
	ip := net.ParseIP(u.Hostname())
	return ip != nil && ip.IsLoopback()
}

// IssuedBy reports whether a stored certificate came from a sandbox.
func IssuedBy(m store.Metadata) bool {
	s, ok, _ := plan.FromMetadata(m)
	if !ok || s.Provider != Provider {
		return false
	}
	// A config may name a provider of another kind "sandbox": the kind
	// decides, not the name.
	ref := s.Ref(Provider)
	return ref == nil || ref.Kind == Provider
}

// Skip decides a certificate of the sandbox without its CA: nothing to
// ask, nothing to renew with (renewal.List and the renew run's Skip).
func Skip(m store.Metadata) (renewal.Decision, bool) {
	if !IssuedBy(m) {
		return renewal.Decision{}, false
	}
	return renewal.Decision{Source: "sandbox", At: m.NotAfter, Reason: "issued by the sandbox's local CA, which exists only while strictacme sandbox runs; run it again for a new certificate"}, true
}
