package job

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/strictacme/strictacme/internal/deploy"
	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/plan"
	"github.com/strictacme/strictacme/internal/renewal"
	"github.com/strictacme/strictacme/internal/store"
	"github.com/strictacme/strictacme/internal/store/storetest"
)

// persistOnly is a certificate that needs no DNS provider to build: its
// plan is made without any request.
func persistOnly(name string) plan.Settings {
	return plan.Settings{Name: name, Names: []string{name}, Server: "https://ca.example/directory", Challenges: []string{"dns-persist-01"}}
}

// stored is a CertRun of a certificate stored with the settings s.
func stored(t *testing.T, s plan.Settings) *renewal.CertRun {
	t.Helper()
	raw, err := s.Encode()
	if err != nil {
		t.Fatal(err)
	}
	m := store.Metadata{Names: s.Names, Settings: raw, SettingsVersion: plan.SchemaVersion}
	return &renewal.CertRun{Name: s.Name, Cert: &store.Certificate{Name: s.Name, Meta: m}}
}

// The order of a renew run is built from the config file's settings when
// the file lists the certificate, else from the stored ones with the run's
// order timeout; the run's trust roots add to the certificate's own and its
// account settings replace the stored ones. A certificate stored without
// settings, or one the caller refuses, is a usage error naming it.
func TestRenewalBuildsEachOrderFromTheRightSettings(t *testing.T) {
	path := t.TempDir()
	own, extra := rootFile(t), rootFile(t)
	s := persistOnly("web.example")
	s.CACerts, s.Email, s.Timeout = []string{own}, "old@example.com", plan.Duration(time.Hour)
	configured := persistOnly("web.example")
	configured.Timeout = plan.Duration(3 * time.Minute)

	r := &Renewal{Path: path, Timeout: 7 * time.Minute, CACerts: []string{extra}, Email: "new@example.com", AcceptTOS: true, Output: &bytes.Buffer{}}
	tests := []struct {
		name        string
		conf        map[string]plan.Settings
		timeout     time.Duration
		roots       []string
		refuse      bool
		wantRefused bool
	}{
		{"stored settings take the run's timeout", nil, 7 * time.Minute, []string{own, extra}, false, false},
		{"the config file's settings keep their own", map[string]plan.Settings{"web.example": configured}, 3 * time.Minute, []string{extra}, true, false},
		{"a refused stored certificate is not built", nil, 0, nil, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r.Conf = plan.Configured{Settings: tt.conf}
			r.Refuse = nil
			if tt.refuse {
				r.Refuse = func(name string, _ store.Metadata) error {
					return exitcode.With(exitcode.Usage, errors.New(name+" is refused"))
				}
			}
			j, err := r.job(stored(t, s))
			if tt.wantRefused {
				if exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), "web.example is refused") {
					t.Fatalf("job = %v, %v; want the refusal", j, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := j.Settings
			if got.Timeout.D() != tt.timeout || !slices.Equal(got.CACerts, tt.roots) || got.Email != "new@example.com" || !got.AcceptTOS || j.Path != path {
				t.Errorf("settings: timeout %s, roots %v, email %q, accept_tos %v; want %s, %v, the run's account", got.Timeout.D(), got.CACerts, got.Email, got.AcceptTOS, tt.timeout, tt.roots)
			}
		})
	}

	bare := &renewal.CertRun{Name: "old.example", Cert: &store.Certificate{Name: "old.example", Meta: store.Metadata{Names: []string{"old.example"}}}}
	r.Conf, r.Refuse = plan.Configured{}, nil
	if _, err := r.job(bare); exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), "old.example was stored without its settings") {
		t.Errorf("no stored settings: %v", err)
	}
}

// The pre and post hooks of a run: those given for the run, else the
// config file's, else each one the selected certificates were stored with.
func TestRenewalHooksComeFromTheRunThenTheFileThenTheStore(t *testing.T) {
	st := storetest.Open(t)
	s := persistOnly("a.example")
	s.PreHook, s.PostHook = "stored-pre", "stored-post"
	raw, err := s.Encode()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	storetest.SaveCertificate(t, st, "a.example", now, now.Add(time.Hour), func(m *store.Metadata) {
		m.Settings, m.SettingsVersion = raw, plan.SchemaVersion
	})
	tests := []struct {
		name              string
		given             Hooks
		conf              plan.Configured
		wantPre, wantPost string
	}{
		{"stored", Hooks{}, plan.Configured{}, "stored-pre", "stored-post"},
		{"given pre, stored post", Hooks{Pre: "flag-pre"}, plan.Configured{}, "flag-pre", "stored-post"},
		{"the file's", Hooks{}, plan.Configured{Settings: map[string]plan.Settings{}, PreHook: "file-pre", PostHook: "file-post"}, "file-pre", "file-post"},
		{"given over the file's", Hooks{Post: "flag-post"}, plan.Configured{Settings: map[string]plan.Settings{}, PreHook: "file-pre", PostHook: "file-post"}, "file-pre", "flag-post"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Renewal{Hooks: tt.given, Conf: tt.conf}
			if pre, post := r.runHooks(st); pre != tt.wantPre || post != tt.wantPost {
				t.Errorf("hooks %q, %q; want %q, %q", pre, post, tt.wantPre, tt.wantPost)
			}
		})
	}
}

// A certificate just stored gets its deploy outputs written before the
// deploy hook runs; a failing deploy hook is the error, the outputs stay
// written, and the hook sees the certificate's paths.
func TestDeployWritesOutputsThenRunsTheHook(t *testing.T) {
	st := storetest.Open(t)
	root := st.Root
	c := storetest.SaveCertificate(t, st, "web.example", time.Now(), time.Now().Add(time.Hour), nil)
	out := filepath.Join(t.TempDir(), "fullchain.pem")
	seen := filepath.Join(t.TempDir(), "seen")
	h := Hooks{Deploy: `echo "$STRICTACME_CERT_NAME" > ` + seen + `; exit 3`, Timeout: time.Minute, Outputs: deploy.Outputs{FullchainFile: out}}
	var log bytes.Buffer
	err := h.DeployCert(context.Background(), &log, root, c, false)
	if exitcode.Of(err) != exitcode.Hook {
		t.Fatalf("deploy: %v (exit %d); want the hook's failure", err, exitcode.Of(err))
	}
	if b, err := os.ReadFile(out); err != nil || !bytes.Contains(b, []byte("BEGIN CERTIFICATE")) {
		t.Errorf("output %s: %q, %v", out, b, err)
	}
	if b, _ := os.ReadFile(seen); strings.TrimSpace(string(b)) != "web.example" {
		t.Errorf("the hook saw STRICTACME_CERT_NAME %q", b)
	}
	if !strings.Contains(log.String(), "web.example: ") {
		t.Errorf("log %q: want the output written, named after the certificate", log.String())
	}
}

// The result of an order names the certificate's stable paths under the
// state directory, whatever happened to the order.
func TestResultNamesTheStablePaths(t *testing.T) {
	j, err := New(persistOnly("web.example"), Options{Path: "/var/lib/strictacme"})
	if err != nil {
		t.Fatal(err)
	}
	j.Why = "the config file changed it"
	c := storetest.SaveCertificate(t, storetest.Open(t), "web.example", time.Now(), time.Now().Add(time.Hour), nil)
	got := j.result(nil, exitcode.With(exitcode.DNS, errors.New("provider down")))
	if got.OK || got.ExitCode != exitcode.DNS || got.Certificate != nil || got.Reordered != j.Why || !slices.Equal(got.Names, []string{"web.example"}) {
		t.Errorf("failed order: %+v", got)
	}
	f := FilesOf(j.Path, c)
	dir := filepath.Join("/var/lib/strictacme", "certificates", "web.example")
	if f.Dir != dir || f.Fullchain != filepath.Join(dir, store.FullchainFile) || f.Privkey != filepath.Join(dir, store.PrivkeyFile) || f.Serial != c.Meta.Serial {
		t.Errorf("files %+v", f)
	}
}

// rootFile is a PEM file holding one self-signed certificate.
func rootFile(t *testing.T) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "root.pem")
	c := storetest.SaveCertificate(t, storetest.Open(t), "root", time.Now(), time.Now().Add(time.Hour), nil)
	if err := os.WriteFile(f, c.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}
