package plan

import (
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mholt/acmez/v3/acme"

	"github.com/strictacme/strictacme/internal/names"
	"github.com/strictacme/strictacme/internal/renewal"
	"github.com/strictacme/strictacme/internal/store"
	buildversion "github.com/strictacme/strictacme/internal/version"
)

// The settings side of a renew run lives here rather than in
// internal/renewal: renewal decides from a stored certificate's dates
// alone, and the challenge server, which plan's own dependencies test
// against, uses those rules without settings.

// Configured is a config file's part in a run (strictacme run): its
// certificates' settings, which replace the stored ones, and those of them
// to order now whatever their dates say.
type Configured struct {
	// Settings of each certificate by store name.
	Settings map[string]Settings
	// Names are the certificates in file order: the run's selection.
	Names []string
	// Order lists the certificates to order now (Reorder).
	Order map[string]renewal.OrderReason
	// PreHook and PostHook are the file's run hooks: those of its first
	// certificate with a pre hook ([defaults] gives every certificate the
	// same ones).
	PreHook, PostHook string
}

// Configure returns the configured run of the certificates settings, in
// file order, against the certificates stored in st.
func Configure(st *store.Store, settings []Settings) Configured {
	c := Configured{Settings: map[string]Settings{}, Order: map[string]renewal.OrderReason{}}
	for _, s := range settings {
		c.Settings[s.Name] = s
		c.Names = append(c.Names, s.Name)
		if c.PreHook == "" {
			c.PreHook, c.PostHook = s.PreHook, s.PostHook
		}
		if why, ok := Reorder(st, s); ok {
			c.Order[s.Name] = why
		}
	}
	return c
}

// Reorder says whether a configured certificate s is ordered in this run
// whatever its dates say: it is not stored in st yet, or its names, key
// type or profile differ from the stored certificate's (Settings.Differs).
// The reason is for the log and the run's output.
func Reorder(st *store.Store, s Settings) (renewal.OrderReason, bool) {
	diff, stored := Changes(st, s)
	if !stored {
		return renewal.OrderReason{Names: s.Names, Reason: "in the config file, not stored yet"}, true
	}
	if len(diff) > 0 {
		return renewal.OrderReason{Names: s.Names, Reason: ChangeReason("the config file", diff)}, true
	}
	return renewal.OrderReason{}, false
}

// Changes is what of s's identity the certificate stored under s.Name
// has otherwise (Differs); stored is false when none can be loaded. It is
// the one decision of run (Reorder) and issue (StoredDecision) that a
// stored certificate is ordered again at once, not when due.
func Changes(st *store.Store, s Settings) (diff []string, stored bool) {
	old, err := st.LoadCertificate(s.Name)
	if err != nil {
		return nil, false
	}
	return s.Differs(old.Meta), true
}

// ChangeReason is why a certificate is ordered again: source ("the
// config file", "the command line") changed what diff lists.
func ChangeReason(source string, diff []string) string {
	return source + " changed it: " + strings.Join(diff, "; ")
}

// KeepStored returns s, the settings of issue's command line for the
// certificate stored under s.Name, with what the command line left out
// taken from the stored settings, and one line saying what was kept ("" if
// nothing): the deploy outputs when none are given, each hook not given,
// and, for a certificate of the operator's CSR, the CSR (its stored copy)
// unless key_type is given (--key-type switches it to a key of its own,
// which Differs then reports). given reports whether the command line gave
// a settings key, even as "" (nil: none): a hook given as "" drops the
// stored one. A certificate not stored, or stored without settings,
// leaves s as it is. New outputs or hooks replace the stored ones;
// strictacme delete drops them with the certificate.
func KeepStored(st *store.Store, s Settings, given func(key string) bool) (Settings, string) {
	if given == nil {
		given = func(string) bool { return false }
	}
	c, err := st.LoadCertificate(s.Name)
	if err != nil {
		return s, ""
	}
	old, ok, err := FromMetadata(c.Meta)
	if err != nil || !ok {
		return s, ""
	}
	var kept []string
	if s.Outputs.Empty() && !old.Outputs.Empty() {
		s.Outputs = old.Outputs
		kept = append(kept, "deploy outputs")
	}
	for _, h := range []struct {
		name, key string
		now, then *string
	}{{"pre hook", "pre_hook", &s.PreHook, &old.PreHook}, {"deploy hook", "deploy_hook", &s.DeployHook, &old.DeployHook}, {"post hook", "post_hook", &s.PostHook, &old.PostHook}} {
		if *h.now == "" && *h.then != "" && !given(h.key) {
			*h.now = *h.then
			kept = append(kept, h.name)
		}
	}
	if c.Meta.CSR && s.CSR == "" && !given("key_type") {
		s.CSR, s.KeyType = filepath.Join(c.Dir, store.CSRFile), ""
		kept = append(kept, "CSR (--key-type TYPE orders with a key of its own instead)")
	}
	if len(kept) == 0 {
		return s, ""
	}
	return s, fmt.Sprintf("%s: keeping its stored %s; give new ones to replace them", s.Name, strings.Join(kept, ", "))
}

// StoredName decides the store name of s's certificate against the
// certificates stored in st; it is where a name set meets the store, as
// WithDefaults is where a name is derived from the first domain.
//
// Settings that give no name order into the stored certificate whose names
// are exactly s's, in any order, when the name derived from s's first
// domain holds no certificate: "-d b.example -d a.example" after
// "-d a.example -d b.example" renews a.example, not a second certificate
// b.example (the not-due rule then applies to it); note says so. Settings
// that name a certificate not stored yet while another one of the same key
// type holds exactly s's names get a warning in note: that makes a second
// certificate for the same names. Otherwise name is s's own (or derived)
// name and note is "".
func StoredName(st *store.Store, s Settings) (name, note string) {
	d := s.WithDefaults()
	name = d.Name
	ids, err := names.ParseAll(s.Names)
	if err != nil || len(ids) == 0 {
		return name, ""
	}
	if _, err := st.LoadCertificate(name); err == nil {
		return name, "" // its own certificate (Reorder sees a change of names)
	}
	var want []string
	for _, id := range ids {
		want = append(want, id.ASCII)
	}
	slices.Sort(want)
	want = slices.Compact(want)
	stored, err := st.ListCertificates()
	if err != nil {
		return name, ""
	}
	for _, other := range stored {
		c, err := st.LoadCertificate(other)
		if err != nil {
			continue
		}
		have := slices.Clone(c.Meta.Names)
		slices.Sort(have)
		if !slices.Equal(slices.Compact(have), want) {
			continue
		}
		if s.Name == "" {
			return other, fmt.Sprintf("certificate %s holds these names (%s); it is the one meant, not a new certificate (--cert-name gives another)", other, strings.Join(want, ", "))
		}
		if c.Meta.KeyType == "" || strings.EqualFold(c.Meta.KeyType, d.KeyType) {
			return name, fmt.Sprintf("warning: certificate %s already holds exactly these names (%s); this makes a second certificate, %s (strictacme delete %s removes the other)", other, strings.Join(want, ", "), name, other)
		}
	}
	return name, ""
}

// StoredDecision is renewal's decision (renewal.Decide) for the stored
// certificate s names, when one is stored with s's identity (Reorder says
// no order is needed): issue on such a certificate orders only when it is
// due, so a job calling issue daily does not spend the CA's
// duplicate-certificate limit. stored is false when there is no such
// certificate (none stored, another identity, or one that cannot be
// read): then issue orders. The decision uses what renew stored (ARI
// window, revocation) and asks the CA nothing.
func StoredDecision(st *store.Store, s Settings, now time.Time) (d renewal.Decision, stored bool, err error) {
	if diff, ok := Changes(st, s); !ok || len(diff) > 0 {
		return d, false, nil
	}
	c, err := st.LoadCertificate(s.Name)
	if err != nil {
		return d, false, nil
	}
	state, err := renewal.LoadState(st.CertDir(s.Name))
	if err != nil {
		return d, true, err
	}
	m := c.Meta
	d = renewal.Decide(now, renewal.Cert{NotBefore: m.NotBefore, NotAfter: m.NotAfter, ARICertID: m.ARICertID}, state.ARI, false, state.RevokedAt(m.Serial))
	return d, true, nil
}

// ErrNoSettings is a stored certificate whose metadata holds no settings
// (stored by a release that kept none): there is nothing to order it with.
var ErrNoSettings = errors.New("stored without its settings")

// SettingsFor returns the settings c is ordered with: configured[c.Name]
// when there is one (a config file's; fromConfig is true), else those c
// was stored with (FromMetadata) under c's name; a certificate of the
// operator's CSR is ordered again for the copy of the CSR stored with it
// (store.CSRFile), so the renewed certificate has the same public key
// whatever became of the file first given. The error is
// ErrNoSettings, or says, after c's name, why the stored settings cannot
// be read (a newer schema, damaged JSON).
func SettingsFor(c *renewal.CertRun, configured map[string]Settings) (s Settings, fromConfig bool, err error) {
	if s, ok := configured[c.Name]; ok {
		return s, true, nil
	}
	s, ok, err := FromMetadata(c.Cert.Meta)
	switch {
	case err != nil:
		return s, false, fmt.Errorf("%s: %w", c.Name, err)
	case !ok:
		return s, false, ErrNoSettings
	}
	s.Name = c.Name
	if c.Cert.Meta.CSR {
		s.CSR = filepath.Join(c.Cert.Dir, store.CSRFile)
	}
	return s, false, nil
}

// RecordSettings stores configured[name] in the metadata of each stored
// certificate of that name that has no settings (stored by a release that
// kept none), so that a run without the config renews it from then on.
// Certificates in order are skipped: their order stores their settings.
// Each recorded certificate, or a failure to record, is one line to logf.
func RecordSettings(st *store.Store, configured map[string]Settings, order map[string]renewal.OrderReason, logf func(string)) {
	for _, name := range slices.Sorted(maps.Keys(configured)) {
		if _, ordered := order[name]; ordered {
			continue
		}
		c, err := st.LoadCertificate(name)
		if err != nil {
			continue
		}
		if _, ok, _ := FromMetadata(c.Meta); ok {
			continue
		}
		raw, err := configured[name].Stored().Encode()
		if err == nil {
			c.Meta.Settings, c.Meta.SettingsVersion = raw, configured[name].Version()
			err = st.SaveMetadata(name, c.Meta)
		}
		if err != nil {
			logf(fmt.Sprintf("%s: recording its settings for renew: %v", name, err))
			continue
		}
		logf(name + ": stored without its settings; recorded those of the config file, so renew can renew it")
	}
}

// StoredHooks returns the pre and post hooks of a run over the stored
// certificates names (all of st when empty): each distinct command the
// certificates were stored with, in name order, joined by " && " so that
// every one runs once. Certificates that cannot be read are left out.
func StoredHooks(st *store.Store, names []string) (pre, post string) {
	var pres, posts []string
	if len(names) == 0 {
		names, _ = st.ListCertificates()
	}
	for _, n := range names {
		c, err := st.LoadCertificate(n)
		if err != nil {
			continue
		}
		if s, ok, _ := FromMetadata(c.Meta); ok {
			if s.PreHook != "" && !slices.Contains(pres, s.PreHook) {
				pres = append(pres, s.PreHook)
			}
			if s.PostHook != "" && !slices.Contains(posts, s.PostHook) {
				posts = append(posts, s.PostHook)
			}
		}
	}
	return strings.Join(pres, " && "), strings.Join(posts, " && ")
}

// ClientFor returns an ACME client for the CA that issued a stored
// certificate (its metadata m), trusting the roots it was issued with plus
// the PEM files extraRoots. The error is LoadRoots'.
func ClientFor(m store.Metadata, extraRoots []string) (*acme.Client, error) {
	s, _, _ := FromMetadata(m)
	roots, err := LoadRoots(append(slices.Clone(s.CACerts), extraRoots...))
	if err != nil {
		return nil, err
	}
	return &acme.Client{Directory: m.Directory, HTTPClient: HTTPClient(roots, s.IPv4Only), UserAgent: buildversion.UserAgent()}, nil
}

// Known lists the settings that define the providers of a renew run, for
// Sweep: those of configured first, in name order, then those the run's
// certificates were stored with.
func Known(configured map[string]Settings, runs []*renewal.CertRun) []Settings {
	var known []Settings
	for _, name := range slices.Sorted(maps.Keys(configured)) {
		known = append(known, configured[name])
	}
	for _, r := range runs {
		if r.Cert != nil {
			if s, ok, _ := FromMetadata(r.Cert.Meta); ok {
				known = append(known, s)
			}
		}
	}
	return known
}
