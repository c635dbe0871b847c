package main

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"github.com/strictacme/strictacme/internal/cliflag"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/mholt/acmez/v3/acme"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/strictacme/strictacme/internal/migrate/migratetest"
)

// TestImportScripts runs testdata/import/*.txtar: lego and certbot trees,
// written by the tests in those tools' layouts from certificates the test
// CA issued, imported and renewed. Besides the commands of
// TestRenewScripts:
//
//	maketree lego4|lego5|certbot STATE DIR [FILE]
//	                       write the account and certificates of the
//	                       strictacme store STATE as that tool's tree in DIR;
//	                       FILE: lego5's .lego.bck.yaml, certbot's
//	                       [renewalparams] lines
//	careplaces CERT        the test CA received a new order whose "replaces"
//	                       is the ARI identifier of the PEM certificate CERT
//	snapshot DIR VAR       set VAR to a digest of every name, mode, time,
//	                       link and byte under DIR (a missing DIR has one too)
//	unchanged DIR VAR      DIR's digest is still VAR's
func TestImportScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/import",
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
			"exitcode":   cmdExitcode,
			"maketree":   cmdMakeTree,
			"careplaces": cmdCAReplaces,
			"snapshot":   cmdSnapshot,
			"unchanged":  cmdUnchanged,
		},
	})
}

func cmdMakeTree(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 3 {
		ts.Fatalf("usage: maketree lego4|lego5|certbot STATE DIR [FILE]")
	}
	tree, err := migratetest.FromStore(ts.MkAbs(args[1]))
	ts.Check(err)
	extra := ""
	if len(args) > 3 {
		extra = ts.ReadFile(args[3])
	}
	dir := ts.MkAbs(args[2])
	switch args[0] {
	case "lego4":
		ts.Check(migratetest.WriteLego(dir, 4, tree, ""))
	case "lego5":
		ts.Check(migratetest.WriteLego(dir, 5, tree, extra))
	case "certbot":
		ts.Check(migratetest.WriteCertbot(dir, tree, extra))
	default:
		ts.Fatalf("maketree: unknown tool %q", args[0])
	}
}

func cmdCAReplaces(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: careplaces CERT")
	}
	block, _ := pem.Decode([]byte(ts.ReadFile(args[0])))
	if block == nil {
		ts.Fatalf("careplaces: no PEM in %s", args[0])
	}
	leaf, err := x509.ParseCertificate(block.Bytes)
	ts.Check(err)
	id, err := acme.ARIUniqueIdentifier(leaf)
	ts.Check(err)
	got := boxOf(ts).world(ts).CA.Replaces()
	if slices.Contains(got, id) == neg {
		ts.Fatalf("new orders at the CA replaced %q, want %s (negated: %v)", got, id, neg)
	}
}

func cmdSnapshot(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: snapshot DIR VAR")
	}
	ts.Setenv(args[1], treeDigest(ts, args[0]))
}

func cmdUnchanged(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: unchanged DIR VAR")
	}
	if same := treeDigest(ts, args[0]) == ts.Getenv(args[1]); same == neg {
		ts.Fatalf("%s changed since snapshot %s (negated: %v)", args[0], args[1], neg)
	}
}

func treeDigest(ts *testscript.TestScript, dir string) string {
	h := sha256.New()
	root := ts.MkAbs(dir)
	if _, err := os.Lstat(root); err != nil {
		return "missing"
	}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		h.Write([]byte(p + "\x00" + strconv.FormatUint(uint64(info.Mode()), 8) + "\x00" + info.ModTime().String() + "\x00"))
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			t, _ := os.Readlink(p)
			h.Write([]byte(t))
		case info.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			h.Write(b)
		}
		return nil
	})
	ts.Check(err)
	return hex.EncodeToString(h.Sum(nil))
}
