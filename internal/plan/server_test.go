package plan

import "testing"

func TestCANameShortensDirectoryURLs(t *testing.T) {
	tests := []struct{ name, dir, want string }{
		{"a preset's URL is the preset's name", CAPresets["letsencrypt-staging"], "letsencrypt-staging"},
		{"another CA is its host", "https://ca.example:14000/dir", "ca.example:14000"},
		{"something that is no URL stays as it is", "not a url", "not a url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CAName(tt.dir); got != tt.want {
				t.Errorf("CAName(%q) = %q, want %q", tt.dir, got, tt.want)
			}
		})
	}
}
