// Command serveload sends DNS questions over UDP to one server on loopback
// and prints one result line: queries per second, latency percentiles and
// answer codes. bench/serve.sh runs it against `strictacme serve` and, when
// given, acme-dns, and summarizes the lines it collects (-summary).
//
// Two ways to load (both bounded by -n questions and -d duration, whichever
// ends first):
//
//   - closed loop (-rate 0): -c workers, each with its own socket, send a
//     question, wait for its answer (or -timeout), send the next. The qps is
//     the server's saturation on the cores it is given.
//   - open loop (-rate R): questions leave at R per second on a fixed
//     schedule regardless of answers; latency is measured from the planned
//     send time, so a server that falls behind shows it in p99.
//
// Questions come from a file in dnsperf's format ("name TYPE" a line), used
// round-robin. Only loopback servers are accepted.
//
// Result line (one line, space separated key=value):
//
//	label=... qps=... p50_us=... p99_us=... sent=... answered=... lost=... noerror=... nxdomain=... other=...
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

func main() {
	var (
		server  = flag.String("s", "127.0.0.1:53", "server address (loopback only)")
		queries = flag.String("q", "", "question file: \"name TYPE\" a line")
		workers = flag.Int("c", 8, "closed loop: concurrent workers; open loop: sockets")
		count   = flag.Int("n", 1_000_000, "stop after this many questions")
		dur     = flag.Duration("d", 5*time.Second, "stop after this long")
		rate    = flag.Float64("rate", 0, "questions per second (open loop); 0: closed loop")
		timeout = flag.Duration("timeout", time.Second, "an answer later than this counts as lost")
		label   = flag.String("label", "", "label printed first on the result line")
		summary = flag.String("summary", "", "read result lines from this file and print medians and ratios instead of loading")
	)
	flag.Parse()
	if *summary != "" {
		if err := summarize(os.Stdout, *summary); err != nil {
			fmt.Fprintln(os.Stderr, "serveload:", err)
			os.Exit(1)
		}
		return
	}
	if err := checkArgs(*server, *queries, *workers, *count, *dur, *rate); err != nil {
		fmt.Fprintln(os.Stderr, "serveload:", err)
		os.Exit(2)
	}
	msgs, err := readQueries(*queries)
	if err != nil {
		fmt.Fprintln(os.Stderr, "serveload:", err)
		os.Exit(2)
	}
	var res result
	if *rate > 0 {
		res, err = openLoop(*server, msgs, *workers, *count, *dur, *rate, *timeout)
	} else {
		res, err = closedLoop(*server, msgs, *workers, *count, *dur, *timeout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "serveload:", err)
		os.Exit(1)
	}
	fmt.Println(res.line(*label))
}

func checkArgs(server, queries string, workers, count int, dur time.Duration, rate float64) error {
	ap, err := netip.ParseAddrPort(server)
	if err != nil {
		return fmt.Errorf("-s %q: want IP:PORT on loopback, e.g. 127.0.0.1:15353", server)
	}
	if !ap.Addr().IsLoopback() {
		return fmt.Errorf("-s %q: only loopback servers are loaded; use 127.0.0.1 or [::1]", server)
	}
	switch {
	case queries == "":
		return errors.New("-q: give the question file")
	case workers < 1 || workers > 1024:
		return fmt.Errorf("-c %d: want 1 to 1024", workers)
	case count < 1:
		return fmt.Errorf("-n %d: want at least 1", count)
	case dur <= 0 || dur > 10*time.Minute:
		return fmt.Errorf("-d %s: want more than 0 and at most 10m", dur)
	case rate < 0 || rate > 1e6:
		return fmt.Errorf("-rate %g: want 0 (closed loop) to 1000000", rate)
	}
	return nil
}

// readQueries packs each "name TYPE" line once; workers copy the bytes and
// set the ID, so the generator spends little per question.
func readQueries(path string) ([][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("-q: %w", err)
	}
	defer f.Close()
	var out [][]byte
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		qtype := dns.TypeA
		if len(fields) > 1 {
			t, ok := dns.StringToType[strings.ToUpper(fields[1])]
			if !ok {
				return nil, fmt.Errorf("%s:%d: unknown type %q", path, line, fields[1])
			}
			qtype = t
		}
		m := new(dns.Msg)
		m.SetQuestion(dns.Fqdn(fields[0]), qtype)
		m.RecursionDesired = false
		b, err := m.Pack()
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		out = append(out, b)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("-q: %w", err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-q %s: no questions", path)
	}
	return out, nil
}

// tally is one worker's count; merged after the run, so no locks on the path.
type tally struct {
	lat                                  []time.Duration
	sent, lost, noerror, nxdomain, other int
}

func (t *tally) answer(b []byte, lat time.Duration) {
	t.lat = append(t.lat, lat)
	switch b[3] & 0x0f {
	case dns.RcodeSuccess:
		t.noerror++
	case dns.RcodeNameError:
		t.nxdomain++
	default:
		t.other++
	}
}

type result struct {
	tally
	elapsed time.Duration
}

func merge(ts []*tally, elapsed time.Duration) result {
	r := result{elapsed: elapsed}
	for _, t := range ts {
		r.lat = append(r.lat, t.lat...)
		r.sent += t.sent
		r.lost += t.lost
		r.noerror += t.noerror
		r.nxdomain += t.nxdomain
		r.other += t.other
	}
	slices.Sort(r.lat)
	return r
}

func (r result) percentile(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	i := int(p * float64(len(r.lat)-1))
	return r.lat[i]
}

func (r result) line(label string) string {
	qps := float64(len(r.lat)) / r.elapsed.Seconds()
	if label == "" {
		label = "-"
	}
	return fmt.Sprintf("label=%s qps=%.0f p50_us=%d p99_us=%d sent=%d answered=%d lost=%d noerror=%d nxdomain=%d other=%d",
		label, qps, r.percentile(0.50).Microseconds(), r.percentile(0.99).Microseconds(),
		r.sent, len(r.lat), r.lost, r.noerror, r.nxdomain, r.other)
}

// closedLoop keeps one question in flight per worker.
func closedLoop(server string, msgs [][]byte, workers, count int, dur, timeout time.Duration) (result, error) {
	var next atomic.Int64
	deadline := time.Now().Add(dur)
	tallies := make([]*tally, workers)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range workers {
		conn, err := net.Dial("udp", server)
		if err != nil {
			return result{}, err
		}
		t := &tally{lat: make([]time.Duration, 0, 1<<16)}
		tallies[w] = t
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer conn.Close()
			q := make([]byte, 512)
			buf := make([]byte, 65535)
			for {
				i := next.Add(1) - 1
				if i >= int64(count) || time.Now().After(deadline) {
					return
				}
				src := msgs[i%int64(len(msgs))]
				q = append(q[:0], src...)
				id := uint16(i)
				q[0], q[1] = byte(id>>8), byte(id)
				sent := time.Now()
				if _, err := conn.Write(q); err != nil {
					errs <- err
					return
				}
				t.sent++
				_ = conn.SetReadDeadline(sent.Add(timeout))
				for {
					n, err := conn.Read(buf)
					if err != nil {
						var ne net.Error
						if errors.As(err, &ne) && ne.Timeout() {
							t.lost++
							break
						}
						errs <- err
						return
					}
					// A late answer to an earlier question is skipped.
					if n >= 12 && buf[0] == q[0] && buf[1] == q[1] {
						t.answer(buf[:n], time.Since(sent))
						break
					}
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		return result{}, err
	}
	return merge(tallies, elapsed), nil
}

// openLoop sends at a fixed rate across sockets, each with a sender and a
// reader; an answer is matched to its send time by ID (IDs are unique per
// socket for 65,536 questions, far more than are in flight within -timeout).
func openLoop(server string, msgs [][]byte, sockets, count int, dur time.Duration, rate float64, timeout time.Duration) (result, error) {
	total := min(count, int(rate*dur.Seconds()))
	if total < 1 {
		total = 1
	}
	interval := time.Duration(float64(time.Second) / rate * float64(sockets))
	tallies := make([]*tally, sockets)
	errs := make(chan error, 2*sockets)
	var wg sync.WaitGroup
	start := time.Now()
	for s := range sockets {
		conn, err := net.Dial("udp", server)
		if err != nil {
			return result{}, err
		}
		share := total / sockets
		if s < total%sockets {
			share++
		}
		t := &tally{lat: make([]time.Duration, 0, share)}
		tallies[s] = t
		var planned [65536]atomic.Int64 // planned send time (ns since start) + 1 by ID; 0: none outstanding
		offset := time.Duration(float64(interval) * float64(s) / float64(sockets))
		sendDone := make(chan struct{})
		wg.Add(2)
		go func() {
			defer wg.Done()
			defer close(sendDone)
			q := make([]byte, 512)
			for k := range share {
				at := offset + time.Duration(k)*interval
				if d := at - time.Since(start); d > 0 {
					time.Sleep(d)
				}
				src := msgs[(k*sockets+s)%len(msgs)]
				q = append(q[:0], src...)
				id := uint16(k)
				q[0], q[1] = byte(id>>8), byte(id)
				planned[id].Store(int64(at) + 1)
				if _, err := conn.Write(q); err != nil {
					errs <- err
					return
				}
				t.sent++
			}
		}()
		go func() {
			defer wg.Done()
			defer conn.Close()
			buf := make([]byte, 65535)
			answered := 0
			for answered < share {
				_ = conn.SetReadDeadline(time.Now().Add(timeout))
				n, err := conn.Read(buf)
				if err != nil {
					var ne net.Error
					if errors.As(err, &ne) && ne.Timeout() {
						select {
						case <-sendDone:
							return // nothing more arrives within -timeout of the last send
						default:
							continue
						}
					}
					errs <- err
					return
				}
				if n < 12 {
					continue
				}
				id := uint16(buf[0])<<8 | uint16(buf[1])
				at := planned[id].Swap(0)
				if at == 0 {
					continue
				}
				lat := time.Since(start) - time.Duration(at-1)
				if lat > timeout {
					continue // counted as lost below
				}
				t.answer(buf[:n], lat)
				answered++
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		return result{}, err
	}
	r := merge(tallies, elapsed)
	r.lost = r.sent - len(r.lat)
	// The rate is what was asked; report what was answered per second of the
	// sending schedule, not of the trailing wait for the last answers.
	r.elapsed = min(elapsed, time.Duration(float64(total)/rate*float64(time.Second)))
	return r, nil
}
