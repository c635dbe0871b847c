package plan

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/strictacme/strictacme/internal/propagation"
)

// A job moving from lego keeps its timing variables: those that map to
// ours are used, the others are named in a warning, a bad value is a
// usage error naming the variable.
func TestLegoTimingVariables(t *testing.T) {
	for _, tc := range []struct {
		name, dns, strategy string
		timeoutSet          bool
		env                 map[string]string
		timeout, pollMax    time.Duration
		warn, err           string
	}{
		{name: "exec timeout and interval", dns: "exec", strategy: "doh",
			env:     map[string]string{"EXEC_PROPAGATION_TIMEOUT": "300", "EXEC_POLLING_INTERVAL": "5"},
			timeout: 5 * time.Minute, pollMax: 5 * time.Second},
		{name: "namecheap timeout; http timeout is the provider's own", dns: "namecheap", strategy: "provider",
			env:     map[string]string{"NAMECHEAP_PROPAGATION_TIMEOUT": "3600", "NAMECHEAP_HTTP_TIMEOUT": "60"},
			timeout: time.Hour},
		{name: "rfc2136 as lego names it", dns: "rfc2136", strategy: "doh",
			env:     map[string]string{"RFC2136_PROPAGATION_TIMEOUT": "120", "RFC2136_POLLING_INTERVAL": "2"},
			timeout: 2 * time.Minute, pollMax: 2 * time.Second},
		{name: "flag wins", dns: "exec", strategy: "doh", timeoutSet: true,
			env:  map[string]string{"EXEC_PROPAGATION_TIMEOUT": "300"},
			warn: "EXEC_PROPAGATION_TIMEOUT is not used: --propagation-timeout is given"},
		{name: "wait does not poll", dns: "namecheap", strategy: "wait",
			env:  map[string]string{"NAMECHEAP_POLLING_INTERVAL": "10"},
			warn: "NAMECHEAP_POLLING_INTERVAL is not used: --propagation wait does not poll"},
		{name: "other provider's variables untouched", dns: "acmedns", strategy: "doh",
			env: map[string]string{"EXEC_PROPAGATION_TIMEOUT": "300"}},
		{name: "bad value", dns: "exec", strategy: "doh",
			env: map[string]string{"EXEC_POLLING_INTERVAL": "soon"}, err: `EXEC_POLLING_INTERVAL="soon"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var cfg propagation.Config
			lookup := func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }
			warns, err := legoTiming(lookup, tc.dns, tc.strategy, tc.timeoutSet, &cfg)
			if tc.err != "" {
				var be *BuildError
				if !errors.As(err, &be) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want a BuildError naming %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Timeout != tc.timeout || cfg.PollMax != tc.pollMax {
				t.Errorf("timeout %s poll max %s, want %s %s", cfg.Timeout, cfg.PollMax, tc.timeout, tc.pollMax)
			}
			if got := strings.Join(warns, "\n"); (tc.warn == "") != (got == "") || !strings.Contains(got, tc.warn) {
				t.Errorf("warnings %q, want %q", got, tc.warn)
			}
		})
	}
}
