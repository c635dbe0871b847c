package config

import (
	"slices"
	"testing"

	"github.com/strictacme/strictacme/internal/plan"
)

// persist --config stands for the certificates that use dns-persist-01,
// or for every certificate when none says so.
func TestPersistNames(t *testing.T) {
	cert := func(challenges []string, names ...string) *Certificate {
		return &Certificate{Settings: plan.Settings{Names: names, Challenges: challenges}}
	}
	persist := []string{"dns-01", "dns-persist-01"}
	tests := []struct {
		name  string
		certs []*Certificate
		want  []string
	}{
		{"some certificates use dns-persist-01", []*Certificate{cert(nil, "a.example"), cert(persist, "b.example", "*.b.example"), cert(persist, "c.example")},
			[]string{"b.example", "*.b.example", "c.example"}},
		{"none does: every certificate", []*Certificate{cert(nil, "a.example"), cert([]string{"dns-01"}, "b.example")},
			[]string{"a.example", "b.example"}},
		{"no certificates", nil, nil},
	}
	for _, tt := range tests {
		if got := (&File{Certificates: tt.certs}).PersistNames(); !slices.Equal(got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
