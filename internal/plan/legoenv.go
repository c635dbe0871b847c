package plan

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/strictacme/strictacme/internal/propagation"
)

// legoTiming reads lego's timing variables of the --dns provider, so a job
// moving from lego keeps its settings: PROVIDER_PROPAGATION_TIMEOUT (seconds;
// lego gives up the propagation check after it) becomes the propagation
// timeout unless --propagation-timeout is given, PROVIDER_POLLING_INTERVAL
// (seconds between lego's checks) the longest pause between our checks,
// which back off up to it. Where a variable has no counterpart it is named
// in a warning instead of being ignored in silence. (NAMECHEAP_HTTP_TIMEOUT
// is the namecheap provider's own: it bounds each API call.) A value that is not a
// number of seconds or a duration is a usage error naming the variable.
func legoTiming(lookup func(string) (string, bool), dns, strategy string, timeoutSet bool, cfg *propagation.Config) (warnings []string, err error) {
	var prefix string
	if k, ok := kinds[dns]; ok {
		prefix = k.LegoPrefix
	}
	if prefix == "" || lookup == nil {
		return nil, nil
	}
	polls := strategy != "wait" && strategy != "none"
	get := func(name string) (time.Duration, bool, error) {
		v, ok := lookup(name)
		if !ok || strings.TrimSpace(v) == "" {
			return 0, false, nil
		}
		v = strings.TrimSpace(v)
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			return time.Duration(n) * time.Second, true, nil
		}
		if d, err := time.ParseDuration(v); err == nil && d > 0 {
			return d, true, nil
		}
		return 0, false, &BuildError{Key: name, Err: fmt.Errorf("%s=%q: give a number of seconds, as lego reads it", name, v)}
	}
	name := prefix + "_PROPAGATION_TIMEOUT"
	switch d, ok, err := get(name); {
	case err != nil:
		return nil, err
	case ok && !polls:
		warnings = append(warnings, fmt.Sprintf("%s is not used: --propagation %s has no check to bound", name, strategy))
	case ok && timeoutSet:
		warnings = append(warnings, fmt.Sprintf("%s is not used: --propagation-timeout is given", name))
	case ok:
		cfg.Timeout = d
	}
	name = prefix + "_POLLING_INTERVAL"
	switch d, ok, err := get(name); {
	case err != nil:
		return nil, err
	case ok && !polls:
		warnings = append(warnings, fmt.Sprintf("%s is not used: --propagation %s does not poll", name, strategy))
	case ok:
		cfg.PollMax = d
		if cfg.PollInitial == 0 || cfg.PollInitial > d {
			cfg.PollInitial = min(propagation.DefaultPollInitial, d)
		}
	}
	return warnings, nil
}
