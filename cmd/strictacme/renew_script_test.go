package main

import (
	"errors"
	"github.com/strictacme/strictacme/internal/cliflag"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/strictacme/strictacme/internal/testworld"
)

// worldBox holds the test world of one script; the world runs in the test
// process, the strictacme commands run as subprocesses against it.
type worldBox struct {
	mu sync.Mutex
	w  *testworld.World
}

func boxOf(ts *testscript.TestScript) *worldBox { return ts.Value("world").(*worldBox) }

func (b *worldBox) world(ts *testscript.TestScript) *testworld.World {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.w == nil {
		ts.Fatalf("no test world; start one with: testworld")
	}
	return b.w
}

// TestRenewScripts runs testdata/renew/*.txtar: renewal, hooks, list,
// revoke, account and CA behaviour against an in-process test world. Extra
// script commands:
//
//	testworld [eab KID KEY]      start a world; sets $DIRECTORY $CACERT $DOH
//	                             $TESTAPI_URL $TESTAPI_TOKEN and the STRICTACME_*
//	                             variables that point issue/renew at it
//	cafault KIND PATH COUNT [RETRY_AFTER [date]]
//	                             KIND: ratelimited, internal, badnonce
//	careset                      zero the CA request counters
//	carequests PREFIX N          exactly N CA requests under PREFIX ("all" = any)
//	txtleft N                    N _acme-challenge TXT records in the world's zones
//	usergroup VAR                set VAR to a group of the current user
//	filemode PATH MODE [GROUP]   PATH has octal MODE (and group GROUP)
//	treehash DIR FILE            write a listing of DIR (paths, modes, content
//	                             hashes; "absent") to FILE for cmp
//	jsonhas PATH...              stdout is one JSON document with a value at
//	                             each dotted PATH
//	exitcode N cmd args...       run cmd and require exit status N
//	gencsr [-der] [-rsa] [-cn NAME] [-ip ADDR] [-badsig] OUT [DNSNAME...]
//	                             write a CSR to OUT and its key to OUT.key
//	samekey CERT REQ             CERT certifies the public key of CSR REQ
//	careplaces CERT              a new order "replaces" CERT (TestImportScripts)
func TestRenewScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/renew",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			for _, kv := range os.Environ() {
				if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, cliflag.Prefix) {
					env.Setenv(k, "")
				}
			}
			env.Setenv("HOME", env.WorkDir)
			env.Values["world"] = &worldBox{}
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"testworld":  cmdTestworld,
			"cafault":    cmdCAFault,
			"careset":    func(ts *testscript.TestScript, _ bool, _ []string) { boxOf(ts).world(ts).CA.ResetRequests() },
			"carequests": cmdCARequests,
			"txtleft":    cmdTXTLeft,
			"exitcode":   cmdExitcode,
			"usergroup":  cmdUserGroup,
			"filemode":   cmdFileMode,
			"treehash":   cmdTreeHash,
			"jsonhas":    cmdJSONHas,
			"gencsr":     cmdGenCSR,
			"samekey":    cmdSameKey,
			"careplaces": cmdCAReplaces,
		},
	})
}

func cmdTestworld(ts *testscript.TestScript, neg bool, args []string) {
	var opts testworld.Options
	if len(args) == 3 && args[0] == "eab" {
		opts.EABKeys = map[string]string{args[1]: args[2]}
	} else if len(args) != 0 {
		ts.Fatalf("usage: testworld [eab KID KEY]")
	}
	w, err := testworld.New(opts)
	if err != nil {
		ts.Fatalf("testworld: %v", err)
	}
	ts.Defer(func() { _ = w.Close() })
	b := boxOf(ts)
	b.mu.Lock()
	b.w = w
	b.mu.Unlock()
	for k, v := range map[string]string{
		"DIRECTORY": w.DirectoryURL, "CACERT": w.TLSRootFile, "DOH": w.DoHURL,
		"TESTAPI_URL": w.APIURL, "TESTAPI_TOKEN": w.APIToken,
		// issue and renew point at the world through their environment.
		"STRICTACME_SERVER": w.DirectoryURL, "STRICTACME_CA_CERT": w.TLSRootFile,
		"STRICTACME_DNS": "testapi", "STRICTACME_PROPAGATION": "none",
		"STRICTACME_ACCEPT_TOS": "true", "STRICTACME_POLL_INTERVAL": "50ms",
		"STRICTACME_PATH": ts.MkAbs("state"),
	} {
		ts.Setenv(k, v)
	}
}

func cmdCAFault(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 3 {
		ts.Fatalf("usage: cafault KIND PATH COUNT [RETRY_AFTER [date]]")
	}
	kinds := map[string]testworld.FaultKind{"ratelimited": testworld.FaultRateLimited, "internal": testworld.FaultServerInternal, "badnonce": testworld.FaultBadNonce, "gone": testworld.FaultGone}
	k, ok := kinds[args[0]]
	if !ok {
		ts.Fatalf("cafault: unknown kind %q", args[0])
	}
	n, err := strconv.Atoi(args[2])
	ts.Check(err)
	f := testworld.Fault{Kind: k, Path: args[1], Count: n}
	if len(args) > 3 {
		f.RetryAfter, err = time.ParseDuration(args[3])
		ts.Check(err)
	}
	f.RetryAfterDate = len(args) > 4 && args[4] == "date"
	boxOf(ts).world(ts).CA.Inject(f)
}

func cmdCARequests(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: carequests PREFIX N")
	}
	prefix := args[0]
	if prefix == "all" {
		prefix = ""
	}
	want, err := strconv.Atoi(args[1])
	ts.Check(err)
	got := boxOf(ts).world(ts).CA.Requests(prefix)
	if (got == want) == neg {
		ts.Fatalf("%d CA requests under %q, want %d", got, args[0], want)
	}
}

func cmdTXTLeft(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: txtleft N")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	if got := challengeTXT(boxOf(ts).world(ts)); (got == want) == neg {
		ts.Fatalf("%d challenge TXT records in the zones, want %d", got, want)
	}
}

// challengeTXT counts the _acme-challenge TXT records in the world's zones.
func challengeTXT(w *testworld.World) int {
	n := 0
	for _, z := range testworld.DefaultZones {
		rrs, _ := w.DNS.Records(z)
		for _, rr := range rrs {
			if rr.Header().Rrtype == dns.TypeTXT && strings.HasPrefix(rr.Header().Name, "_acme-challenge.") {
				n++
			}
		}
	}
	return n
}

func cmdExitcode(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: exitcode N command [args...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		got = ee.ExitCode()
	} else if err != nil {
		ts.Fatalf("exitcode: %v", err)
	}
	if (got == want) == neg {
		ts.Fatalf("exit status %d, want %d", got, want)
	}
}
