package namecheap

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/libdns/libdns"

	"github.com/strictacme/strictacme/internal/providers"
	"github.com/strictacme/strictacme/provider/namecheap/namecheaptest"
)

// machineLockDir points DefaultLockDir at temporary directories for the
// test, whether it runs as root (system lock directory) or not (user cache
// directory), and returns the directory it now resolves to.
func machineLockDir(t *testing.T) string {
	t.Helper()
	old := providers.SystemLockDirs
	providers.SystemLockDirs = []string{t.TempDir()}
	t.Cleanup(func() { providers.SystemLockDirs = old })
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	return DefaultLockDir()
}

// TestTwoStateDirsShareTheZoneLockUnderSlowSetHosts: two runs on one
// machine (two Providers built as the CLI builds them for two state
// directories: no lock directory given, or another path to the same
// directory) write one zone while setHosts is slow. One run removes its
// challenge record while the other's write, based on a read that still
// held it, is in flight. With one zone lock per machine the second run
// reads only after the first wrote, so the removed record does not come
// back and the new one stays.
func TestTwoStateDirsShareTheZoneLockUnderSlowSetHosts(t *testing.T) {
	dir := machineLockDir(t)
	link := filepath.Join(t.TempDir(), "same-locks")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	for _, second := range []string{"", link} {
		t.Run("second lock dir "+map[bool]string{true: "default", false: "via a symlink"}[second == ""], func(t *testing.T) {
			w := newWorld(t, namecheaptest.Options{RateLimit: -1}, func(c *Config) { c.LockDir = "" })
			w.srv.AddZone("example.com", namecheaptest.ZoneOptions{Hosts: baseZone()})
			before := zoneKeys(w.srv.Hosts("example.com"))
			cfg := w.p.cfg
			cfg.LockDir = second
			other, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if w.p.LockDir() != dir {
				t.Fatalf("lock dir %s, want the machine's %s", w.p.LockDir(), dir)
			}
			r1 := []libdns.Record{txt("_acme-challenge", "run-1")}
			r2 := []libdns.Record{txt("_acme-challenge", "run-2")}
			if _, err := w.p.AppendRecords(ctx, "example.com.", r1); err != nil {
				t.Fatal(err)
			}

			// Run 2 presents: its setHosts takes 300 ms. As soon as its read
			// is answered, run 1 cleans up.
			read := make(chan struct{})
			var once sync.Once
			w.srv.OnCall(func(cmd string) {
				if cmd == namecheaptest.GetHosts {
					once.Do(func() { close(read) })
				}
			})
			w.srv.DelayNextSetHosts(300 * time.Millisecond)
			var wg sync.WaitGroup
			var err2 error
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err2 = other.AppendRecords(context.Background(), "example.com.", r2)
			}()
			<-read
			if _, err := w.p.DeleteRecords(ctx, "example.com.", r1); err != nil {
				t.Fatal(err)
			}
			wg.Wait()
			if err2 != nil {
				t.Fatal(err2)
			}
			hosts := w.srv.Hosts("example.com")
			if hasTXT(hosts, "_acme-challenge", "run-1") != 0 || hasTXT(hosts, "_acme-challenge", "run-2") != 1 {
				t.Fatalf("run 1's removed record came back (%d) or run 2's is gone (%d)", hasTXT(hosts, "_acme-challenge", "run-1"), hasTXT(hosts, "_acme-challenge", "run-2"))
			}
			if _, err := other.DeleteRecords(ctx, "example.com.", r2); err != nil {
				t.Fatal(err)
			}
			if !sameKeys(before, zoneKeys(w.srv.Hosts("example.com"))) {
				t.Fatal("zone not restored")
			}
		})
	}
}
