package preflight

import (
	"testing"

	"github.com/strictacme/strictacme/internal/exitcode"
)

func report(rows ...Row) *Report { return &Report{Rows: rows} }

func TestSummarize(t *testing.T) {
	ok := Row{Check: "ca", Status: OK}
	warned := Row{Check: "resolver", Status: Warn}
	caFail := Row{Check: "ca", Status: Fail, Code: exitcode.CA}
	dnsFail := Row{Check: "provider", Status: Fail, Code: exitcode.DNS}
	tests := []struct {
		name   string
		reps   []*Report
		ok     bool
		code   int
		failed int
	}{
		{"nothing checked passes", nil, true, exitcode.OK, 0},
		{"warnings pass", []*Report{report(ok, warned)}, true, exitcode.OK, 0},
		{"the first failing certificate gives the exit code", []*Report{report(ok), report(dnsFail, caFail), report(caFail)}, false, exitcode.DNS, 3},
		{"a failed row without a code is a plain failure", []*Report{report(Row{Check: "x", Status: Fail})}, false, exitcode.Failure, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Summarize(tt.reps)
			if s.OK != tt.ok || s.ExitCode != tt.code || s.Failed() != tt.failed || len(s.Certificates) != len(tt.reps) {
				t.Errorf("Summarize = ok %v, exit %d, %d failed; want %v, %d, %d", s.OK, s.ExitCode, s.Failed(), tt.ok, tt.code, tt.failed)
			}
		})
	}
}
