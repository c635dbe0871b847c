// Package metrics writes the outcome of a renewal run as a Prometheus
// textfile, for node_exporter's textfile collector: one file replaced
// atomically (internal/atomicfile), so a scrape never sees half of it.
package metrics

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/strictacme/strictacme/internal/atomicfile"
	"github.com/strictacme/strictacme/internal/renewal"
)

// CheckPath says why WriteFile could never write path: its directory does
// not exist, or path is a directory. A run checks it first, so that a
// monitoring file that cannot be written does not pass silently. The
// error names the directory or suggests a file name; nil when path can be
// tried.
func CheckPath(path string) error {
	if info, err := os.Stat(filepath.Dir(path)); err != nil || !info.IsDir() {
		return fmt.Errorf("directory %s does not exist", filepath.Dir(path))
	}
	if info, err := os.Stat(path); err == nil && info.IsDir() {
		return fmt.Errorf("is a directory; give a file name such as %s", filepath.Join(path, "strictacme.prom"))
	}
	return nil
}

// WriteFile writes the metrics of a run that ended at now and took took to
// path (mode 0644), in the Prometheus text format. Metrics, labelled by
// certificate name:
//
//	strictacme_certificate_not_after_timestamp_seconds     expiry of the stored certificate (Unix seconds)
//	strictacme_certificate_last_success_timestamp_seconds  last successful renewal (0 = never)
//	strictacme_certificate_last_duration_seconds           duration of the last attempt
//	strictacme_certificate_errors_total                    failed attempts (counter)
//	strictacme_certificate_due                             1 when due in this run
//	strictacme_certificate_failed                          1 when this run failed for it (or its deploy hook)
//	strictacme_renew_last_run_timestamp_seconds            this run (no label)
//	strictacme_renew_duration_seconds                      this run's duration
//	strictacme_renew_success                               1 when no certificate failed
//
// A certificate without a stored state (not ordered yet) has no
// last_success, last_duration or errors series. The error is the file
// system's; path is left as it was.
func WriteFile(path string, now time.Time, took time.Duration, runs []*renewal.CertRun) error {
	reg := prometheus.NewRegistry()
	gauge := func(name, help string) *prometheus.GaugeVec {
		g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, []string{"name"})
		reg.MustRegister(g)
		return g
	}
	notAfter := gauge("strictacme_certificate_not_after_timestamp_seconds", "Expiry (notAfter) of the stored certificate, Unix seconds.")
	success := gauge("strictacme_certificate_last_success_timestamp_seconds", "Last successful renewal, Unix seconds; 0 if never renewed.")
	duration := gauge("strictacme_certificate_last_duration_seconds", "Duration of the last renewal attempt.")
	due := gauge("strictacme_certificate_due", "1 if the certificate was due for renewal in the last run.")
	failed := gauge("strictacme_certificate_failed", "1 if the last run failed to renew the certificate or its deploy hook failed.")
	errs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "strictacme_certificate_errors_total", Help: "Failed renewal attempts recorded for the certificate."}, []string{"name"})
	reg.MustRegister(errs)
	runTS := prometheus.NewGauge(prometheus.GaugeOpts{Name: "strictacme_renew_last_run_timestamp_seconds", Help: "When the last renew run ended, Unix seconds."})
	runDur := prometheus.NewGauge(prometheus.GaugeOpts{Name: "strictacme_renew_duration_seconds", Help: "Duration of the last renew run."})
	runOK := prometheus.NewGauge(prometheus.GaugeOpts{Name: "strictacme_renew_success", Help: "1 if no certificate failed in the last renew run."})
	reg.MustRegister(runTS, runDur, runOK)

	ok := 1.0
	for _, r := range runs {
		if !r.NotAfter.IsZero() {
			notAfter.WithLabelValues(r.Name).Set(float64(r.NotAfter.Unix()))
		}
		bad := 0.0
		if r.Status == renewal.StatusFailed || r.Status == renewal.StatusHookFailed || r.Status == renewal.StatusDeployFailed {
			bad, ok = 1, 0
		}
		failed.WithLabelValues(r.Name).Set(bad)
		isDue := 0.0
		if r.Decision.Due {
			isDue = 1
		}
		due.WithLabelValues(r.Name).Set(isDue)
		if r.State != nil {
			last := 0.0
			if !r.State.LastSuccess.IsZero() {
				last = float64(r.State.LastSuccess.Unix())
			}
			success.WithLabelValues(r.Name).Set(last)
			duration.WithLabelValues(r.Name).Set(r.State.LastDurationSeconds)
			errs.WithLabelValues(r.Name).Add(float64(r.State.Errors))
		}
	}
	runTS.Set(float64(now.Unix()))
	runDur.Set(took.Seconds())
	runOK.Set(ok)

	mfs, err := reg.Gather()
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(&buf, mf); err != nil {
			return err
		}
	}
	return atomicfile.WriteFile(path, buf.Bytes(), 0o644)
}
