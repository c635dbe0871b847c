package challengeserver

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// BenchmarkAPIUpdate measures POST /update through the full server (HTTP,
// bcrypt at the minimum cost, SQLite, view) on loopback: updates per second.
// Production bcrypt cost 10 adds about 50–80 ms of CPU per update.
func BenchmarkAPIUpdate(b *testing.B) {
	in := startB(b, fmt.Sprintf(testConfig, "sqlite", b.TempDir()+"/db"))
	a := in.register()
	var i atomic.Int64
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		if code, body := in.update(a, value(int(i.Add(1)))); code != 200 {
			b.Fatal(code, body)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "updates/s")
}

// BenchmarkUpdateToVisible measures the time from sending POST /update to
// the value being in the DNS answer of the same instance, and of a second
// instance on the same SQLite file (which learns it by polling).
func BenchmarkUpdateToVisible(b *testing.B) {
	path := b.TempDir() + "/db"
	cfg := fmt.Sprintf(testConfig, "sqlite", path)
	one := startB(b, cfg)
	two := startB(b, cfg)
	a := one.register()
	for _, tc := range []struct {
		name string
		in   *instance
	}{{"same-instance", one}, {"other-instance", two}} {
		b.Run(tc.name, func(b *testing.B) {
			var total time.Duration
			n := 0
			for b.Loop() {
				n++
				v := fmt.Sprintf("%043d", time.Now().UnixNano())
				t0 := time.Now()
				one.update(a, v)
				for !hasTXT(tc.in, a.Fulldomain, v) {
					time.Sleep(time.Millisecond)
				}
				total += time.Since(t0)
			}
			b.ReportMetric(float64(total.Microseconds())/float64(n)/1000, "ms/visible")
		})
	}
}

func hasTXT(in *instance, name, v string) bool {
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(name), dns.TypeTXT)
	q.SetEdns0(4096, false)
	c := &dns.Client{Net: "tcp"}
	m, _, err := c.Exchange(q, in.dns)
	if err != nil {
		return false
	}
	for _, rr := range m.Answer {
		if rr.(*dns.TXT).Txt[0] == v {
			return true
		}
	}
	return false
}
