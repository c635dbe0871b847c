package providers

import "sync"

// ZoneLocks serialises a provider's changes to one zone: a change that
// reads an RRset and writes it back whole would lose another change's
// value if both ran at once. Keys are the provider's zone names or IDs.
// The zero value is ready; it is safe for concurrent use.
type ZoneLocks struct {
	mu sync.Mutex
	m  map[string]*sync.Mutex
}

// Lock waits until no other change to key runs and returns its unlock.
func (l *ZoneLocks) Lock(key string) (unlock func()) {
	l.mu.Lock()
	if l.m == nil {
		l.m = map[string]*sync.Mutex{}
	}
	m := l.m[key]
	if m == nil {
		m = &sync.Mutex{}
		l.m[key] = m
	}
	l.mu.Unlock()
	m.Lock()
	return m.Unlock
}
