package renewal

import "testing"

func TestSummaryTally(t *testing.T) {
	tests := []struct {
		name           string
		statuses       []string
		issued, notDue int
	}{
		{"nothing stored", nil, 0, 0},
		{"a first issue is told apart from renewals", []string{StatusIssued, StatusRenewed, StatusRenewed}, 1, 0},
		{"deferred by the CA counts as not due", []string{StatusNotDue, StatusDeferred, StatusFailed}, 0, 2},
		{"a failed hook is neither", []string{StatusHookFailed}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Summary{}
			for _, st := range tt.statuses {
				s.Certificates = append(s.Certificates, &CertRun{Status: st})
			}
			if issued, notDue := s.Tally(); issued != tt.issued || notDue != tt.notDue {
				t.Errorf("Tally = %d, %d; want %d, %d", issued, notDue, tt.issued, tt.notDue)
			}
		})
	}
}
