// Package view is the in-memory copy of the challenge zone's dynamic data
// (registered subdomains and their TXT values) that DNS answers come from.
// The store is the source of truth; a Follower keeps the View in step with
// it, so DNS never waits on the database (a stalled database froze
// acme-dns's DNS: https://github.com/acme-dns/acme-dns/pull/425).
package view

import (
	"cmp"
	"encoding/base64"
	"encoding/binary"
	"slices"
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
// The representation is compact and holds no pointers per account, since a
// server may hold 100,000 accounts and the garbage collector would
// otherwise trace every one of them in every cycle while DNS answers
// allocate:
//
//   - a subdomain that is a UUID (every account this server creates) is
//     its 16 bytes in one sorted array, found by binary search; other
//     subdomains (imported, hand-made) are in a small map;
//   - each subdomain has one offset (4 bytes) into an arena, byte slices
//     of 256 KiB holding the values of all subdomains; 0 means no values;
//   - the values of one subdomain are one record in the arena: their
//     count, then per value its expiry (Unix milliseconds) and its text,
//     oldest first; a dns-01 value (43 base64url characters, the SHA-256
//     digest of RFC 8555 §8.4) is kept as its 32 bytes.
//
// A changed subdomain gets a new record at the end of the arena; records
// are never changed in place, and the arena is rewritten once most of it
// is records no longer used.
type View struct {
	now   func() time.Time
	mu    sync.RWMutex
	ids   []uuid   // sorted
	refs  []uint32 // refs[i]: record of ids[i]
	other map[string]uint32
	zone  map[string][]entry
	arena arena
	dead  int    // bytes of arena in records no longer referenced
	rec   []byte // scratch for encoding a record
	limit int
}

// arena holds records in chunks of chunkSize bytes (a larger record gets
// a chunk of its own), so that growing it never copies what is there.
// An offset is the chunk's index in the high bits and the position in it
// in the low chunkBits; the first byte is unused, so that 0 is no record.
type arena struct {
	chunks [][]byte
	used   int // bytes in use over all chunks
}

const (
	chunkBits = 18
	chunkSize = 1 << chunkBits
)

func newArena() arena { return arena{chunks: [][]byte{make([]byte, 1, chunkSize)}, used: 1} }

// add copies rec into a and returns its offset.
func (a *arena) add(rec []byte) uint32 {
	i := len(a.chunks) - 1
	if len(a.chunks[i])+len(rec) > cap(a.chunks[i]) {
		if len(a.chunks) == 1<<(32-chunkBits) {
			panic("view: arena full (4 GiB)")
		}
		a.chunks = append(a.chunks, make([]byte, 0, max(chunkSize, len(rec))))
		i++
	}
	off := uint32(i)<<chunkBits | uint32(len(a.chunks[i]))
	a.chunks[i] = append(a.chunks[i], rec...)
	a.used += len(rec)
	return off
}

// at returns the bytes from off to the end of its chunk.
func (a *arena) at(off uint32) []byte { return a.chunks[off>>chunkBits][off&(chunkSize-1):] }

// uuid is a UUID's 16 bytes as two big-endian halves, so that comparing
// keys is two integer comparisons.
type uuid struct{ hi, lo uint64 }

func (a uuid) cmp(b uuid) int {
	if c := cmp.Compare(a.hi, b.hi); c != 0 {
		return c
	}
	return cmp.Compare(a.lo, b.lo)
}

// entry is one value: its text and its expiry in Unix milliseconds.
type entry struct {
	text    string
	expires int64
}

// toEntries returns the values of vals oldest first: by Updated, then by
// text, the order in which the store keeps the newest (store.Store.PutTXT).
func toEntries(vals []store.Value) []entry {
	return appendEntries(nil, vals)
}

// appendEntries is toEntries appending to dst; vals is not changed, and
// not copied when it is in order already (as store.Store.Load gives it).
func appendEntries(dst []entry, vals []store.Value) []entry {
	if len(vals) == 0 {
		return dst
	}
	oldestFirst := func(a, b store.Value) int {
		if c := a.Updated.Compare(b.Updated); c != 0 {
			return c
		}
		return strings.Compare(a.Text, b.Text)
	}
	if !slices.IsSortedFunc(vals, oldestFirst) {
		vals = slices.Clone(vals)
		slices.SortFunc(vals, oldestFirst)
	}
	for _, v := range vals {
		dst = append(dst, entry{text: v.Text, expires: v.Expires.UnixMilli()})
	}
	return dst
}

// New returns an empty View that judges expiry by now (time.Now if nil).
func New(now func() time.Time) *View {
	if now == nil {
		now = time.Now
	}
	return &View{now: now, other: map[string]uint32{}, zone: map[string][]entry{}, arena: newArena()}
}

// uuidKey parses a canonical lower-case UUID (8-4-4-4-12 hex digits).
func uuidKey(s string) (k uuid, ok bool) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return k, false
	}
	n := 0
	for i := 0; i < 36; i++ {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			continue
		}
		d, ok := hexVal(s[i])
		if !ok {
			return k, false
		}
		if n < 16 {
			k.hi = k.hi<<4 | uint64(d)
		} else {
			k.lo = k.lo<<4 | uint64(d)
		}
		n++
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

// find returns the index of k in v.ids, or where it would go.
func (v *View) find(k uuid) (int, bool) {
	return slices.BinarySearchFunc(v.ids, k, uuid.cmp)
}

// ref returns the record offset of the subdomain label (lower case) and
// whether it is registered. Callers hold v.mu.
func (v *View) ref(label string) (uint32, bool) {
	if id, ok := uuidKey(label); ok {
		i, found := v.find(id)
		if !found {
			return 0, false
		}
		return v.refs[i], true
	}
	r, ok := v.other[label]
	return r, ok
}

// setRef registers the subdomain label (lower case) with record r, and
// counts the record it had before as dead. Callers hold v.mu for writing.
func (v *View) setRef(label string, r uint32) {
	var old uint32
	if id, ok := uuidKey(label); ok {
		i, found := v.find(id)
		if found {
			old = v.refs[i]
			v.refs[i] = r
		} else {
			v.ids = slices.Insert(v.ids, i, id)
			v.refs = slices.Insert(v.refs, i, r)
		}
	} else {
		old = v.other[label]
		v.other[label] = r
	}
	v.dead += recordLen(&v.arena, old)
}

// delRef forgets the subdomain label (lower case). Callers hold v.mu for
// writing.
func (v *View) delRef(label string) {
	var old uint32
	if id, ok := uuidKey(label); ok {
		i, found := v.find(id)
		if !found {
			return
		}
		old = v.refs[i]
		v.ids = slices.Delete(v.ids, i, i+1)
		v.refs = slices.Delete(v.refs, i, i+1)
	} else {
		old = v.other[label]
		delete(v.other, label)
	}
	v.dead += recordLen(&v.arena, old)
}

// Record encoding. A record is uvarint(count), then per value 8 bytes of
// expiry (little-endian Unix milliseconds) and uvarint(len<<1 | digest)
// followed by len bytes: with digest set, the 32 bytes of a value that is
// their unpadded base64url form, else the text itself.
var b64 = base64.RawURLEncoding.Strict()

// addRecord adds the record of es to a, encoded in scratch, and returns
// its offset and scratch; es empty adds nothing and gives offset 0.
func addRecord(a *arena, scratch []byte, es []entry) (uint32, []byte) {
	if len(es) == 0 {
		return 0, scratch
	}
	arena := scratch[:0]
	arena = binary.AppendUvarint(arena, uint64(len(es)))
	for _, e := range es {
		arena = binary.LittleEndian.AppendUint64(arena, uint64(e.expires))
		if len(e.text) == 43 {
			var d [32]byte
			if n, err := b64.Decode(d[:], []byte(e.text)); err == nil && n == 32 {
				arena = binary.AppendUvarint(arena, 32<<1|1)
				arena = append(arena, d[:]...)
				continue
			}
		}
		arena = binary.AppendUvarint(arena, uint64(len(e.text))<<1)
		arena = append(arena, e.text...)
	}
	return a.add(arena), arena
}

// record reads the record at an offset, one value at a time.
type record struct {
	p    []byte
	left uint64 // values not yet read
	i    int    // read position in p
}

func readRecord(a *arena, off uint32) record {
	if off == 0 {
		return record{}
	}
	p := a.at(off)
	n, k := binary.Uvarint(p)
	return record{p: p, left: n, i: k}
}

// next returns the next value's expiry and bytes (digest: the 32 bytes
// of a base64url text); ok is false after the last.
func (r *record) next() (expires int64, raw []byte, digest, ok bool) {
	if r.left == 0 {
		return 0, nil, false, false
	}
	r.left--
	expires = int64(binary.LittleEndian.Uint64(r.p[r.i:]))
	r.i += 8
	l, k := binary.Uvarint(r.p[r.i:])
	r.i += k
	raw = r.p[r.i : r.i+int(l>>1)]
	r.i += int(l >> 1)
	return expires, raw, l&1 == 1, true
}

// recordLen returns the length in bytes of the record at off (0 for none).
func recordLen(a *arena, off uint32) int {
	r := readRecord(a, off)
	for {
		if _, _, _, ok := r.next(); !ok {
			return r.i
		}
	}
}

func text(raw []byte, digest bool) string {
	if digest {
		return b64.EncodeToString(raw)
	}
	return string(raw)
}

// entries decodes the record at off, oldest first.
func entries(a *arena, off uint32) []entry {
	var es []entry
	r := readRecord(a, off)
	for {
		exp, raw, digest, ok := r.next()
		if !ok {
			return es
		}
		es = append(es, entry{text: text(raw, digest), expires: exp})
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
	buf, ends, exists := v.AppendLive(nil, nil, label)
	if len(ends) == 0 {
		return nil, exists
	}
	// One string that the values share.
	all := string(buf)
	txt = make([]string, len(ends))
	start := 0
	for i, end := range ends {
		txt[i], start = all[start:end], end
	}
	return txt, exists
}

// AppendLive is Lookup without allocating: it appends the texts of
// label's live values, newest first and at most the limit, to dst, and
// the end of each text in the result to ends (so value i is
// dst[ends[i-1]:ends[i]], from the first appended byte for i = 0).
// Callers that reuse dst and ends answer a question without garbage.
func (v *View) AppendLive(dst []byte, ends []int, label string) ([]byte, []int, bool) {
	now := v.now().UnixMilli()
	v.mu.RLock()
	defer v.mu.RUnlock()
	off, ok := v.ref(label)
	if !ok {
		return dst, ends, false
	}
	if off == 0 {
		return dst, ends, true
	}
	// The record is oldest first and can only be read forwards: note where
	// each live value starts, then write them from the last.
	var small [16]int
	live := small[:0]
	r := readRecord(&v.arena, off)
	for {
		at := r.i
		exp, _, _, ok := r.next()
		if !ok {
			break
		}
		if now < exp {
			live = append(live, at)
		}
	}
	first := 0
	if v.limit > 0 && len(live) > v.limit {
		first = len(live) - v.limit
	}
	for i := len(live) - 1; i >= first; i-- {
		one := record{p: r.p, left: 1, i: live[i]}
		_, raw, digest, _ := one.next()
		if digest {
			dst = b64.AppendEncode(dst, raw)
		} else {
			dst = append(dst, raw...)
		}
		ends = append(ends, len(dst))
	}
	return dst, ends, true
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

// get returns the values of key (a subdomain or a store.ZoneKey, lower
// case), oldest first. Callers hold v.mu.
func (v *View) get(key string) ([]entry, bool) {
	if z, ok := strings.CutPrefix(key, store.ZonePrefix); ok {
		e, ok := v.zone[z]
		return e, ok
	}
	off, ok := v.ref(key)
	if !ok {
		return nil, false
	}
	return entries(&v.arena, off), true
}

// set replaces the values of key (a subdomain or a store.ZoneKey, lower
// case) with es, oldest first. Callers hold v.mu for writing.
func (v *View) set(key string, es []entry) {
	if z, ok := strings.CutPrefix(key, store.ZonePrefix); ok {
		v.zone[z] = es
		return
	}
	var off uint32
	off, v.rec = addRecord(&v.arena, v.rec, es)
	v.setRef(key, off)
	v.compact()
}

// compact rewrites the arena once more than half of it (and more than
// 64 KiB) is dead records.
func (v *View) compact() {
	if v.dead < 64<<10 || v.dead < v.arena.used/2 {
		return
	}
	n := newArena()
	move := func(off uint32) uint32 {
		if off == 0 {
			return 0
		}
		return n.add(v.arena.at(off)[:recordLen(&v.arena, off)])
	}
	for i, off := range v.refs {
		v.refs[i] = move(off)
	}
	for k, off := range v.other {
		v.other[k] = move(off)
	}
	v.arena, v.dead = n, 0
}

// Set replaces the values of subdomain (registering it if needed); vals are
// ordered by Updated here.
func (v *View) Set(subdomain string, vals []store.Value) {
	e := toEntries(vals)
	v.mu.Lock()
	v.set(strings.ToLower(subdomain), e)
	v.mu.Unlock()
}

// Put adds or refreshes one value of subdomain, keeping at most limit values
// (newest by Updated; limit < 1: no limit), as store.Store.PutTXT does.
func (v *View) Put(subdomain string, val store.Value, limit int) {
	now := v.now().UnixMilli()
	key := strings.ToLower(subdomain)
	v.mu.Lock()
	defer v.mu.Unlock()
	old, _ := v.get(key)
	vals := make([]entry, 0, len(old)+1)
	for _, x := range old {
		if x.text != val.Text && now < x.expires {
			vals = append(vals, x)
		}
	}
	vals = append(vals, entry{text: val.Text, expires: val.Expires.UnixMilli()})
	if limit > 0 && len(vals) > limit {
		vals = vals[len(vals)-limit:]
	}
	v.set(key, vals)
}

// Remove drops the value text of subdomain, or all its values if text is "".
func (v *View) Remove(subdomain, text string) {
	key := strings.ToLower(subdomain)
	v.mu.Lock()
	defer v.mu.Unlock()
	old, ok := v.get(key)
	if !ok {
		return
	}
	var vals []entry
	for _, x := range old {
		if text != "" && x.text != text {
			vals = append(vals, x)
		}
	}
	v.set(key, vals)
}

// Delete forgets subdomain: DNS answers NXDOMAIN for it afterwards.
func (v *View) Delete(subdomain string) {
	key := strings.ToLower(subdomain)
	v.mu.Lock()
	defer v.mu.Unlock()
	if z, ok := strings.CutPrefix(key, store.ZonePrefix); ok {
		delete(v.zone, z)
		return
	}
	v.delRef(key)
}

// builder collects a whole new content of a View, one subdomain at a time.
type builder struct {
	recs  []idRef
	other map[string]uint32
	zone  map[string][]entry
	arena arena
	rec   []byte
	ents  []entry // scratch for one subdomain's values
}

type idRef struct {
	id  uuid
	off uint32
}

func newBuilder() *builder {
	return &builder{other: map[string]uint32{}, zone: map[string][]entry{}, arena: newArena()}
}

// add sets the values of key (a subdomain or a store.ZoneKey, any case).
func (b *builder) add(key string, vals []store.Value) {
	key = strings.ToLower(key)
	if z, ok := strings.CutPrefix(key, store.ZonePrefix); ok {
		b.zone[z] = toEntries(vals)
		return
	}
	var off uint32
	b.ents = appendEntries(b.ents[:0], vals)
	off, b.rec = addRecord(&b.arena, b.rec, b.ents)
	if id, ok := uuidKey(key); ok {
		if len(b.recs) == cap(b.recs) {
			// Double, not the quarter append grows a large slice by.
			b.recs = slices.Grow(b.recs, max(1024, len(b.recs)))
		}
		b.recs = append(b.recs, idRef{id, off})
	} else {
		b.other[key] = off
	}
}

// swap makes b's content the View's.
func (v *View) swap(b *builder) {
	slices.SortStableFunc(b.recs, func(x, y idRef) int { return x.id.cmp(y.id) })
	// A key added twice keeps its last values.
	recs := b.recs[:0]
	for i, r := range b.recs {
		if i+1 < len(b.recs) && b.recs[i+1].id == r.id {
			continue
		}
		recs = append(recs, r)
	}
	ids := make([]uuid, len(recs))
	refs := make([]uint32, len(recs))
	for i, r := range recs {
		ids[i], refs[i] = r.id, r.off
	}
	v.mu.Lock()
	v.ids, v.refs, v.other, v.zone, v.arena, v.dead = ids, refs, b.other, b.zone, b.arena, 0
	v.mu.Unlock()
}

// Replace swaps the whole content for subs (keys any case).
func (v *View) Replace(subs map[string][]store.Value) {
	b := newBuilder()
	for k, vals := range subs {
		b.add(k, vals)
	}
	v.swap(b)
}

// Len returns the number of registered subdomains.
func (v *View) Len() int {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return len(v.ids) + len(v.other)
}
