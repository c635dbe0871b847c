package main

import (
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestCheckArgsLoadsOnlyLoopback(t *testing.T) {
	for _, tc := range []struct {
		server string
		ok     bool
	}{
		{"127.0.0.1:15353", true},
		{"[::1]:15353", true},
		{"192.0.2.1:53", false},
		{"localhost:53", false},
		{"127.0.0.1", false},
	} {
		err := checkArgs(tc.server, "q", 1, 1, time.Second, 0)
		if (err == nil) != tc.ok {
			t.Errorf("checkArgs(%q) = %v, want ok=%v", tc.server, err, tc.ok)
		}
	}
}

// zoneServer answers NOERROR with one TXT record for known.test. and
// NXDOMAIN for every other name, on a UDP socket on 127.0.0.1.
func zoneServer(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		if r.Question[0].Name == "known.test." {
			m.Answer = append(m.Answer, &dns.TXT{Hdr: dns.RR_Header{Name: "known.test.", Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 1}, Txt: []string{"v"}})
		} else {
			m.Rcode = dns.RcodeNameError
		}
		_ = w.WriteMsg(m)
	})}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go func() { _ = srv.ActivateAndServe() }()
	<-started
	t.Cleanup(func() { _ = srv.Shutdown() })
	return pc.LocalAddr().String()
}

func questions(t *testing.T, lines ...string) [][]byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "q")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	msgs, err := readQueries(path)
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

func TestClosedLoopCountsAnswersByRcode(t *testing.T) {
	addr := zoneServer(t)
	msgs := questions(t, "known.test TXT", "# comment", "unknown.test TXT")
	res, err := closedLoop(addr, msgs, 4, 100, time.Minute, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if res.sent != 100 || len(res.lat) != 100 || res.lost != 0 || res.noerror != 50 || res.nxdomain != 50 || res.other != 0 {
		t.Errorf("sent %d answered %d lost %d noerror %d nxdomain %d other %d; want 100 100 0 50 50 0",
			res.sent, len(res.lat), res.lost, res.noerror, res.nxdomain, res.other)
	}
}

func TestClosedLoopCountsSilenceAsLost(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0") // reads nothing, answers nothing
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	msgs := questions(t, "known.test TXT")
	res, err := closedLoop(pc.LocalAddr().String(), msgs, 1, 3, time.Minute, 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if res.sent != 3 || res.lost != 3 || len(res.lat) != 0 {
		t.Errorf("sent %d lost %d answered %d; want 3 3 0", res.sent, res.lost, len(res.lat))
	}
	if !strings.Contains(res.line("x"), " p99_us=0 ") {
		t.Errorf("line without answers: %s", res.line("x"))
	}
}

func TestOpenLoopSendsRateTimesDurationCappedByCount(t *testing.T) {
	addr := zoneServer(t)
	msgs := questions(t, "known.test TXT", "unknown.test TXT")
	for _, tc := range []struct {
		count int
		want  int
	}{
		{count: 1000, want: 40}, // 2,000 qps for 20 ms
		{count: 25, want: 25},
	} {
		res, err := openLoop(addr, msgs, 3, tc.count, 20*time.Millisecond, 2000, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if res.sent != tc.want || len(res.lat)+res.lost != tc.want || res.noerror+res.nxdomain != len(res.lat) {
			t.Errorf("count %d: sent %d answered %d lost %d; want %d sent, each answered or lost",
				tc.count, res.sent, len(res.lat), res.lost, tc.want)
		}
	}
}

func TestReadQueriesRefusesUnknownType(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q")
	if err := os.WriteFile(path, []byte("a.test TXT\nb.test NOPE\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := readQueries(path)
	if err == nil || !strings.Contains(err.Error(), ":2: unknown type \"NOPE\"") {
		t.Errorf("err = %v, want the line and the type named", err)
	}
}

func summaryOf(t *testing.T, lines ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "results")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := summarize(&b, path); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestSummaryRatiosAreOfMediansOverRepeats(t *testing.T) {
	out := summaryOf(t,
		"label=10/txt/saturation/strictacme qps=300 p50_us=100 p99_us=1000 lost=0 rss_kb=15360 cpu_us_per_q=20",
		"label=10/txt/saturation/acme-dns qps=100 p50_us=400 p99_us=4000 lost=0 rss_kb=10240 cpu_us_per_q=80",
		"label=10/txt/saturation/strictacme qps=9999 p50_us=100 p99_us=1000 lost=0 rss_kb=15360 cpu_us_per_q=20",
		"label=10/txt/saturation/acme-dns qps=1 p50_us=400 p99_us=4000 lost=0 rss_kb=10240 cpu_us_per_q=80",
		"label=10/txt/saturation/strictacme qps=200 p50_us=100 p99_us=1000 lost=0 rss_kb=15360 cpu_us_per_q=20",
		"label=10/txt/saturation/acme-dns qps=100 p50_us=400 p99_us=4000 lost=0 rss_kb=10240 cpu_us_per_q=80",
	)
	// Medians 300 and 100 qps; the outliers 9999 and 1 do not move them.
	if !regexp.MustCompile(`(?m)^ +10 +txt +saturation +strictacme +3 +300 +0\.10 +1\.00 +0 +20\.0 +15\.0 +- +- +- +- *$`).MatchString(out) {
		t.Errorf("no median row for strictacme:\n%s", out)
	}
	if !regexp.MustCompile(`(?m)^ +10 +txt +saturation +3\.00 +0\.25 +0\.25 +0\.25 +1\.50 +- +- +- +- *$`).MatchString(out) {
		t.Errorf("no ratio row 3.00 0.25 0.25 0.25 1.50:\n%s", out)
	}
}

func TestSummaryWithoutAcmeDNSHasNoRatios(t *testing.T) {
	out := summaryOf(t,
		"label=100000/static/saturation/strictacme qps=300 p50_us=100 p99_us=1000 lost=0 rss_kb=15360 cpu_us_per_q=20",
		"label=100000/idle/started/strictacme rss_kb=10240",
		"a line that is not a result",
	)
	if strings.Contains(out, "ratios") {
		t.Errorf("ratios without acme-dns:\n%s", out)
	}
	if !regexp.MustCompile(`(?m)^ +100000 +idle +started +strictacme +1 +- +- +- +- +- +10\.0 +- +- +- +- *$`).MatchString(out) {
		t.Errorf("no idle RSS row:\n%s", out)
	}
}

func TestSummaryComparesStartUpSeconds(t *testing.T) {
	out := summaryOf(t,
		"label=100000/idle/started/strictacme rss_kb=40960 rss_anon_kb=20480 rss_file_kb=20480 secs=0.5 cpu_s=0.4",
		"label=100000/idle/started/acme-dns rss_kb=20480 rss_anon_kb=10240 rss_file_kb=10240 secs=0.25 cpu_s=0.1",
	)
	if !regexp.MustCompile(`(?m)^ +100000 +idle +started +strictacme +1 +- +- +- +- +- +40\.0 +20\.0 +20\.0 +0\.50 +0\.40 *$`).MatchString(out) {
		t.Errorf("no start-up row:\n%s", out)
	}
	if !regexp.MustCompile(`(?m)^ +100000 +idle +started +- +- +- +- +2\.00 +2\.00 +2\.00 +2\.00 +4\.00 *$`).MatchString(out) {
		t.Errorf("no ratio row with RSS, its parts, seconds 2.00 and CPU seconds 4.00:\n%s", out)
	}
}
