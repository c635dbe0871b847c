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
// The representation is compact, since a server may hold 100,000 accounts
// and most have no live value: a subdomain that is a UUID (every account
// this server creates) is keyed by its 16 bytes, with no string of its
// own; an account without values costs its map slot only; a value is its
// text and two Unix-millisecond times. Each account's values are kept
// oldest first (by Updated); answers are built from the end.
type View struct {
	now   func() time.Time
	mu    sync.RWMutex
	uuids map[[16]byte][]entry
	other map[string][]entry // subdomains that are not UUIDs (imported, hand-made)
	zone  map[string][]entry
	limit int
}

// entry is one value: text, and Updated and Expires in Unix milliseconds.
type entry struct {
	text             string
	updated, expires int64
}

func toEntry(v store.Value) entry {
	return entry{text: v.Text, updated: v.Updated.UnixMilli(), expires: v.Expires.UnixMilli()}
}

func toEntries(vals []store.Value) []entry {
	if len(vals) == 0 {
		return nil
	}
	out := make([]entry, len(vals))
	for i, v := range vals {
		out[i] = toEntry(v)
	}
	return out
}

// New returns an empty View that judges expiry by now (time.Now if nil).
func New(now func() time.Time) *View {
	if now == nil {
		now = time.Now
	}
	return &View{now: now, uuids: map[[16]byte][]entry{}, other: map[string][]entry{}, zone: map[string][]entry{}}
}

// uuidKey parses a canonical lower-case UUID (8-4-4-4-12 hex digits).
func uuidKey(s string) (k [16]byte, ok bool) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return k, false
	}
	j := 0
	for i := 0; i < 36; {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			i++
			continue
		}
		hi, ok1 := hexVal(s[i])
		lo, ok2 := hexVal(s[i+1])
		if !ok1 || !ok2 {
			return k, false
		}
		k[j] = hi<<4 | lo
		j++
		i += 2
	}
	return k, true
}

func hexVal(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// slot locates one key of the View. Callers hold v.mu.
type slot struct {
	v     *View
	uuid  [16]byte
	isID  bool
	name  string
	table map[string][]entry // other or zone when !isID
}

// at returns the slot of k (a subdomain or a store.ZoneKey, any case).
func (v *View) at(k string) slot {
	k = strings.ToLower(k)
	if z, ok := strings.CutPrefix(k, store.ZonePrefix); ok {
		return slot{v: v, name: z, table: v.zone}
	}
	if id, ok := uuidKey(k); ok {
		return slot{v: v, uuid: id, isID: true}
	}
	return slot{v: v, name: k, table: v.other}
}

func (s slot) get() ([]entry, bool) {
	if s.isID {
		e, ok := s.v.uuids[s.uuid]
		return e, ok
	}
	e, ok := s.table[s.name]
	return e, ok
}

func (s slot) set(e []entry) {
	if s.isID {
		s.v.uuids[s.uuid] = e
	} else {
		s.table[s.name] = e
	}
}

func (s slot) del() {
	if s.isID {
		delete(s.v.uuids, s.uuid)
	} else {
		delete(s.table, s.name)
	}
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
	now := v.now().UnixMilli()
	var vals []entry
	var ok bool
	v.mu.RLock()
	if id, isID := uuidKey(label); isID {
		vals, ok = v.uuids[id]
	} else {
		vals, ok = v.other[label]
	}
	limit := v.limit
	v.mu.RUnlock()
	if !ok {
		return nil, false
	}
	return newest(vals, now, limit), true
}

// newest returns the texts of the live values of vals (oldest first),
// newest first, at most limit (< 1: all).
func newest(vals []entry, now int64, limit int) []string {
	var txt []string
	for i := len(vals) - 1; i >= 0 && (limit < 1 || len(txt) < limit); i-- {
		if now < vals[i].expires {
			txt = append(txt, vals[i].text)
		}
	}
	return txt
}

// ZoneTXT returns the live values of the server's own TXT records at name
// (relative to the zone, lower case, "@" for the apex), newest first; nil
// when there are none.
func (v *View) ZoneTXT(name string) []string {
	now := v.now().UnixMilli()
	v.mu.RLock()
	vals := v.zone[name]
	v.mu.RUnlock()
	return newest(vals, now, 0)
}

// Set replaces the values of subdomain (registering it if needed); vals
// must be oldest first, as the store returns them.
func (v *View) Set(subdomain string, vals []store.Value) {
	e := toEntries(vals)
	v.mu.Lock()
	v.at(subdomain).set(e)
	v.mu.Unlock()
}

// Put adds or refreshes one value of subdomain, keeping at most limit values
// (newest by Updated; limit < 1: no limit), as store.Store.PutTXT does.
func (v *View) Put(subdomain string, val store.Value, limit int) {
	now := v.now().UnixMilli()
	v.mu.Lock()
	defer v.mu.Unlock()
	s := v.at(subdomain)
	old, _ := s.get()
	vals := make([]entry, 0, len(old)+1)
	for _, x := range old {
		if x.text != val.Text && now < x.expires {
			vals = append(vals, x)
		}
	}
	vals = append(vals, toEntry(val))
	if limit > 0 && len(vals) > limit {
		vals = vals[len(vals)-limit:]
	}
	s.set(vals)
}

// Remove drops the value text of subdomain, or all its values if text is "".
func (v *View) Remove(subdomain, text string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	s := v.at(subdomain)
	old, ok := s.get()
	if !ok {
		return
	}
	var vals []entry
	for _, x := range old {
		if text != "" && x.text != text {
			vals = append(vals, x)
		}
	}
	s.set(vals)
}

// Delete forgets subdomain: DNS answers NXDOMAIN for it afterwards.
func (v *View) Delete(subdomain string) {
	v.mu.Lock()
	v.at(subdomain).del()
	v.mu.Unlock()
}

// Replace swaps the whole content for subs (keys any case).
func (v *View) Replace(subs map[string][]store.Value) {
	n := &View{uuids: make(map[[16]byte][]entry, len(subs)), other: map[string][]entry{}, zone: map[string][]entry{}}
	for k, vals := range subs {
		n.at(k).set(toEntries(vals))
	}
	v.mu.Lock()
	v.uuids, v.other, v.zone = n.uuids, n.other, n.zone
	v.mu.Unlock()
}

// Len returns the number of registered subdomains.
func (v *View) Len() int {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return len(v.uuids) + len(v.other)
}
