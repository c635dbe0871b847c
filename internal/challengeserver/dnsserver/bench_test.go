package dnsserver

import (
	"fmt"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/internal/challengeserver/store"
	"github.com/strictacme/strictacme/internal/challengeserver/view"
)

// BenchmarkTXTLoopback measures TXT answers over UDP on 127.0.0.1 with 10
// and 100,000 registered subdomains (two live values each), from the real
// in-memory view: queries per second and p99 latency in microseconds.
//
//	go test -run XXX -bench TXTLoopback -benchtime 200000x ./internal/challengeserver/dnsserver
func BenchmarkTXTLoopback(b *testing.B) {
	for _, n := range []int{10, 100_000} {
		b.Run(fmt.Sprintf("accounts=%d", n), func(b *testing.B) {
			v := view.New(nil)
			exp := time.Now().Add(time.Hour)
			names := make([]string, n)
			for i := range n {
				names[i] = fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i)
				v.Set(names[i], []store.Value{
					{Text: "LHDhK3oGRvkiefQnx7OOczTY5Tic_xZ6HcMOc_gmtoM", Expires: exp},
					{Text: "2HDhK3oGRvkiefQnx7OOczTY5Tic_xZ6HcMOc_gmtoM", Expires: exp},
				})
			}
			h, err := NewHandler(Config{Zone: "auth.example.org"}, v)
			if err != nil {
				b.Fatal(err)
			}
			srv, err := Listen([]string{"127.0.0.1:0"}, h)
			if err != nil {
				b.Fatal(err)
			}
			defer srv.Shutdown(b.Context())
			addr := srv.UDPAddr(0)

			const workers = 8
			lat := make([][]time.Duration, workers)
			var next, errs int64
			var mu sync.Mutex
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					conn, err := net.Dial("udp", addr)
					if err != nil {
						b.Error(err)
						return
					}
					defer conn.Close()
					dc := &dns.Conn{Conn: conn}
					q := new(dns.Msg)
					buf := make([]time.Duration, 0, b.N/workers+1)
					for {
						mu.Lock()
						i := next
						next++
						mu.Unlock()
						if i >= int64(b.N) {
							break
						}
						q.SetQuestion(names[int(i)%n]+".auth.example.org.", dns.TypeTXT)
						t0 := time.Now()
						conn.SetDeadline(t0.Add(time.Second))
						if err := dc.WriteMsg(q); err != nil {
							mu.Lock()
							errs++
							mu.Unlock()
							continue
						}
						m, err := dc.ReadMsg()
						if err != nil || len(m.Answer) != 2 {
							mu.Lock()
							errs++
							mu.Unlock()
							continue
						}
						buf = append(buf, time.Since(t0))
					}
					lat[w] = buf
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			all := slices.Concat(lat...)
			slices.Sort(all)
			if len(all) > 0 {
				b.ReportMetric(float64(len(all))/elapsed.Seconds(), "qps")
				b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
			}
			b.ReportMetric(float64(errs), "errors")
		})
	}
}

// BenchmarkAnswer is the handler alone, without sockets.
func BenchmarkAnswer(b *testing.B) {
	h := newTestHandler(b, nil)
	q := new(dns.Msg)
	q.SetQuestion(sub+".auth.example.org.", dns.TypeTXT)
	b.ReportAllocs()
	for b.Loop() {
		h.Answer(q, true)
	}
}

// BenchmarkAnswerStatic is the handler alone for the static apex records a
// resolver asks for most (NS with glue, A, SOA) and an unknown name
// (NXDOMAIN with the SOA): answers share the prebuilt records.
func BenchmarkAnswerStatic(b *testing.B) {
	h := newTestHandler(b, nil)
	for _, tc := range []struct {
		name  string
		qname string
		qtype uint16
	}{
		{"NS", "auth.example.org.", dns.TypeNS},
		{"A", "auth.example.org.", dns.TypeA},
		{"SOA", "auth.example.org.", dns.TypeSOA},
		{"NXDOMAIN", "nope.nope.auth.example.org.", dns.TypeA},
	} {
		b.Run(tc.name, func(b *testing.B) {
			q := new(dns.Msg)
			q.SetQuestion(tc.qname, tc.qtype)
			buf := make([]byte, 0, 1232)
			b.ReportAllocs()
			for b.Loop() {
				m := h.Answer(q, true)
				if _, err := m.PackBuffer(buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
