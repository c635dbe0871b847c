package issue

import (
	"context"
	"fmt"
	"testing"

	"github.com/strictacme/strictacme/internal/testworld"
)

// BenchmarkObtain measures time to certificate on the test world with the
// default DoH strategy, for one order of 1, 10 and 100 names, and the DNS
// queries the client sends per name. "one-order-per-name" is the peer:
// the same names obtained name by name, the way clients that present, wait
// and clean up per name behave (case PR13).
func BenchmarkObtain(b *testing.B) {
	w := testworld.Start(b)
	for _, n := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("names=%d", n), func(b *testing.B) {
			benchOrders(b, w, n, false)
		})
	}
	b.Run("names=10/one-order-per-name", func(b *testing.B) {
		benchOrders(b, w, 10, true)
	})
}

// benchSeq keeps names unique across runs: a name reused within the TTL
// would be answered from the resolver's cache with the previous value.
var benchSeq int

func benchOrders(b *testing.B, w *testworld.World, n int, perName bool) {
	f := newFixture(b, w, func(_ *fixture, c *Config) { c.Propagation = dohStrategy(b, w) })
	w.Recursive.ResetCounts()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		benchSeq++
		var names []string
		for j := 0; j < n; j++ {
			names = append(names, fmt.Sprintf("h%d-%d.example.com", benchSeq, j))
		}
		orders := [][]string{names}
		if perName {
			orders = nil
			for _, name := range names {
				orders = append(orders, []string{name})
			}
		}
		for _, o := range orders {
			if _, err := f.is.Obtain(context.Background(), Request{Identifiers: ids(b, o...), KeyType: EC256}); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(w.Recursive.Queries())/float64(b.N*n), "queries/name")
}
