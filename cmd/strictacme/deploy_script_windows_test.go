package main

import "github.com/rogpeppe/go-internal/testscript"

func cmdUserGroup(ts *testscript.TestScript, neg bool, args []string) {
	ts.Fatalf("usergroup: no Unix groups on Windows")
}

func cmdFileMode(ts *testscript.TestScript, neg bool, args []string) {
	ts.Fatalf("filemode: no Unix file modes on Windows")
}
