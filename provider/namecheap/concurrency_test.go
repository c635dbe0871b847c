package namecheap

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/libdns/libdns"
	"golang.org/x/time/rate"

	"github.com/strictacme/strictacme/internal/providers"
	"github.com/strictacme/strictacme/provider/namecheap/namecheaptest"
)

// Environment of the helper process started by TestCase_NC11 (the test
// binary re-executes itself; TestMain runs helperMain instead of the tests).
const (
	envHelper   = "NAMECHEAP_TEST_HELPER"
	envHelpURL  = "NAMECHEAP_TEST_URL"
	envHelpUser = "NAMECHEAP_TEST_USER"
	envHelpKey  = "NAMECHEAP_TEST_KEY"
	envHelpLock = "NAMECHEAP_TEST_LOCKDIR"
	envHelpName = "NAMECHEAP_TEST_PREFIX"
	envHelpN    = "NAMECHEAP_TEST_ROUNDS"
	envHelpSys  = "NAMECHEAP_TEST_SYSTEM_LOCK_DIR" // providers.SystemLockDirs of the helper
)

func TestMain(m *testing.M) {
	if os.Getenv(envHelper) == "1" {
		if err := helperMain(); err != nil {
			fmt.Fprintln(os.Stderr, "helper:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// helperMain presents rounds values, one AppendRecords each, at the apex
// challenge name of example.com, like a second strictacme process.
func helperMain() error {
	n, _ := strconv.Atoi(os.Getenv(envHelpN))
	providers.SystemLockDirs = []string{os.Getenv(envHelpSys)}
	p, err := New(Config{
		APIUser:  os.Getenv(envHelpUser),
		APIKey:   os.Getenv(envHelpKey),
		ClientIP: "198.51.100.8",
		Endpoint: os.Getenv(envHelpURL),
		LockDir:  os.Getenv(envHelpLock),
		Limiter:  rate.NewLimiter(rate.Inf, 1),
		Clock:    newFakeClock(),
	})
	if err != nil {
		return err
	}
	return presentRounds(context.Background(), p, os.Getenv(envHelpName), n)
}

func presentRounds(ctx context.Context, p *Provider, prefix string, n int) error {
	zone, err := p.ZoneFor(ctx, "_acme-challenge.example.com.")
	if err != nil {
		return err
	}
	for i := range n {
		recs := []libdns.Record{
			txt("_acme-challenge", fmt.Sprintf("%s-apex-%d", prefix, i)),
			txt("_acme-challenge."+prefix, fmt.Sprintf("%s-own-%d", prefix, i)),
		}
		if _, err := p.AppendRecords(ctx, zone, recs); err != nil {
			return err
		}
	}
	return nil
}

func checkRounds(t *testing.T, hosts []namecheaptest.Host, prefix string, n int) {
	t.Helper()
	for i := range n {
		if hasTXT(hosts, "_acme-challenge", fmt.Sprintf("%s-apex-%d", prefix, i)) != 1 ||
			hasTXT(hosts, "_acme-challenge."+prefix, fmt.Sprintf("%s-own-%d", prefix, i)) != 1 {
			t.Errorf("%s round %d lost", prefix, i)
		}
	}
}

// TestTwoProvidersSameZoneLoseNothing: two Providers in one process, each
// with its own lock-file handle on the same LockDir, write one zone at once.
func TestTwoProvidersSameZoneLoseNothing(t *testing.T) {
	w := newWorld(t, namecheaptest.Options{RateLimit: -1}, nil)
	w.srv.AddZone("example.com", namecheaptest.ZoneOptions{EmailType: "MX", Hosts: baseZone()})
	before := zoneKeys(w.srv.Hosts("example.com"))
	second, err := New(w.p.cfg)
	if err != nil {
		t.Fatal(err)
	}
	const rounds = 15
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, p := range []*Provider{w.p, second} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = presentRounds(context.Background(), p, fmt.Sprintf("p%d", i), rounds)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	hosts := w.srv.Hosts("example.com")
	checkRounds(t, hosts, "p0", rounds)
	checkRounds(t, hosts, "p1", rounds)
	if len(hosts) != len(before)+4*rounds {
		t.Errorf("%d rows, want %d", len(hosts), len(before)+4*rounds)
	}
	// With the lock no cycle ever had to be redone: one setHosts per change.
	if n := w.srv.Calls("setHosts"); n != 2*rounds {
		t.Errorf("setHosts calls = %d, want %d (a lost update was redone)", n, 2*rounds)
	}
}

// TestCase_NC11 — two jobs share one zone at the same time: a second OS
// process (this test binary re-executed) and this one present into the
// same zone of the same fake server, with setHosts slowed down; nothing is
// lost, no cycle has to be redone, and the clean-up restores the zone.
// The two processes either name the same LockDir or, like two runs with
// different state directories, leave it to the machine-wide default.
func TestCase_NC11(t *testing.T) {
	for _, shared := range []bool{true, false} {
		t.Run(map[bool]string{true: "same LockDir", false: "default LockDir"}[shared], func(t *testing.T) {
			sys := machineLockDir(t)
			lockDir := ""
			if shared {
				lockDir = t.TempDir()
			}
			w := newWorld(t, namecheaptest.Options{RateLimit: -1, SetHostsDelay: 5 * time.Millisecond}, func(c *Config) { c.LockDir = lockDir })
			twoProcessesShareZone(t, w, lockDir, providers.SystemLockDirs[0])
			if !shared && w.p.LockDir() != sys {
				t.Fatalf("lock dir %s, want %s", w.p.LockDir(), sys)
			}
		})
	}
}

func twoProcessesShareZone(t *testing.T, w *world, lockDir, sysLockDir string) {
	w.srv.AddZone("example.com", namecheaptest.ZoneOptions{EmailType: "OX", Hosts: withoutMX(baseZone())})
	before := zoneKeys(w.srv.Hosts("example.com"))
	const rounds = 15
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(),
		envHelper+"=1", envHelpURL+"="+w.srv.URL(), envHelpUser+"="+w.srv.APIUser(), envHelpKey+"="+w.srv.APIKey(),
		envHelpLock+"="+lockDir, envHelpSys+"="+sysLockDir, envHelpName+"=child", envHelpN+"="+strconv.Itoa(rounds))
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	perr := presentRounds(context.Background(), w.p, "parent", rounds)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child process: %v\n%s", err, out.String())
	}
	if perr != nil {
		t.Fatal(perr)
	}
	hosts := w.srv.Hosts("example.com")
	checkRounds(t, hosts, "parent", rounds)
	checkRounds(t, hosts, "child", rounds)
	if n := w.srv.Calls("setHosts"); n != 2*rounds {
		t.Errorf("setHosts calls = %d, want %d (a lost update was redone)", n, 2*rounds)
	}
	if w.srv.EmailType("example.com") != "OX" {
		t.Error("EmailType changed")
	}
	// Clean up every value both processes wrote, in one batch.
	var recs []libdns.Record
	for _, who := range []string{"parent", "child"} {
		for i := range rounds {
			recs = append(recs, txt("_acme-challenge", fmt.Sprintf("%s-apex-%d", who, i)), txt("_acme-challenge."+who, fmt.Sprintf("%s-own-%d", who, i)))
		}
	}
	if _, err := w.p.DeleteRecords(context.Background(), "example.com.", recs); err != nil {
		t.Fatal(err)
	}
	if !sameKeys(before, zoneKeys(w.srv.Hosts("example.com"))) {
		t.Fatal("zone not restored")
	}
}

// TestLostUpdateIsDetectedAndRedone: another machine (no shared lock)
// writes the zone from a stale read right after our setHosts; the
// verifying getHosts sees our record gone and the cycle is redone.
func TestLostUpdateIsDetectedAndRedone(t *testing.T) {
	w := newWorld(t, namecheaptest.Options{}, nil)
	w.srv.AddZone("example.com", namecheaptest.ZoneOptions{Hosts: baseZone()})
	stale := w.srv.Hosts("example.com")
	clobbers := 1
	w.srv.OnCall(func(cmd string) {
		if cmd == namecheaptest.SetHosts && clobbers > 0 {
			clobbers--
			w.srv.SetZoneHosts("example.com", append(stale, namecheaptest.Host{Name: "other", Type: "TXT", Address: "theirs", TTL: "300"}))
		}
	})
	if _, err := w.p.AppendRecords(context.Background(), "example.com.", []libdns.Record{txt("_acme-challenge", "ours")}); err != nil {
		t.Fatal(err)
	}
	hosts := w.srv.Hosts("example.com")
	if hasTXT(hosts, "_acme-challenge", "ours") != 1 || hasTXT(hosts, "other", "theirs") != 1 {
		t.Fatalf("after redo: %+v", hosts)
	}
	if n := w.srv.Calls("setHosts"); n != 2 {
		t.Errorf("setHosts calls = %d, want 2", n)
	}
}

func TestLostUpdateGivesUpAfterMaxCycles(t *testing.T) {
	w := newWorld(t, namecheaptest.Options{}, func(c *Config) { c.MaxCycles = 3 })
	w.srv.AddZone("example.com", namecheaptest.ZoneOptions{Hosts: baseZone()})
	stale := w.srv.Hosts("example.com")
	w.srv.OnCall(func(cmd string) {
		if cmd == namecheaptest.SetHosts {
			w.srv.SetZoneHosts("example.com", stale)
		}
	})
	_, err := w.p.AppendRecords(context.Background(), "example.com.", []libdns.Record{txt("_acme-challenge", "ours")})
	lu, ok := errorsAs[*LostUpdateError](err)
	if !ok || lu.Cycles != 3 || w.srv.Calls("setHosts") != 3 {
		t.Fatalf("err = %v, setHosts = %d", err, w.srv.Calls("setHosts"))
	}
}
