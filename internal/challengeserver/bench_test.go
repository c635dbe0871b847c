//go:build unix

// The benchmarks read CPU time with getrusage(2).

package challengeserver

import (
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/internal/challengeserver/store"
	"github.com/strictacme/strictacme/internal/challengeserver/view"
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

// fillAcmeDNS writes an acme-dns SQLite database (the records and txt
// tables of its pkg/database/db.go) with n accounts at path, two TXT rows
// each, the first live. Usernames and subdomains are random UUIDs and
// values dns-01 digests, as acme-dns writes them: sequential keys would
// make the import's index writes look cheaper than they are.
func fillAcmeDNS(b *testing.B, path string, n int) {
	b.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	for _, s := range []string{
		`CREATE TABLE acmedns(Name TEXT, Value TEXT)`,
		`CREATE TABLE records(Username TEXT UNIQUE NOT NULL PRIMARY KEY, Password TEXT UNIQUE NOT NULL, Subdomain TEXT UNIQUE NOT NULL, AllowFrom TEXT)`,
		`CREATE TABLE txt(Subdomain TEXT NOT NULL, Value TEXT NOT NULL DEFAULT '', LastUpdate INT)`,
	} {
		if _, err := db.Exec(s); err != nil {
			b.Fatal(err)
		}
	}
	tx, err := db.Begin()
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().Unix()
	for i := range n {
		sub := randomUUID()
		if _, err := tx.Exec(`INSERT INTO records VALUES (?, ?, ?, '[]')`, randomUUID(), fmt.Sprintf("$2a$10$%053d", i), sub); err != nil {
			b.Fatal(err)
		}
		d := sha256.Sum256([]byte(sub))
		if _, err := tx.Exec(`INSERT INTO txt VALUES (?, ?, ?), (?, '', 0)`, sub, base64.RawURLEncoding.EncodeToString(d[:]), now, sub); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}

func randomUUID() string {
	var u [16]byte
	rand.Read(u[:])
	u[6], u[8] = u[6]&0x0f|0x40, u[8]&0x3f|0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// heapInUse is the live heap after a full collection, in bytes.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// cpuTime is the CPU time (user and system) the process used so far: on a
// shared machine a steadier measure than wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rss is the process's resident set in bytes (Linux /proc; 0 elsewhere).
func rss() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseUint(f[1], 10, 64)
	return pages * uint64(os.Getpagesize())
}

// BenchmarkImportAcmeDNS100k imports 100,000 acme-dns accounts (each with a
// live TXT value) into a new SQLite store: seconds per import. Goal: under
// 10 s.
//
//	go test -run XXX -bench ImportAcmeDNS100k -benchtime 1x ./internal/challengeserver
func BenchmarkImportAcmeDNS100k(b *testing.B) {
	const n = 100_000
	src := b.TempDir() + "/acme-dns.db"
	fillAcmeDNS(b, src, n)
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		dst, err := store.OpenSQLite(b.Context(), b.TempDir()+"/serve.db")
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		c0 := cpuTime()
		res, err := store.ImportAcmeDNS(b.Context(), dst, "sqlite3", src, time.Now(), time.Hour)
		cpu += cpuTime() - c0
		if err != nil || res.Accounts != n || res.Values != n {
			b.Fatalf("%+v %v", res, err)
		}
		b.StopTimer()
		dst.Close()
		b.StartTimer()
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/import")
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/import")
}

// BenchmarkStartup100k starts a server on a SQLite store holding 100,000
// accounts with one live TXT value each (store opened, view loaded,
// listeners bound): seconds per start-up, the live heap the server keeps
// after the first start-up in bytes per account, and the process's
// resident set then (the set-up's import ran before it; its memory was
// returned first). Goal: start-up under 1 s.
//
//	go test -run XXX -bench Startup100k -benchtime 3x ./internal/challengeserver
func BenchmarkStartup100k(b *testing.B) {
	const n = 100_000
	path := sqliteStore(b, n)
	b.ReportAllocs()
	cfg, err := ParseConfig("bench.toml", []byte(fmt.Sprintf(testConfig, "sqlite", path)))
	if err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var perAccount float64
	var rssMB float64
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		debug.FreeOSMemory()
		before := heapInUse()
		b.StartTimer()
		c0 := cpuTime()
		srv, err := New(b.Context(), cfg, Options{Log: log})
		if err != nil {
			b.Fatal(err)
		}
		cpu += cpuTime() - c0
		b.StopTimer()
		if srv.View.Len() != n {
			b.Fatalf("%d accounts loaded", srv.View.Len())
		}
		if rssMB == 0 {
			// The first start-up only: later ones begin with the runtime's
			// GC setting changed by the first (tuneGC), and their
			// before-and-after difference is not the view alone.
			perAccount = (float64(heapInUse()) - float64(before)) / n
			rssMB = float64(rss()) / (1 << 20)
		}
		srv.close()
		b.StartTimer()
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/start")
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/start")
	b.ReportMetric(perAccount, "heap-B/account")
	b.ReportMetric(rssMB, "RSS-MB")
}

// sqliteStore returns the path of a new SQLite store holding n accounts
// imported from an acme-dns database (one live TXT value each).
func sqliteStore(b *testing.B, n int) string {
	b.Helper()
	dir := b.TempDir()
	src := dir + "/acme-dns.db"
	fillAcmeDNS(b, src, n)
	dst, err := store.OpenSQLite(b.Context(), dir+"/serve.db")
	if err != nil {
		b.Fatal(err)
	}
	defer dst.Close()
	if _, err := store.ImportAcmeDNS(b.Context(), dst, "sqlite3", src, time.Now(), time.Hour); err != nil {
		b.Fatal(err)
	}
	return dir + "/serve.db"
}

// BenchmarkLoad100k loads 100,000 accounts from SQLite into a new view,
// the part of start-up that grows with the accounts: CPU seconds and
// allocations per load (the load's garbage is what the server returns to
// the system after start-up).
//
//	go test -run XXX -bench Load100k -benchtime 5x ./internal/challengeserver
func BenchmarkLoad100k(b *testing.B) {
	const n = 100_000
	st, err := store.OpenSQLite(b.Context(), sqliteStore(b, n))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	b.ReportAllocs()
	var cpu time.Duration
	for b.Loop() {
		c0 := cpuTime()
		f := &view.Follower{Store: st, View: view.New(nil)}
		if err := f.Load(b.Context()); err != nil {
			b.Fatal(err)
		}
		cpu += cpuTime() - c0
		if f.View.Len() != n {
			b.Fatalf("%d accounts loaded", f.View.Len())
		}
	}
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/load")
}
