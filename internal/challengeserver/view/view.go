// Package view is the in-memory copy of the challenge zone's dynamic data
// (registered subdomains and their TXT values) that DNS answers come from.
// The store is the source of truth; a Follower keeps the View in step with
// it, so DNS never waits on the database (API.md §6 row 7).
package view

import (
	"strings"
	"sync"
	"time"

	"github.com/strictacme/strictacme/internal/challengeserver/store"
)

// View maps lower-case subdomain labels to their TXT values. The zero value
// is not usable; call New. Safe for concurrent use.
type View struct {
	now  func() time.Time
	mu   sync.RWMutex
	subs map[string][]store.Value
}

// New returns an empty View that judges expiry by now (time.Now if nil).
func New(now func() time.Time) *View {
	if now == nil {
		now = time.Now
	}
	return &View{now: now, subs: make(map[string][]store.Value)}
}

// Lookup returns the TXT strings of label that are live now, oldest first,
// and whether label is a registered subdomain. label must be lower case.
func (v *View) Lookup(label string) (txt []string, exists bool) {
	now := v.now()
	v.mu.RLock()
	vals, ok := v.subs[label]
	v.mu.RUnlock()
	if !ok {
		return nil, false
	}
	for _, x := range vals {
		if x.Live(now) {
			txt = append(txt, x.Text)
		}
	}
	return txt, true
}

// Set replaces the values of subdomain (registering it if needed). vals is
// kept, not copied: callers must not modify it afterwards.
func (v *View) Set(subdomain string, vals []store.Value) {
	if vals == nil {
		vals = []store.Value{}
	}
	k := strings.ToLower(subdomain)
	v.mu.Lock()
	v.subs[k] = vals
	v.mu.Unlock()
}

// Put adds or refreshes one value of subdomain, keeping at most limit values
// (newest by Updated; limit < 1: no limit), as store.Store.PutTXT does.
func (v *View) Put(subdomain string, val store.Value, limit int) {
	k := strings.ToLower(subdomain)
	now := v.now()
	v.mu.Lock()
	defer v.mu.Unlock()
	old := v.subs[k]
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
	v.subs[k] = vals
}

// Remove drops the value text of subdomain, or all its values if text is "".
func (v *View) Remove(subdomain, text string) {
	k := strings.ToLower(subdomain)
	v.mu.Lock()
	defer v.mu.Unlock()
	old, ok := v.subs[k]
	if !ok {
		return
	}
	vals := make([]store.Value, 0, len(old))
	for _, x := range old {
		if text != "" && x.Text != text {
			vals = append(vals, x)
		}
	}
	v.subs[k] = vals
}

// Delete forgets subdomain: DNS answers NXDOMAIN for it afterwards.
func (v *View) Delete(subdomain string) {
	v.mu.Lock()
	delete(v.subs, strings.ToLower(subdomain))
	v.mu.Unlock()
}

// Replace swaps the whole content for subs (keys any case).
func (v *View) Replace(subs map[string][]store.Value) {
	m := make(map[string][]store.Value, len(subs))
	for k, vals := range subs {
		if vals == nil {
			vals = []store.Value{}
		}
		m[strings.ToLower(k)] = vals
	}
	v.mu.Lock()
	v.subs = m
	v.mu.Unlock()
}

// Len returns the number of registered subdomains.
func (v *View) Len() int {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return len(v.subs)
}
