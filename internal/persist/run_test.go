package persist

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/resolver"
	"github.com/strictacme/strictacme/internal/testworld"
)

// One run from the issuer domain name to the check, in the situations an
// operator meets: printing only, publishing then checking, checking before
// publishing, and a persistUntil already past.
func TestRunFromIssuerToCheck(t *testing.T) {
	tw := newWorld(t, testworld.Options{CAAIdentities: []string{"authority.example"}})
	tests := []struct {
		name     string
		opts     RunOptions
		code     int
		wantLog  string // a line Run logs
		zone     bool   // zone lines are filled
		applied  int
		checksOK bool
	}{
		{name: "print only: issuer from the directory", opts: RunOptions{Identifiers: ids(t, "print.example.com"), Source: SourceAuto},
			wantLog: "issuer domain name: authority.example (from the CA directory's caaIdentities: authority.example)", zone: true},
		{name: "publish then check", opts: RunOptions{Identifiers: ids(t, "pub.example.com", "*.pub.example.com"), Issuer: "Authority.Example.",
			Apply: tw.set, Check: true, Resolvers: []resolver.Resolver{tw.doh}},
			wantLog: "created _validation-persist.pub.example.com. in zone example.com via world (kept; never cleaned up)", zone: true, applied: 1, checksOK: true},
		{name: "check before publishing", opts: RunOptions{Identifiers: ids(t, "absent.example.com"), Issuer: "authority.example",
			Check: true, Resolvers: []resolver.Resolver{tw.doh}},
			code: exitcode.Missing, wantLog: "issuer domain name: authority.example (from --issuer)", zone: true},
		{name: "persistUntil already past", opts: RunOptions{Identifiers: ids(t, "old.example.com"), Issuer: "authority.example",
			Options: Options{PersistUntil: now.Add(-time.Hour)}, Now: now},
			code: exitcode.Usage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log []string
			o := tt.opts
			o.Client, o.Account, o.TTL = tw.client, tw.acct, time.Minute
			o.Log = func(l string) { log = append(log, l) }
			var out Outcome
			err := Run(context.Background(), o, &out)
			if exitcode.Of(err) != tt.code {
				t.Fatalf("exit code %d (%v), want %d", exitcode.Of(err), err, tt.code)
			}
			if tt.wantLog != "" && !strings.Contains(strings.Join(log, "\n"), tt.wantLog) {
				t.Errorf("log %q lacks %q", log, tt.wantLog)
			}
			if out.Issuers == nil || out.Issuers.Names[0] != "authority.example" {
				t.Errorf("issuers %+v", out.Issuers)
			}
			if (len(out.Zone) > 0) != tt.zone || len(out.Zone) != len(out.Records) {
				t.Errorf("zone lines %q for %d records", out.Zone, len(out.Records))
			}
			for _, z := range out.Zone {
				if !strings.Contains(z, " 60 IN TXT ") || !strings.Contains(z, "accounturi="+tw.acct.Location) {
					t.Errorf("zone line %q", z)
				}
			}
			if len(out.Applied) != tt.applied {
				t.Errorf("applied %+v", out.Applied)
			}
			if o.Check && (len(out.Checks) != 1 || out.Checks[0].OK != tt.checksOK) {
				t.Errorf("checks %+v", out.Checks)
			}
		})
	}
}
