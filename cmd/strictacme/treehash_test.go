package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
)

// cmdTreeHash is the script command "treehash DIR FILE": it writes to FILE
// one line per entry of the tree DIR (itself included): its path, type
// and permission bits, and the SHA-256 of a file's content or a link's
// target; "absent" when DIR does not exist. Two listings are equal
// exactly when the trees are byte-identical, modes included; cmp shows
// what differs.
func cmdTreeHash(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: treehash DIR FILE")
	}
	list, err := treeListing(ts.MkAbs(args[0]))
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(list), 0o600))
}

func treeListing(root string) (string, error) {
	if _, err := os.Lstat(root); errors.Is(err, fs.ErrNotExist) {
		return "absent\n", nil
	}
	var b strings.Builder
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		var sum [32]byte
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			sum = sha256.Sum256([]byte(target))
		case d.Type().IsRegular():
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			sum = sha256.Sum256(data)
		}
		fmt.Fprintf(&b, "%s %s %s\n", filepath.ToSlash(rel), info.Mode(), hex.EncodeToString(sum[:]))
		return nil
	})
	return b.String(), err
}

// cmdJSONHas is the script command "jsonhas PATH...": stdout is exactly
// one JSON document (one object, nothing after it) and has a non-empty
// value at every dotted PATH ("dry_run.ca", "certificates.0.dry_run.ca").
func cmdJSONHas(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: jsonhas PATH...")
	}
	out := ts.ReadFile("stdout")
	dec := json.NewDecoder(strings.NewReader(out))
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		ts.Fatalf("stdout is not one JSON object: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		ts.Fatalf("stdout holds more than one JSON document")
	}
	for _, path := range args {
		var v any = doc
		for _, k := range strings.Split(path, ".") {
			switch c := v.(type) {
			case map[string]any:
				v = c[k]
			case []any:
				i, err := strconv.Atoi(k)
				if err != nil || i >= len(c) {
					ts.Fatalf("%s: no element %s", path, k)
				}
				v = c[i]
			default:
				v = nil
			}
		}
		if v == nil || v == "" {
			ts.Fatalf("stdout has no %s", path)
		}
	}
}
