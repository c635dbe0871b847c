package challengeserver

import (
	"testing"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Answers are counted in the series of their type, rcode and transport,
// also once more combinations have been seen than the map keeps.
func TestQueryCountersCountEveryAnswerInItsSeries(t *testing.T) {
	vec := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "q"}, []string{"qtype", "rcode", "transport"})
	q := &queryCounters{vec: vec}
	for range 3 {
		q.of(dns.TypeTXT, dns.RcodeSuccess, "udp").Inc()
	}
	q.of(dns.TypeTXT, dns.RcodeNameError, "udp").Inc()
	q.of(dns.TypeTXT, dns.RcodeSuccess, "tcp").Inc()
	for qt := range uint16(maxQueryCounters + 10) {
		q.of(1000+qt, dns.RcodeSuccess, "udp").Inc()
	}
	q.of(1000+maxQueryCounters+5, dns.RcodeSuccess, "udp").Inc()
	for _, tc := range []struct {
		labels []string
		want   float64
	}{
		{[]string{"TXT", "NOERROR", "udp"}, 3},
		{[]string{"TXT", "NXDOMAIN", "udp"}, 1},
		{[]string{"TXT", "NOERROR", "tcp"}, 1},
	} {
		if got := counterValue(t, vec, tc.labels...); got != tc.want {
			t.Errorf("%v: %v, want %v", tc.labels, got, tc.want)
		}
	}
	// Types without a name share the series with an empty qtype.
	if got := counterValue(t, vec, "", "NOERROR", "udp"); got != maxQueryCounters+11 {
		t.Errorf("unnamed types: %v, want %d", got, maxQueryCounters+11)
	}
	if n := len(*q.m.Load()); n > maxQueryCounters {
		t.Errorf("%d combinations kept, at most %d", n, maxQueryCounters)
	}
}

func counterValue(t *testing.T, vec *prometheus.CounterVec, labels ...string) float64 {
	t.Helper()
	var m dto.Metric
	if err := vec.WithLabelValues(labels...).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}
