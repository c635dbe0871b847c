// Package racetest helps tests make two writers of one RRset race: it is
// imported by provider tests only.
package racetest

import (
	"sync"
	"time"
)

// Hold bounds how long PairReads keeps a read waiting for its pair.
const Hold = 200 * time.Millisecond

// PairReads holds the first read of a zone (or a domain's RRsets) until a
// second read arrives, or for at most Hold: two writers that are not kept
// apart then both read the RRset before either writes it. Its zero value
// is ready; pass Read to a fake API's read callback.
type PairReads struct {
	mu      sync.Mutex
	waiting chan struct{}
}

// Read is the callback for each read; its argument (the zone) is unused.
func (b *PairReads) Read(string) {
	b.mu.Lock()
	if b.waiting != nil {
		close(b.waiting)
		b.waiting = nil
		b.mu.Unlock()
		return
	}
	ch := make(chan struct{})
	b.waiting = ch
	b.mu.Unlock()
	select {
	case <-ch:
	case <-time.After(Hold):
	}
	b.mu.Lock()
	if b.waiting == ch {
		b.waiting = nil
	}
	b.mu.Unlock()
}
