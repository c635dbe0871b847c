// Package view is the in-memory copy of the challenge zone's dynamic data
// (registered subdomains and their TXT values) that DNS answers come from.
// The store is the source of truth; a Follower keeps the View in step with
// it, so DNS never waits on the database (a stalled database froze
// acme-dns's DNS: https://github.com/acme-dns/acme-dns/pull/425).
package view

import (
	"strings"
	"sync"
	"time"

	"github.com/strictacme/strictacme/internal/challengeserver/store"
)

// View maps lower-case subdomain labels to their TXT values. The zero value
// is not usable; call New. Safe for concurrent use.
//
// Keys starting with store.ZonePrefix are the server's own TXT values at
// names inside the zone (store.ZoneKey); they are kept apart from the
// subdomains, answered by ZoneTXT and not counted by Len.
//
// Each slice of values is kept in the order of their Updated time, oldest
// first; answers are built from its end.
type View struct {
	now   func() time.Time
	mu    sync.RWMutex
	subs  map[string][]store.Value
	zone  map[string][]store.Value
	limit int
}

// New returns an empty View that judges expiry by now (time.Now if nil).
func New(now func() time.Time) *View {
	if now == nil {
		now = time.Now
	}
	return &View{now: now, subs: make(map[string][]store.Value), zone: make(map[string][]store.Value)}
}

// SetLimit makes Lookup return at most n values per subdomain (the newest);
// n < 1 means no limit. Call it before serving.
func (v *View) SetLimit(n int) {
	v.mu.Lock()
	v.limit = n
	v.mu.Unlock()
}

// Lookup returns the TXT strings of label that are live now, newest first,
// at most the limit set by SetLimit, and whether label is a registered
// subdomain. label must be lower case.
//
// Newest first: when an answer has to be cut (UDP without EDNS, 512
// bytes, holds about seven values), what is dropped is the oldest values,
// while the newest one is the one a CA is validating now.
func (v *View) Lookup(label string) (txt []string, exists bool) {
	now := v.now()
	v.mu.RLock()
	vals, ok := v.subs[label]
	limit := v.limit
	v.mu.RUnlock()
	if !ok {
		return nil, false
	}
	return newest(vals, now, limit), true
}

// newest returns the texts of the live values of vals (oldest first),
// newest first, at most limit (< 1: all).
func newest(vals []store.Value, now time.Time, limit int) []string {
	var txt []string
	for i := len(vals) - 1; i >= 0 && (limit < 1 || len(txt) < limit); i-- {
		if vals[i].Live(now) {
			txt = append(txt, vals[i].Text)
		}
	}
	return txt
}

// ZoneTXT returns the live values of the server's own TXT records at name
// (relative to the zone, lower case, "@" for the apex), newest first; nil
// when there are none.
func (v *View) ZoneTXT(name string) []string {
	now := v.now()
	v.mu.RLock()
	vals := v.zone[name]
	v.mu.RUnlock()
	return newest(vals, now, 0)
}

// table returns the map and key for k (subdomain or store.ZoneKey).
// Callers hold v.mu.
func (v *View) table(k string) (map[string][]store.Value, string) {
	k = strings.ToLower(k)
	if z, ok := strings.CutPrefix(k, store.ZonePrefix); ok {
		return v.zone, z
	}
	return v.subs, k
}

// Set replaces the values of subdomain (registering it if needed). vals is
// kept, not copied: callers must not modify it afterwards.
func (v *View) Set(subdomain string, vals []store.Value) {
	if vals == nil {
		vals = []store.Value{}
	}
	v.mu.Lock()
	m, k := v.table(subdomain)
	m[k] = vals
	v.mu.Unlock()
}

// Put adds or refreshes one value of subdomain, keeping at most limit values
// (newest by Updated; limit < 1: no limit), as store.Store.PutTXT does.
func (v *View) Put(subdomain string, val store.Value, limit int) {
	now := v.now()
	v.mu.Lock()
	defer v.mu.Unlock()
	m, k := v.table(subdomain)
	old := m[k]
	vals := make([]store.Value, 0, len(old)+1)
	for _, x := range old {
		if x.Text != val.Text && x.Live(now) {
			vals = append(vals, x)
		}
	}
	vals = append(vals, val)
	if limit > 0 && len(vals) > limit {
		vals = vals[len(vals)-limit:]
	}
	m[k] = vals
}

// Remove drops the value text of subdomain, or all its values if text is "".
func (v *View) Remove(subdomain, text string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	m, k := v.table(subdomain)
	old, ok := m[k]
	if !ok {
		return
	}
	vals := make([]store.Value, 0, len(old))
	for _, x := range old {
		if text != "" && x.Text != text {
			vals = append(vals, x)
		}
	}
	m[k] = vals
}

// Delete forgets subdomain: DNS answers NXDOMAIN for it afterwards.
func (v *View) Delete(subdomain string) {
	v.mu.Lock()
	m, k := v.table(subdomain)
	delete(m, k)
	v.mu.Unlock()
}

// Replace swaps the whole content for subs (keys any case).
func (v *View) Replace(subs map[string][]store.Value) {
	m := make(map[string][]store.Value, len(subs))
	zone := make(map[string][]store.Value)
	for k, vals := range subs {
		if vals == nil {
			vals = []store.Value{}
		}
		k = strings.ToLower(k)
		if z, ok := strings.CutPrefix(k, store.ZonePrefix); ok {
			zone[z] = vals
			continue
		}
		m[k] = vals
	}
	v.mu.Lock()
	v.subs, v.zone = m, zone
	v.mu.Unlock()
}

// Len returns the number of registered subdomains.
func (v *View) Len() int {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return len(v.subs)
}
