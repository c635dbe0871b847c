package main

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"strictacme": func() { os.Exit(run(os.Args[1:])) },
	})
}

// TestScript runs the CLI the way a user meets it: testdata/script/*.txtar.
func TestScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			// testscript passes only a minimal environment (no STRICTACME_*
			// of the developer's); HOME points into the work directory.
			env.Setenv("HOME", env.WorkDir)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// exitcode N prog args...: run prog and require exit status N.
			"exitcode": cmdExitcode,
		},
	})
}
