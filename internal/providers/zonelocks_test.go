package providers

import (
	"runtime"
	"sync"
	"testing"
)

// Many read-modify-write cycles on one zone at once lose no update, and a
// lock held on one zone does not hold up another.
func TestZoneLocksSerialiseOneZoneAndLeaveOthersFree(t *testing.T) {
	var l ZoneLocks
	held := l.Lock("example.org.")
	l.Lock("example.net.")() // would deadlock if zones shared a lock

	const cycles = 200
	n := 0
	var wg sync.WaitGroup
	for range cycles {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer l.Lock("example.com.")()
			v := n
			runtime.Gosched()
			n = v + 1
		}()
	}
	wg.Wait()
	held()
	if n != cycles {
		t.Errorf("%d of %d cycles kept their update", n, cycles)
	}
}
