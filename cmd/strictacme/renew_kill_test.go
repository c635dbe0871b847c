package main

import (
	"bytes"
	"crypto/tls"
	"errors"
	"github.com/strictacme/strictacme/internal/cliflag"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/strictacme/strictacme/internal/store"
	"github.com/strictacme/strictacme/internal/testworld"
)

// TestCrashAtEveryStep kills strictacme with SIGKILL at each step of a
// renewal (STRICTACME_TEST_KILL_AT) and reruns it: no challenge record is
// left in the zone, the journal is empty, and a complete certificate is in
// place (the old one, or the new one once "current" was switched).
//
// The test world lives in this process, so it outlives the killed
// subprocess; strictacme reaches its provider API through the hidden
// --dns testapi provider.
func TestCrashAtEveryStep(t *testing.T) {
	bin, err := exec.LookPath("strictacme") // installed in $PATH by testscript.Main
	if err != nil {
		t.Skip("strictacme test command not in $PATH:", err)
	}
	w := testworld.Start(t)
	steps := []struct {
		step         string
		newIsCurrent bool // the kill came after the switch to the new certificate
		// mayBeGone: the records are removed while the CA issues, so by
		// this step they may be gone before the kill, or still be there.
		mayBeGone bool
	}{
		{"written", false, false},
		{"propagation", false, false},
		{"finalized", false, true},
		{"storing", false, true},
		{"stored", true, true},
	}
	for _, tc := range steps {
		t.Run(tc.step, func(t *testing.T) {
			state := t.TempDir()
			// The DoH check runs only where the kill happens during it: the
			// world's caching resolver would hold the first order's TXT
			// value for its TTL and make a later check wait for real.
			prop := "none"
			if tc.step == "propagation" {
				prop = "doh"
			}
			run := func(kill string, args ...string) error {
				cmd := exec.Command(bin, args...)
				cmd.Env = append(worldEnv(w, state),
					"STRICTACME_PROPAGATION="+prop, "STRICTACME_RESOLVER="+w.DoHURL, "STRICTACME_POLL_INTERVAL=50ms")
				if kill != "" {
					cmd.Env = append(cmd.Env, killEnv+"="+kill)
				}
				var out bytes.Buffer
				cmd.Stdout, cmd.Stderr = &out, &out
				err := cmd.Run()
				t.Logf("strictacme %v (kill at %q): %v\n%s", args, kill, err, out.String())
				return err
			}
			name := "crash-" + tc.step + ".example.com"
			if err := run("", "issue", "-d", name); err != nil {
				t.Fatalf("issue: %v", err)
			}
			st := &store.Store{Root: state}
			old, err := st.LoadCertificate(name)
			if err != nil {
				t.Fatal(err)
			}

			err = run(tc.step, "renew", "--force")
			// A CA may reuse the first order's valid authorizations (Pebble
			// does so now and then, as Let's Encrypt does); the renewal then
			// writes nothing and can finish before the kill point. Renew
			// again: a reused authorization is rare, twice in a row rarer.
			for i := 0; i < 3 && err == nil && tc.step != "finalized" && tc.step != "storing" && tc.step != "stored"; i++ {
				if old, err = st.LoadCertificate(name); err != nil {
					t.Fatal(err)
				}
				err = run(tc.step, "renew", "--force")
			}
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("renew was not killed at %s: %v", tc.step, err)
			}
			if n := challengeTXT(w); n == 0 && !tc.mayBeGone {
				t.Errorf("no challenge record in the zone right after the kill at %s; the kill came too late to test clean-up", tc.step)
			}
			checkComplete(t, st, name, old.Meta.Serial, !tc.newIsCurrent)

			// The rerun has nothing due (the certificate is fresh) and still
			// removes what the killed run left.
			if err := run("", "renew"); err != nil {
				t.Fatalf("rerun: %v", err)
			}
			if n := challengeTXT(w); n != 0 {
				t.Errorf("%d challenge TXT record(s) left in the zone after the rerun", n)
			}
			if es, err := st.Journal().Entries(); err != nil || len(es) != 0 {
				t.Errorf("journal after the rerun: %v, %v", es, err)
			}
			checkComplete(t, st, name, old.Meta.Serial, !tc.newIsCurrent)
		})
	}
}

// checkComplete loads the current certificate of name through the stable
// file names and checks that the key matches the certificate and that it is
// (or is not) the old serial.
func checkComplete(t *testing.T, st *store.Store, name, oldSerial string, wantOld bool) {
	t.Helper()
	c, err := st.LoadCertificate(name)
	if err != nil {
		t.Fatalf("current certificate: %v", err)
	}
	if (c.Meta.Serial == oldSerial) != wantOld {
		t.Errorf("current serial %s, old %s, want old=%v", c.Meta.Serial, oldSerial, wantOld)
	}
	dir := st.CertDir(name)
	key, err1 := os.ReadFile(filepath.Join(dir, store.PrivkeyFile))
	full, err2 := os.ReadFile(filepath.Join(dir, store.FullchainFile))
	if err1 != nil || err2 != nil {
		t.Fatalf("stable files: %v %v", err1, err2)
	}
	if _, err := tls.X509KeyPair(full, key); err != nil {
		t.Errorf("fullchain.pem and privkey.pem do not belong together: %v", err)
	}
}

// worldEnv is the environment of a strictacme subprocess that issues from
// the test world w into state, through the hidden testapi provider.
func worldEnv(w *testworld.World, state string) []string {
	return append(cleanEnv(),
		"HOME="+state, "TESTAPI_URL="+w.APIURL, "TESTAPI_TOKEN="+w.APIToken,
		"STRICTACME_PATH="+state, "STRICTACME_SERVER="+w.DirectoryURL, "STRICTACME_CA_CERT="+w.TLSRootFile,
		"STRICTACME_DNS=testapi", "STRICTACME_ACCEPT_TOS=true")
}

// cleanEnv is the process environment without STRICTACME_* settings.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if len(kv) < len(cliflag.Prefix) || kv[:len(cliflag.Prefix)] != cliflag.Prefix {
			out = append(out, kv)
		}
	}
	return out
}
