package view

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/strictacme/strictacme/internal/challengeserver/store"
)

// UUID subdomains (kept by their 16 bytes) and other labels behave alike:
// registered without values, newest first, limited, expired, removed.
func TestViewKeys(t *testing.T) {
	t0 := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	now := t0
	v := New(func() time.Time { return now })
	v.SetLimit(2)
	for _, sub := range []string{"d420c923-0000-4000-8000-c3ca54c9b3cf", "custom-label", "D420C923-0000-4000-8000-C3CA54C9B3CE"} {
		label := lower(sub)
		v.Set(sub, nil)
		if txt, ok := v.Lookup(label); !ok || txt != nil {
			t.Fatalf("%s registered without values: %v %v", sub, txt, ok)
		}
		for i, text := range []string{"a", "b", "c"} {
			up := t0.Add(time.Duration(i) * time.Second)
			v.Put(sub, store.Value{Text: text, Updated: up, Expires: up.Add(time.Minute)}, 0)
		}
		if txt, _ := v.Lookup(label); !slices.Equal(txt, []string{"c", "b"}) {
			t.Fatalf("%s: %v, want the two newest, newest first", sub, txt)
		}
		v.Remove(sub, "c")
		if txt, _ := v.Lookup(label); !slices.Equal(txt, []string{"b", "a"}) {
			t.Fatalf("%s after removing c: %v", sub, txt)
		}
		now = t0.Add(60*time.Second + 500*time.Millisecond)
		if txt, ok := v.Lookup(label); !ok || !slices.Equal(txt, []string{"b"}) {
			t.Fatalf("%s after a expired: %v %v", sub, txt, ok)
		}
		now = t0
	}
	if v.Len() != 3 {
		t.Fatalf("Len %d", v.Len())
	}
	v.Delete("CUSTOM-label")
	if _, ok := v.Lookup("custom-label"); ok || v.Len() != 2 {
		t.Fatal("custom-label not deleted")
	}
	v.Replace(map[string][]store.Value{"x": nil, store.ZoneKey("_acme-challenge"): {{Text: "z", Expires: t0.Add(time.Hour)}}})
	if _, ok := v.Lookup("d420c923-0000-4000-8000-c3ca54c9b3cf"); ok || v.Len() != 1 || !slices.Equal(v.ZoneTXT("_acme-challenge"), []string{"z"}) {
		t.Fatal("Replace")
	}
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}

// Thousands of updates over many subdomains leave the arena rewritten
// several times; every subdomain still answers exactly its live values,
// newest first, whether a value is a dns-01 digest (kept as 32 bytes), a
// 43-character text that is not canonical base64url, or any other text.
func TestViewAnswersAfterArenaRewrites(t *testing.T) {
	t0 := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	now := t0
	v := New(func() time.Time { return now })
	v.SetLimit(3)
	texts := []string{
		"LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0", // base64url of a SHA-256 digest
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA1", // 43 characters, not canonical
		"short", "", strings.Repeat("x", 200),
	}
	const subs = 300
	name := func(i int) string {
		if i%7 == 0 {
			return fmt.Sprintf("label-%d", i)
		}
		return fmt.Sprintf("%08x-0000-4000-8000-%012x", i*7919, i)
	}
	want := map[string][]string{} // oldest first
	for i := range subs {
		v.Set(name(i), nil)
		want[name(i)] = nil
	}
	for round := range 40 {
		for i := range subs {
			if (i+round)%3 == 0 {
				continue
			}
			text := fmt.Sprintf("%s-%d", texts[(i+round)%len(texts)], round%5)
			if (i+round)%len(texts) == 0 {
				text = texts[0]
			}
			up := t0.Add(time.Duration(round) * time.Millisecond)
			v.Put(name(i), store.Value{Text: text, Updated: up, Expires: t0.Add(time.Hour)}, 3)
			w := slices.DeleteFunc(want[name(i)], func(s string) bool { return s == text })
			w = append(w, text)
			if len(w) > 3 {
				w = w[len(w)-3:]
			}
			want[name(i)] = w
		}
		if round%10 == 9 {
			v.Remove(name(round), "")
			want[name(round)] = nil
			v.Delete(name(round + 1))
			delete(want, name(round+1))
		}
	}
	// About 1.5 MB of records were written, some 60 KB are live.
	if v.arena.used > 256<<10 {
		t.Fatalf("arena never rewritten: %d bytes, %d dead", v.arena.used, v.dead)
	}
	if v.Len() != len(want) {
		t.Fatalf("Len %d, want %d", v.Len(), len(want))
	}
	for i := range subs {
		got, ok := v.Lookup(name(i))
		w, registered := want[name(i)]
		if ok != registered {
			t.Fatalf("%s: registered %v, want %v", name(i), ok, registered)
		}
		rev := slices.Clone(w)
		slices.Reverse(rev)
		if !slices.Equal(got, rev) {
			t.Fatalf("%s: %q, want %q", name(i), got, rev)
		}
	}
}

// A record larger than an arena chunk (long values, txt.limit off)
// gets a chunk of its own, and the subdomains added after it still answer.
func TestViewHoldsARecordLargerThanAChunk(t *testing.T) {
	t0 := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	v := New(func() time.Time { return t0 })
	big := strings.Repeat("v", 60_000)
	var want []string
	for i := range 5 {
		text := fmt.Sprintf("%04d%s", i, big)
		v.Put("big", store.Value{Text: text, Updated: t0, Expires: t0.Add(time.Hour)}, 0)
		want = append([]string{text}, want...)
	}
	v.Put("after", store.Value{Text: "x", Updated: t0, Expires: t0.Add(time.Hour)}, 0)
	if got, _ := v.Lookup("big"); !slices.Equal(got, want) {
		t.Fatalf("big: %d values, want %d", len(got), len(want))
	}
	if got, _ := v.Lookup("after"); !slices.Equal(got, []string{"x"}) {
		t.Fatalf("after: %q", got)
	}
}

// Lookups running while updates add records, start new chunks and rewrite
// the arena always see a whole record: each subdomain's answer is one of
// the values written to it, never bytes of another (run with -race).
func TestViewLookupsDuringUpdatesSeeWholeRecords(t *testing.T) {
	t0 := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	v := New(func() time.Time { return t0 })
	v.SetLimit(1)
	const subs = 50
	name := func(i int) string { return fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i) }
	for i := range subs {
		v.Put(name(i), store.Value{Text: fmt.Sprintf("%s/%d", name(i), 0), Expires: t0.Add(time.Hour)}, 1)
	}
	done, stop := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for n := 1; n < 1000; n++ {
			for i := range subs {
				v.Put(name(i), store.Value{Text: fmt.Sprintf("%s/%d%s", name(i), n, strings.Repeat("x", n%200)), Expires: t0.Add(time.Hour)}, 1)
			}
			select {
			case <-stop:
				return
			default:
			}
		}
	}()
	var bad string
	for running := true; running && bad == ""; {
		select {
		case <-done:
			running = false
		default:
		}
		for i := range subs {
			txt, ok := v.Lookup(name(i))
			if !ok || len(txt) != 1 || !strings.HasPrefix(txt[0], name(i)+"/") {
				bad = fmt.Sprintf("%s: %q %v", name(i), txt, ok)
				break
			}
		}
	}
	close(stop)
	<-done
	if bad != "" {
		t.Fatal(bad)
	}
}
