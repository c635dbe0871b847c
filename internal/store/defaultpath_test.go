package store

import (
	"errors"
	"path/filepath"
	"testing"
)

// TestDefaultPathPerOS pins the state directory used without --path: root
// under /var/lib, other users under the XDG state directory or their home,
// and on Windows %LOCALAPPDATA% for every account (there is no root, and
// %ProgramData% would leave keys readable by every local user).
func TestDefaultPathPerOS(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	home := func() (string, error) { return "/home/ops", nil }
	noHome := func() (string, error) { return "", errors.New("$HOME is not defined") }
	tests := []struct {
		name string
		goos string
		euid int
		env  map[string]string
		home func() (string, error)
		want string
	}{
		{"linux root", "linux", 0, map[string]string{"XDG_STATE_HOME": "/srv/state"}, home, "/var/lib/strictacme"},
		{"linux user with XDG_STATE_HOME", "linux", 1000, map[string]string{"XDG_STATE_HOME": "/srv/state"}, home, filepath.Join("/srv/state", "strictacme")},
		{"linux user", "linux", 1000, nil, home, filepath.Join("/home/ops", ".local", "state", "strictacme")},
		{"linux user without a home", "linux", 1000, nil, noHome, "strictacme-state"},
		{"darwin user", "darwin", 501, nil, home, filepath.Join("/home/ops", ".local", "state", "strictacme")},
		{"windows account", "windows", -1, map[string]string{"LOCALAPPDATA": `C:\Users\ops\AppData\Local`, "XDG_STATE_HOME": "/srv/state"}, home,
			filepath.Join(`C:\Users\ops\AppData\Local`, "strictacme")},
		{"windows LocalSystem", "windows", -1, map[string]string{"LOCALAPPDATA": `C:\Windows\system32\config\systemprofile\AppData\Local`}, home,
			filepath.Join(`C:\Windows\system32\config\systemprofile\AppData\Local`, "strictacme")},
		{"windows without LOCALAPPDATA", "windows", -1, nil, home, "strictacme-state"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := defaultPath(tt.goos, tt.euid, env(tt.env), tt.home); got != tt.want {
				t.Errorf("defaultPath = %s, want %s", got, tt.want)
			}
		})
	}
}
