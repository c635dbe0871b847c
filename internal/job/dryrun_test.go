package job

import (
	"strings"
	"testing"

	"github.com/strictacme/strictacme/internal/plan"
)

// A dry run orders from the configured CA's staging CA when it has one,
// and then without the configured external account binding (an EAB key
// belongs to one CA's accounts); a CA without a staging CA keeps its EAB.
// The log line names the CA used and the one configured.
func TestDryRunOrdersFromTheStagingCAAndSendsEABOnlyToTheConfiguredCA(t *testing.T) {
	tests := []struct {
		name, server, wantDir, wantLine string
		staging, keepsEAB               bool
	}{
		{"Let's Encrypt: its staging CA, no EAB", "letsencrypt", plan.CAPresets["letsencrypt-staging"], "dry run against letsencrypt-staging (https://acme-staging-v02.api.letsencrypt.org/directory), the staging CA of letsencrypt;", true, false},
		{"Google: its staging CA, no EAB", "google", plan.CAPresets["google-staging"], "dry run against google-staging (" + plan.CAPresets["google-staging"] + "), the staging CA of google;", true, false},
		{"Google's staging CA itself: its EAB", "google-staging", plan.CAPresets["google-staging"], "dry run against google-staging (" + plan.CAPresets["google-staging"] + "), the configured CA, itself a staging CA;", false, true},
		{"ZeroSSL has no staging CA: itself, with its EAB", "zerossl", plan.CAPresets["zerossl"], "dry run against zerossl (" + plan.CAPresets["zerossl"] + "), the configured CA", false, true},
		{"a directory URL: itself, with its EAB", "https://ca.example/directory", "https://ca.example/directory", "dry run against ca.example (https://ca.example/directory), the configured CA", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := persistOnly("web.example")
			s.Server, s.EABKeyID = tt.server, "kid-1"
			j, err := New(s, Options{Path: t.TempDir(), EABKey: "aG1hYy1rZXk"})
			if err != nil {
				t.Fatal(err)
			}
			configured := j.Directory
			if j.EAB == nil {
				t.Fatal("the configured EAB was not built")
			}
			j.SetDryRun()
			if j.Directory != tt.wantDir || j.DryRun.Directory != tt.wantDir || j.DryRun.Configured != configured || j.DryRun.Staging != tt.staging {
				t.Fatalf("dry run of %s: directory %s, %+v; want %s, staging %v", tt.server, j.Directory, j.DryRun, tt.wantDir, tt.staging)
			}
			if (j.EAB != nil) != tt.keepsEAB {
				t.Errorf("EAB kept: %v, want %v", j.EAB != nil, tt.keepsEAB)
			}
			line := DryRunLine(j.DryRun)
			if !strings.HasPrefix(line, tt.wantLine) {
				t.Errorf("log line %q, want it to start %q", line, tt.wantLine)
			}
			// The EAB key is left out only for a staging CA, and the line
			// says so.
			if says := strings.Contains(line, "the EAB key (--eab-kid) is not sent to "+j.DryRun.CA); says == tt.keepsEAB || j.DryRun.EABNotSent == tt.keepsEAB {
				t.Errorf("log line %q, EABNotSent %v; want the EAB key named as not sent: %v", line, j.DryRun.EABNotSent, !tt.keepsEAB)
			}
			j.SetDryRun() // twice is once: the staging CA is not mapped again
			if j.DryRun.Configured != configured {
				t.Errorf("second SetDryRun: configured %s, want %s", j.DryRun.Configured, configured)
			}
		})
	}
}
