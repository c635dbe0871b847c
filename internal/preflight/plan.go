package preflight

import (
	"log/slog"

	"github.com/strictacme/strictacme/internal/config"
	"github.com/strictacme/strictacme/internal/delegation"
	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/plan"
	"github.com/strictacme/strictacme/internal/resolver"
)

// ConfigTargets are the targets of every certificate of a config file,
// built as run builds them (config.File.Build) with the accounts in the
// state directory path; allowPort53 adds to each certificate's own. Every
// problem of the file comes back at once (exitcode.Usage).
func ConfigTargets(cf *config.File, path string, allowPort53 bool, logger *slog.Logger) ([]Target, error) {
	built, err := cf.Build(nil, func(s *plan.Settings) {
		s.AllowPort53 = s.AllowPort53 || allowPort53
	}, plan.BuildOptions{Path: path, Logger: logger})
	if err != nil {
		return nil, exitcode.With(exitcode.Usage, err)
	}
	var out []Target
	for _, b := range built {
		out = append(out, TargetOf(b.Plan, path))
	}
	return out, nil
}

// TargetOf is the target that checks p, the plan issue would run, with the
// account looked up in the state directory statePath. The report says
// where each record goes, so p's delegation stops logging its decisions.
func TargetOf(p *plan.Plan, statePath string) Target {
	s := p.Settings
	t := Target{
		Name: s.Name, Directory: p.Directory, HTTPClient: p.HTTPClient, StatePath: statePath,
		AcceptTOS: s.AcceptTOS, HasEAB: p.EAB != nil, Providers: p.Providers, Resolvers: p.Resolvers,
		Strategy: s.Propagation, Fallback: s.Fallback, Quorum: s.Quorum, AllowPort53: s.AllowPort53, Propagation: p.Strategy,
		DNSOptions: resolver.Options{Timeout: s.RequestTimeout.D(), IPv4Only: s.IPv4Only},
	}
	t.Setting = func(provider, key string) string {
		if r := s.Ref(provider); r != nil {
			if src := r.Source(key); src != "" {
				return src
			}
		}
		return key
	}
	for _, id := range p.Identifiers {
		t.Identifiers = append(t.Identifiers, id.ASCII)
	}
	for _, c := range p.Challenges {
		t.Challenges = append(t.Challenges, string(c))
	}
	if d, isDelegator := p.Delegate.(*delegation.Delegator); isDelegator {
		d.Log = nil
		t.Delegate = d
	} else if p.Delegate != nil {
		t.Delegate = p.Delegate
	}
	return t
}
