package metrics

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/strictacme/strictacme/internal/renewal"
)

// read parses the file WriteFile wrote into value by "metric{name}" (or
// "metric" for the run's own series).
func read(t *testing.T, path string) map[string]float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(f)
	if err != nil {
		t.Fatalf("not the Prometheus text format: %v", err)
	}
	out := map[string]float64{}
	for name, fam := range fams {
		for _, m := range fam.GetMetric() {
			key := name
			for _, l := range m.GetLabel() {
				key += "{" + l.GetValue() + "}"
			}
			out[key] = value(fam.GetType(), m)
		}
	}
	return out
}

func value(t dto.MetricType, m *dto.Metric) float64 {
	if t == dto.MetricType_COUNTER {
		return m.GetCounter().GetValue()
	}
	return m.GetGauge().GetValue()
}

func TestWriteFile(t *testing.T) {
	end := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	notAfter := end.Add(60 * 24 * time.Hour)
	tests := []struct {
		name string
		runs []*renewal.CertRun
		want map[string]float64
		// absent series must not be written at all.
		absent []string
	}{
		{
			name: "renewed certificate makes the run a success",
			runs: []*renewal.CertRun{{
				Name: "web", Status: renewal.StatusRenewed, NotAfter: notAfter, Decision: renewal.Decision{Due: true},
				State: &renewal.State{LastSuccess: end, LastDurationSeconds: 4.5, Errors: 2},
			}},
			want: map[string]float64{
				"strictacme_certificate_not_after_timestamp_seconds{web}":    float64(notAfter.Unix()),
				"strictacme_certificate_last_success_timestamp_seconds{web}": float64(end.Unix()),
				"strictacme_certificate_last_duration_seconds{web}":          4.5,
				"strictacme_certificate_errors_total{web}":                   2,
				"strictacme_certificate_due{web}":                            1,
				"strictacme_certificate_failed{web}":                         0,
				"strictacme_renew_success":                                   1,
				"strictacme_renew_last_run_timestamp_seconds":                float64(end.Unix()),
				"strictacme_renew_duration_seconds":                          90,
			},
		},
		{
			name: "failed deploy hook fails the run",
			runs: []*renewal.CertRun{
				{Name: "a", Status: renewal.StatusNotDue, NotAfter: notAfter, State: &renewal.State{}},
				{Name: "b", Status: renewal.StatusHookFailed, NotAfter: notAfter, Decision: renewal.Decision{Due: true}, State: &renewal.State{LastSuccess: end}},
			},
			want: map[string]float64{
				"strictacme_certificate_failed{a}":                         0,
				"strictacme_certificate_due{a}":                            0,
				"strictacme_certificate_last_success_timestamp_seconds{a}": 0, // never renewed
				"strictacme_certificate_failed{b}":                         1,
				"strictacme_renew_success":                                 0,
			},
		},
		{
			name: "certificate not stored yet has no expiry and no history",
			runs: []*renewal.CertRun{{Name: "new", Status: renewal.StatusFailed, Decision: renewal.Decision{Due: true}}},
			want: map[string]float64{
				"strictacme_certificate_failed{new}": 1,
				"strictacme_certificate_due{new}":    1,
				"strictacme_renew_success":           0,
			},
			absent: []string{
				"strictacme_certificate_not_after_timestamp_seconds{new}",
				"strictacme_certificate_last_success_timestamp_seconds{new}",
				"strictacme_certificate_errors_total{new}",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "strictacme.prom")
			if err := WriteFile(path, end, 90*time.Second, tt.runs); err != nil {
				t.Fatal(err)
			}
			got := read(t, path)
			for k, v := range tt.want {
				if g, ok := got[k]; !ok || g != v {
					t.Errorf("%s = %v (written: %v), want %v", k, g, ok, v)
				}
			}
			for _, k := range tt.absent {
				if _, ok := got[k]; ok {
					t.Errorf("%s written, want absent", k)
				}
			}
		})
	}
}

func TestWriteFileIntoMissingDirectoryLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "gone", "strictacme.prom")
	if err := WriteFile(path, time.Now(), time.Second, nil); err == nil {
		t.Fatal("no error writing into a missing directory")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("left behind: %v", entries)
	}
}

func TestCheckPath(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, path, want string
	}{
		{"a new file in an existing directory can be written", filepath.Join(dir, "strictacme.prom"), ""},
		{"a directory that does not exist is named", filepath.Join(dir, "gone", "strictacme.prom"), "directory " + filepath.Join(dir, "gone") + " does not exist"},
		{"a directory given as the file gets a file name suggested", dir, "is a directory; give a file name such as " + filepath.Join(dir, "strictacme.prom")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckPath(tt.path)
			if got := fmt.Sprint(err); (tt.want == "" && err != nil) || (tt.want != "" && got != tt.want) {
				t.Errorf("CheckPath(%s) = %v, want %q", tt.path, err, tt.want)
			}
		})
	}
}
