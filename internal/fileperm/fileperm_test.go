package fileperm

import (
	"io/fs"
	"testing"
)

// TestExposedPerOS pins when a secret file counts as readable by others:
// by its group or other bits on Unix, never on Windows, where Go reports
// 0666 or 0444 for every file whatever its ACL allows.
func TestExposedPerOS(t *testing.T) {
	tests := []struct {
		name string
		goos string
		mode fs.FileMode
		want bool
	}{
		{"linux owner only", "linux", 0o600, false},
		{"linux owner read-only", "linux", 0o400, false},
		{"linux group readable", "linux", 0o640, true},
		{"linux world readable", "linux", 0o644, true},
		{"linux others may only run it", "linux", 0o601, true},
		{"darwin owner only", "darwin", 0o600, false},
		{"darwin world readable", "darwin", 0o666, true},
		{"windows writable file (reported 0666)", "windows", 0o666, false},
		{"windows read-only file (reported 0444)", "windows", 0o444, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := exposed(tt.goos, tt.mode); got != tt.want {
				t.Errorf("exposed(%s, %v) = %t, want %t", tt.goos, tt.mode, got, tt.want)
			}
		})
	}
}
