// Package version says which build of strictacme is running: the version
// printed by --version and sent in the User-Agent of every request to a CA
// (RFC 8555 §6.1) and to a DNS provider's API.
//
// The answer comes from the module build info (runtime/debug.ReadBuildInfo):
// the module version when installed with `go install …@v1.2.3`, or the
// version and VCS stamp (revision, commit time, modified) the go command
// records when building from a clone (the tag itself on a clean tagged
// commit, a pseudo-version otherwise). A version set at link time
// (cmd/strictacme's -ldflags "-X main.version=…", which the release build
// uses) replaces the module version. When the provider packages are used as
// a library by another program, the version is that of the strictacme
// module the program depends on.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"time"
)

// Name is the product name in the User-Agent.
const Name = "strictacme"

// Module is strictacme's module path, looked up among a program's
// dependencies when strictacme is not the main module.
const Module = "github.com/strictacme/strictacme"

// override is the link-time version given to Set.
var override string

// Set replaces the version read from the build info with v ("1.2.3" and
// "v1.2.3" both give "v1.2.3"); an empty v changes nothing. It is meant to
// be called once, from an init function, before any request is made; it is
// not safe to call concurrently with Get.
func Set(v string) { override = v }

// Info describes one build.
type Info struct {
	// Version is a module version ("v1.2.3", a pseudo-version such as
	// "v0.0.0-20261202211500-7dddbce1a2b3+dirty"), or "dev" when the build
	// carries none (go run, go test, a build outside a clone).
	Version string
	// Revision is the VCS commit the binary was built from; empty if unknown.
	Revision string
	// Time is the commit time of Revision; zero if unknown.
	Time time.Time
	// Modified reports uncommitted changes in the tree at build time.
	Modified bool
	// GoVersion is the toolchain that built the binary ("go1.26.8").
	GoVersion string
}

// Get describes the running binary.
func Get() Info {
	bi, _ := debug.ReadBuildInfo()
	return FromBuildInfo(bi, override)
}

// UserAgent is the product token strictacme sends as User-Agent:
// "strictacme/v1.2.3".
func UserAgent() string { return Get().UserAgent() }

// FromBuildInfo derives an Info from bi (nil: no build info) and a
// link-time version (empty: none).
func FromBuildInfo(bi *debug.BuildInfo, linkVersion string) Info {
	info := Info{Version: "dev", GoVersion: runtime.Version()}
	if bi == nil {
		bi = &debug.BuildInfo{}
	}
	if bi.GoVersion != "" {
		info.GoVersion = bi.GoVersion
	}
	mod := &bi.Main
	if mod.Path != Module && mod.Path != "" {
		// A program using the provider packages: its own VCS stamp is not
		// strictacme's.
		mod = nil
		for _, d := range bi.Deps {
			if d.Path == Module {
				mod = d
				if d.Replace != nil {
					mod = d.Replace
				}
			}
		}
	}
	if mod == nil {
		return withLinkVersion(info, linkVersion)
	}
	if mod.Version != "" && mod.Version != "(devel)" {
		info.Version = mod.Version
	}
	if mod == &bi.Main {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				info.Revision = s.Value
			case "vcs.time":
				info.Time, _ = time.Parse(time.RFC3339, s.Value)
			case "vcs.modified":
				info.Modified = s.Value == "true"
			}
		}
	}
	return withLinkVersion(info, linkVersion)
}

func withLinkVersion(info Info, linkVersion string) Info {
	if v := strings.TrimSpace(linkVersion); v != "" {
		if v[0] >= '0' && v[0] <= '9' {
			v = "v" + v // goreleaser's {{.Version}} drops the tag's "v"
		}
		info.Version = v
	}
	return info
}

// UserAgent is the product token for this build: "strictacme/v1.2.3".
func (i Info) UserAgent() string { return Name + "/" + i.Version }

// String is what --version prints after "strictacme version": the version,
// then the VCS stamp and toolchain when known, e.g.
// "v1.2.3 (commit 7dddbce1a2b3, 2026-12-02T21:15:00Z; go1.26.8 linux/amd64)".
func (i Info) String() string {
	var stamp []string
	if i.Revision != "" {
		rev := i.Revision
		if len(rev) > 12 {
			rev = rev[:12]
		}
		c := "commit " + rev
		if i.Modified {
			c += " with uncommitted changes"
		}
		stamp = append(stamp, c)
	}
	if !i.Time.IsZero() {
		stamp = append(stamp, i.Time.UTC().Format(time.RFC3339))
	}
	toolchain := fmt.Sprintf("%s %s/%s", i.GoVersion, runtime.GOOS, runtime.GOARCH)
	if len(stamp) == 0 {
		return fmt.Sprintf("%s (%s)", i.Version, toolchain)
	}
	return fmt.Sprintf("%s (%s; %s)", i.Version, strings.Join(stamp, ", "), toolchain)
}
