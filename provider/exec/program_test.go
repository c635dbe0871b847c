package exec

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
)

// TestCheckProgramPerOS pins what "cannot be started" says on each system:
// on Unix a file without an execute bit gets chmod +x; on Windows, where
// mode bits mean nothing and what runs is decided by the extension
// (PATHEXT), a backslash path is a path, not a name to look up in PATH, and
// a script Windows cannot start gets the PATHEXT hint instead.
func TestCheckProgramPerOS(t *testing.T) {
	files := fstest.MapFS{
		"scripts/dns-hook.sh":  {Mode: 0o644},
		"scripts/dns-hook.ps1": {Mode: 0o666},
		"scripts/dns-hook.cmd": {Mode: 0o666},
		"scripts":              {Mode: fs.ModeDir | 0o755},
	}
	// stat and lookPath stand in for the system: lookPath finds only what
	// runnable says is a program there.
	stat := func(p string) (fs.FileInfo, error) {
		p = strings.TrimPrefix(strings.ReplaceAll(p, `\`, "/"), "C:/")
		return fs.Stat(files, strings.TrimPrefix(p, "/"))
	}
	tests := []struct {
		name     string
		goos     string
		program  string
		runnable bool
		want     string // "" is no error
	}{
		{"unix program found", "linux", "/scripts/dns-hook.sh", true, ""},
		{"unix name not in PATH", "linux", "dns-hook.sh", false, "not found in $PATH; give its path, e.g. ./dns-hook.sh"},
		{"unix file without execute bit", "linux", "/scripts/dns-hook.sh", false, "not executable; chmod +x it"},
		{"unix missing file", "darwin", "/scripts/nope.sh", false, "no such file"},
		{"unix directory", "linux", "/scripts", false, "is a directory"},
		{"windows .cmd found", "windows", `C:\scripts\dns-hook.cmd`, true, ""},
		{"windows name not in PATH", "windows", "dns-hook.cmd", false, `not found in %PATH%; give its path, e.g. .\dns-hook.cmd`},
		{"windows backslash path is a path", "windows", `C:\scripts\nope.cmd`, false, "no such file"},
		{"windows script it cannot start", "windows", `C:\scripts\dns-hook.ps1`, false, "not a program Windows starts: its extension is not in PATHEXT"},
		{"windows directory", "windows", `C:\scripts`, false, "is a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lookPath := func(p string) (string, error) {
				if tt.runnable {
					return p, nil
				}
				return "", errors.New("executable file not found")
			}
			err := checkProgram(tt.goos, tt.program, lookPath, stat)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("err = %v, want none", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}
