package exec

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/libdns/libdns"
)

// overlapWorld runs testdata/overlap.sh in a directory of its own and
// reads back what it recorded.
type overlapWorld struct{ dir string }

func newOverlapWorld(t *testing.T, barrier int) (*overlapWorld, string) {
	t.Helper()
	w := &overlapWorld{dir: t.TempDir()}
	t.Setenv("OVERLAP_DIR", w.dir)
	t.Setenv("BARRIER", strconv.Itoa(barrier))
	prog, err := filepath.Abs("testdata/overlap.sh")
	if err != nil {
		t.Fatal(err)
	}
	return w, prog
}

// counts is, for every run, how many runs were running when it started.
func (w *overlapWorld) counts(t *testing.T) []int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(w.dir, "counts"))
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, l := range strings.Fields(string(b)) {
		n, err := strconv.Atoi(l)
		if err != nil {
			t.Fatalf("counts: %q", l)
		}
		out = append(out, n)
	}
	return out
}

func (w *overlapWorld) calls(t *testing.T) []string {
	t.Helper()
	b, _ := os.ReadFile(filepath.Join(w.dir, "calls"))
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	slices.Sort(lines)
	return lines
}

func txts(values ...string) []libdns.Record {
	var recs []libdns.Record
	for i, v := range values {
		recs = append(recs, libdns.TXT{Name: fmt.Sprintf("_acme-challenge.n%d", i), Text: v})
	}
	return recs
}

// With EXEC_PARALLEL=4 four records are written by four programs running at
// once; with 1 (the default) no two runs ever overlap. The script waits
// until as many runs as asked have started, so overlap is certain when it is
// allowed and never waited for when it is not.
func TestParallelProgramsOverlapOnlyWhenDeclared(t *testing.T) {
	for _, tc := range []struct {
		parallel, wantMax int
	}{{parallel: 4, wantMax: 4}, {parallel: 1, wantMax: 1}, {parallel: 0, wantMax: 1}} {
		t.Run(fmt.Sprintf("parallel=%d", tc.parallel), func(t *testing.T) {
			w, prog := newOverlapWorld(t, tc.wantMax)
			p := &Provider{Program: prog, Parallel: tc.parallel}
			recs := txts("a", "b", "c", "d")
			done, err := p.AppendRecords(context.Background(), "example.com.", recs)
			if err != nil {
				t.Fatal(err)
			}
			if len(done) != len(recs) {
				t.Fatalf("done = %d records, want %d", len(done), len(recs))
			}
			counts := w.counts(t)
			if len(counts) != len(recs) {
				t.Fatalf("%d runs, want %d", len(counts), len(recs))
			}
			if got := slices.Max(counts); got != tc.wantMax {
				t.Fatalf("at most %d runs at once (counts %v), want %d", got, counts, tc.wantMax)
			}
		})
	}
}

// The bound holds across calls: two zones written at the same time with
// EXEC_PARALLEL=2 never have more than two programs running.
func TestParallelBoundHoldsAcrossConcurrentCalls(t *testing.T) {
	w, prog := newOverlapWorld(t, 2)
	p := &Provider{Program: prog, Parallel: 2}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, zone := range []string{"example.com.", "example.net."} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = p.AppendRecords(context.Background(), zone, txts("a", "b", "c"))
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	counts := w.counts(t)
	if len(counts) != 6 {
		t.Fatalf("%d runs, want 6", len(counts))
	}
	if got := slices.Max(counts); got != 2 {
		t.Fatalf("at most %d runs at once (counts %v), want 2", got, counts)
	}
}

// One failing program among several: the error names that record with the
// script's own words, every other record is still written and returned as
// done, and cleaning up what was done runs the program for each of them.
func TestParallelFailureReportsItsRecordAndRunsTheOthers(t *testing.T) {
	w, prog := newOverlapWorld(t, 1)
	p := &Provider{Program: prog, Parallel: 3}
	recs := txts("a", "b", "fail", "d", "e")
	done, err := p.AppendRecords(context.Background(), "example.com.", recs)
	if err == nil || !strings.Contains(err.Error(), "present _acme-challenge.n2.example.com.: exit status 3: backend said no") {
		t.Fatalf("err = %v", err)
	}
	if strings.Count(err.Error(), "exit status") != 1 {
		t.Fatalf("err names more than the failing record: %v", err)
	}
	var got []string
	for _, r := range done {
		got = append(got, r.RR().Data)
	}
	if want := []string{"a", "b", "d", "e"}; !slices.Equal(got, want) {
		t.Fatalf("done = %v, want %v (in the order given)", got, want)
	}
	if _, err := p.DeleteRecords(context.Background(), "example.com.", done); err != nil {
		t.Fatal(err)
	}
	calls := w.calls(t)
	for _, v := range []string{"a", "b", "d", "e"} {
		for _, action := range []string{"present", "cleanup"} {
			if !slices.ContainsFunc(calls, func(c string) bool { return strings.HasPrefix(c, action+" ") && strings.HasSuffix(c, " "+v) }) {
				t.Errorf("no %s of %s in %v", action, v, calls)
			}
		}
	}
}

// Two values at one FQDN (an apex and its wildcard) are never written by
// overlapping runs, and go in the order given, even with room for more.
func TestParallelRunsForOneNameStayInOrder(t *testing.T) {
	w, prog := newOverlapWorld(t, 1)
	p := &Provider{Program: prog, Parallel: 4}
	recs := []libdns.Record{
		libdns.TXT{Name: "_acme-challenge", Text: "first"},
		libdns.TXT{Name: "_acme-challenge", Text: "second"},
	}
	if _, err := p.AppendRecords(context.Background(), "example.com.", recs); err != nil {
		t.Fatal(err)
	}
	if got := slices.Max(w.counts(t)); got != 1 {
		t.Fatalf("%d runs for one name at once, want 1", got)
	}
	b, _ := os.ReadFile(filepath.Join(w.dir, "calls"))
	if want := "present _acme-challenge.example.com. first\npresent _acme-challenge.example.com. second\n"; string(b) != want {
		t.Fatalf("calls:\n%s\nwant:\n%s", b, want)
	}
}

func TestParallelFromEnv(t *testing.T) {
	for _, tc := range []struct {
		v    string
		want int
		err  string
	}{{v: "", want: 0}, {v: "1", want: 1}, {v: "8", want: 8}, {v: "0", err: "EXEC_PARALLEL"}, {v: "-2", err: "EXEC_PARALLEL"}, {v: "many", err: "EXEC_PARALLEL"}} {
		p, err := FromEnv(func(k string) (string, bool) {
			return map[string]string{"EXEC_PATH": "/bin/true", "EXEC_PARALLEL": tc.v}[k], true
		})
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("EXEC_PARALLEL=%q: err = %v, want %q", tc.v, err, tc.err)
			}
			continue
		}
		if err != nil || p.Parallel != tc.want {
			t.Errorf("EXEC_PARALLEL=%q: Parallel = %v, %v; want %d", tc.v, p, err, tc.want)
		}
	}
}
