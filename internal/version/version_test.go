package version

import (
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

func vcs(rev, at, modified string) []debug.BuildSetting {
	return []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.time", Value: at}, {Key: "vcs.modified", Value: modified}}
}

const rev = "7dddbce1a2b3c4d5e6f708192a3b4c5d6e7f8091"

func TestFromBuildInfo(t *testing.T) {
	at := time.Date(2026, 12, 2, 21, 15, 0, 0, time.UTC)
	tests := []struct {
		name        string
		bi          *debug.BuildInfo
		link        string
		want        Info
		wantStrings []string // substrings of String()
	}{
		{
			name: "go install at a tag",
			bi:   &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: Module, Version: "v1.2.3"}},
			want: Info{Version: "v1.2.3", GoVersion: "go1.26.8"},
			// No VCS stamp: go install from the module proxy has none.
			wantStrings: []string{"v1.2.3 (go1.26.8 "},
		},
		{
			name:        "build in a clone on a clean tagged commit",
			bi:          &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: Module, Version: "v1.2.3"}, Settings: vcs(rev, "2026-12-02T21:15:00Z", "false")},
			want:        Info{Version: "v1.2.3", Revision: rev, Time: at, GoVersion: "go1.26.8"},
			wantStrings: []string{"v1.2.3 (commit 7dddbce1a2b3, 2026-12-02T21:15:00Z; go1.26.8 "},
		},
		{
			name:        "build in a clone with uncommitted changes",
			bi:          &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: Module, Version: "v1.2.4-0.20261202211500-7dddbce1a2b3+dirty"}, Settings: vcs(rev, "2026-12-02T21:15:00Z", "true")},
			want:        Info{Version: "v1.2.4-0.20261202211500-7dddbce1a2b3+dirty", Revision: rev, Time: at, Modified: true, GoVersion: "go1.26.8"},
			wantStrings: []string{"commit 7dddbce1a2b3 with uncommitted changes"},
		},
		{
			name:        "go run or go test: no version, maybe a stamp",
			bi:          &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: Module, Version: "(devel)"}, Settings: vcs(rev, "2026-12-02T21:15:00Z", "false")},
			want:        Info{Version: "dev", Revision: rev, Time: at, GoVersion: "go1.26.8"},
			wantStrings: []string{"dev (commit 7dddbce1a2b3"},
		},
		{
			name: "link-time version as goreleaser sets it (no v)",
			bi:   &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: Module, Version: "(devel)"}, Settings: vcs(rev, "2026-12-02T21:15:00Z", "false")},
			link: "1.2.3",
			want: Info{Version: "v1.2.3", Revision: rev, Time: at, GoVersion: "go1.26.8"},
		},
		{
			name: "link-time version wins over the module version",
			bi:   &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: Module, Version: "v1.2.3"}},
			link: "v1.3.0-rc.1",
			want: Info{Version: "v1.3.0-rc.1", GoVersion: "go1.26.8"},
		},
		{
			name: "provider packages inside another program",
			bi: &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "example.com/caddy-build", Version: "v2.0.0"}, Settings: vcs(rev, "2026-12-02T21:15:00Z", "true"),
				Deps: []*debug.Module{{Path: "github.com/libdns/libdns", Version: "v1.1.1"}, {Path: Module, Version: "v1.4.0"}}},
			want: Info{Version: "v1.4.0", GoVersion: "go1.26.8"},
		},
		{
			name: "replaced dependency",
			bi: &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "example.com/caddy-build"},
				Deps: []*debug.Module{{Path: Module, Version: "v1.4.0", Replace: &debug.Module{Path: "example.com/fork", Version: "v1.4.1-fork"}}}},
			want: Info{Version: "v1.4.1-fork", GoVersion: "go1.26.8"},
		},
		{
			name: "another program without strictacme",
			bi:   &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "example.com/other", Version: "v2.0.0"}},
			want: Info{Version: "dev", GoVersion: "go1.26.8"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FromBuildInfo(tt.bi, tt.link)
			if got != tt.want {
				t.Fatalf("FromBuildInfo = %+v\nwant %+v", got, tt.want)
			}
			if ua := got.UserAgent(); ua != "strictacme/"+tt.want.Version {
				t.Errorf("UserAgent = %q", ua)
			}
			for _, s := range tt.wantStrings {
				if !strings.Contains(got.String(), s) {
					t.Errorf("String() = %q, want it to contain %q", got.String(), s)
				}
			}
		})
	}
}

func TestNoBuildInfo(t *testing.T) {
	got := FromBuildInfo(nil, "")
	if got.Version != "dev" || got.GoVersion == "" || got.UserAgent() != "strictacme/dev" {
		t.Fatalf("%+v", got)
	}
}

func TestSetReplacesTheRunningVersion(t *testing.T) {
	t.Cleanup(func() { Set("") })
	Set("2.0.1")
	if got := Get().Version; got != "v2.0.1" {
		t.Fatalf("Get().Version = %q after Set", got)
	}
	if got := UserAgent(); got != "strictacme/v2.0.1" {
		t.Fatalf("UserAgent() = %q after Set", got)
	}
}
